/* SPDX-License-Identifier: MIT */
/* bleak pair / unpair. Pairing asks on the terminal (cli_pairing_agent in
 * util.c) when the peripheral wants a passkey or a numeric comparison; Just
 * Works needs nothing. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int run_pair_cmd(const cli_command *cmd, const cli_global *g, int argc, char **argv,
                        bool pair) {
  static const struct option no_opts[] = {{NULL, 0, NULL, 0}};
  cli_global gl = *g;
  int id;
  while ((id = cli_getopt(argc, argv, no_opts, &gl)) != -1) {
    if (id == 'h') {
      cli_command_help(cmd, stdout);
      return CLI_OK;
    } else
      return cli_usage_error(cmd, "invalid option");
  }
  if (argc - optind != 1)
    return cli_usage_error(cmd, "wants one ADDR");
  bleak_client *c;
  int rc = cli_connect(&gl, argv[optind], NULL, &c); /* with the tool's agent */
  if (rc != CLI_OK)
    return rc;
  int r = pair ? bleak_client_pair(c) : bleak_client_unpair(c);
  if (r == 0)
    printf("%s %s\n", pair ? "Paired with" : "Removed the pairing with", argv[optind]);
  rc = r < 0 ? cli_fail(pair ? "pair" : "unpair", r) : CLI_OK;
  cli_close(&gl, c);
  return rc;
}

static int run_pair(const cli_global *g, int argc, char **argv) {
  return run_pair_cmd(&cli_cmd_pair, g, argc, argv, true);
}

static int run_unpair(const cli_global *g, int argc, char **argv) {
  return run_pair_cmd(&cli_cmd_unpair, g, argc, argv, false);
}

const cli_command cli_cmd_pair = {
    .name = "pair",
    .summary = "connect and pair (bond); asks on the terminal for passkeys",
    .usage = "ADDR [--yes]",
    .help = "Just Works pairing needs no answer; a passkey to type is read from stdin,\n"
            "a passkey to show is printed, a numeric comparison is asked (y/N) on a\n"
            "terminal, confirmed with --yes, declined otherwise. Every command has this\n"
            "agent: BlueZ pairs by itself when a value needs encryption.\n",
    .run = run_pair,
};

const cli_command cli_cmd_unpair = {
    .name = "unpair",
    .summary = "remove the pairing with a device (this disconnects it)",
    .usage = "ADDR",
    .help = "",
    .run = run_unpair,
};
