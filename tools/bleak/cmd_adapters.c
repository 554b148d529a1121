/* SPDX-License-Identifier: MIT */
/* bleak adapters / bleak devices: the local adapters and the devices the
 * backend knows (connected or paired), without scanning (bleak/adapter.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The options both take: --json, and --bond-dir for devices (hci). */
static int parse(const cli_command *cmd, const cli_global *g, cli_global *gl, int argc,
                 char **argv, bool *json, const char **bond_dir) {
  enum { OPT_DIR = 1 };
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"bond-dir", required_argument, NULL, OPT_DIR},
                                       {NULL, 0, NULL, 0}};
  *gl = *g;
  int id;
  while ((id = cli_getopt(argc, argv, opts, gl)) != -1) {
    if (id == 'h') {
      cli_command_help(cmd, stdout);
      return -1;
    } else if (id == 'j')
      *json = true;
    else if (id == OPT_DIR && bond_dir)
      *bond_dir = optarg;
    else
      return cli_usage_error(cmd, "invalid option");
  }
  if (optind != argc)
    return cli_usage_error(cmd, "takes no operands");
  return CLI_OK;
}

static void options(const cli_global *gl, const char *bond_dir, bleak_adapter_options *o) {
  bleak_adapter_options_init(o);
  o->backend = gl->backend;
  o->adapter = gl->adapter;
  o->hci_transport = gl->hci_transport;
  o->bond_dir = bond_dir;
  if (gl->timeout_set)
    o->timeout_ms = gl->timeout_ms;
}

static int run_adapters(const cli_global *g, int argc, char **argv) {
  cli_global gl;
  bool json = false;
  int rc = parse(&cli_cmd_adapters, g, &gl, argc, argv, &json, NULL);
  if (rc != CLI_OK)
    return rc < 0 ? CLI_OK : rc;
  bleak_adapter_options o;
  options(&gl, NULL, &o);
  bleak_adapter_info *v = NULL;
  size_t n = 0;
  int r = bleak_adapters_list(&o, &v, &n);
  if (r < 0)
    return cli_fail("adapters", r);
  for (size_t i = 0; i < n; i++) {
    if (json) {
      printf("{\"name\": ");
      cli_json_string(stdout, v[i].name);
      printf(", \"address\": \"%s\", \"powered\": %s, \"alias\": ", v[i].address,
             v[i].powered ? "true" : "false");
      cli_json_string(stdout, v[i].alias);
      printf("}\n");
    } else {
      printf("%s  %s  %s%s%s\n", v[i].name, v[i].address, v[i].powered ? "powered" : "off",
             v[i].alias[0] ? "  " : "", v[i].alias);
    }
  }
  if (!n && !json)
    printf("No adapters.\n");
  free(v);
  return CLI_OK;
}

static int run_devices(const cli_global *g, int argc, char **argv) {
  cli_global gl;
  bool json = false;
  const char *bond_dir = NULL;
  int rc = parse(&cli_cmd_devices, g, &gl, argc, argv, &json, &bond_dir);
  if (rc != CLI_OK)
    return rc < 0 ? CLI_OK : rc;
  bleak_adapter_options o;
  options(&gl, bond_dir, &o);
  bleak_known_device *v = NULL;
  size_t n = 0;
  int r = bleak_known_devices(&o, &v, &n);
  if (r < 0)
    return cli_fail("devices", r);
  for (size_t i = 0; i < n; i++) {
    if (json) {
      printf("{\"address\": \"%s\", \"name\": ", v[i].address);
      cli_json_string(stdout, v[i].name[0] ? v[i].name : NULL);
      printf(", \"adapter\": ");
      cli_json_string(stdout, v[i].adapter);
      printf(", \"connected\": %s, \"paired\": %s, \"bonded\": %s}\n",
             v[i].connected ? "true" : "false", v[i].paired ? "true" : "false",
             v[i].bonded ? "true" : "false");
    } else {
      printf("%s  %-20s %s%s%s  (%s)\n", v[i].address, v[i].name[0] ? v[i].name : "-",
             v[i].connected ? "connected " : "", v[i].paired ? "paired " : "",
             v[i].bonded ? "bonded" : "", v[i].adapter);
    }
  }
  if (!n && !json)
    printf("No known devices.\n");
  free(v);
  return CLI_OK;
}

const cli_command cli_cmd_adapters = {
    .name = "adapters",
    .summary = "list the local Bluetooth adapters (name, address, powered)",
    .usage = "[--json]",
    .help = "bluez: BlueZ's adapters (hci0, ...); hci: the controller of --hci (its own\n"
            "address).\n"
            "options:\n  --json   one JSON object per adapter\n",
    .run = run_adapters,
};

const cli_command cli_cmd_devices = {
    .name = "devices",
    .summary = "list the devices the backend knows: connected or paired (no scan)",
    .usage = "[--json] [--bond-dir DIR]",
    .help = "bluez: the devices BlueZ has that are connected, paired or bonded (of\n"
            "--adapter only, when given); hci: the bonds made with the controller's address.\n"
            "options:\n"
            "  --json           one JSON object per device\n"
            "  --bond-dir DIR   hci: the bond directory (default as bleak bonds)\n",
    .run = run_devices,
};
