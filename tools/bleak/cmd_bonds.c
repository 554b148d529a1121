/* SPDX-License-Identifier: MIT */
/* bleak bonds: the hci backend's bonds (bleak/bonds.h), listed or removed
 * without a connection. BlueZ keeps its own: bluetoothctl shows those. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int list_bonds(const char *dir) {
  bleak_bond_info *v = NULL;
  size_t n = 0, bad = 0;
  int r = bleak_bonds_list(dir, &v, &n, &bad);
  if (r < 0)
    return cli_fail("bonds", r);
  for (size_t i = 0; i < n; i++) {
    char when[32] = "?";
    time_t t = (time_t)v[i].created;
    struct tm tm;
    if (gmtime_r(&t, &tm))
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    printf("%s%s  key %d octets, %s, %s%s%s  (ours %s%s, since %s)\n", v[i].peer,
           v[i].peer_random ? " (random)" : "", v[i].key_size,
           v[i].secure_connections ? "Secure Connections" : "legacy",
           v[i].authenticated ? "authenticated" : "unauthenticated (Just Works)",
           v[i].has_irk ? ", IRK" : "", v[i].has_database ? ", GATT database" : "", v[i].local,
           v[i].local_random ? " (random)" : "", when);
  }
  if (!n)
    printf("No bonds.\n");
  if (bad)
    fprintf(stderr, "bleak: %zu file(s) in the bond directory are not good bonds\n", bad);
  free(v);
  return CLI_OK;
}

static int run_bonds(const cli_global *g, int argc, char **argv) {
  enum { OPT_DIR = 1 };
  static const struct option opts[] = {{"bond-dir", required_argument, NULL, OPT_DIR},
                                       {NULL, 0, NULL, 0}};
  cli_global gl = *g;
  const char *dir = NULL;
  int id;
  while ((id = cli_getopt(argc, argv, opts, &gl)) != -1) {
    if (id == 'h') {
      cli_command_help(&cli_cmd_bonds, stdout);
      return CLI_OK;
    } else if (id == OPT_DIR)
      dir = optarg;
    else
      return cli_usage_error(&cli_cmd_bonds, "invalid option");
  }
  int left = argc - optind;
  if (left == 0)
    return list_bonds(dir);
  if (strcmp(argv[optind], "remove") != 0 || left != 2)
    return cli_usage_error(&cli_cmd_bonds, "want nothing (list) or: remove ADDR");
  int r = bleak_bonds_remove(dir, argv[optind + 1]);
  if (r == BLEAK_ERR_INVALID_ARG)
    return cli_usage_error(&cli_cmd_bonds, "%s", bleak_error_detail());
  if (r < 0)
    return cli_fail("bonds remove", r);
  printf("Removed %d bond%s with %s\n", r, r == 1 ? "" : "s", argv[optind + 1]);
  return CLI_OK;
}

const cli_command cli_cmd_bonds = {
    .name = "bonds",
    .summary = "list the hci backend's bonds, or remove one (no connection)",
    .usage = "[remove ADDR] [--bond-dir DIR]",
    .help = "  --bond-dir DIR  the bond directory (default: $BLEAK_BOND_DIR, else\n"
            "                  $XDG_STATE_HOME/bleak/bonds, ~/.local/state/bleak/bonds)\n"
            "Keys are never shown. Removing a bond here leaves the peripheral's half:\n"
            "it may have to forget this computer too before pairing again. BlueZ keeps\n"
            "its own bonds (bluetoothctl devices Paired; bleak unpair ADDR).\n",
    .run = run_bonds,
};
