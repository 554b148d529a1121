/* SPDX-License-Identifier: MIT */
/* bleak: look at and talk to Bluetooth Low Energy peripherals from a shell.
 * `bleak --help` lists the commands; each has its own --help. */
#include "cli.h"

#include <string.h>

static const cli_command *const commands[] = {
    &cli_cmd_scan,      &cli_cmd_services,   &cli_cmd_read,
    &cli_cmd_write,     &cli_cmd_notify,     &cli_cmd_desc_read,
    &cli_cmd_desc_write, &cli_cmd_pair,      &cli_cmd_unpair,
    &cli_cmd_bonds,     &cli_cmd_adapters,   &cli_cmd_devices,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void main_help(FILE *out) {
  fprintf(out, "usage: bleak [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]\n\n"
               "Scan for Bluetooth Low Energy peripherals and use their GATT services\n"
               "(bleak-c %s, the C library with Bleak's API).\n\ncommands:\n",
          bleak_version());
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-11s %s\n", commands[i]->name, commands[i]->summary);
  fprintf(out,
          "\nglobal options (before or after the command):\n"
          "  --backend bluez|hci|auto, --adapter hciN, --hci TRANSPORT,\n"
          "  --timeout S, --log-level LEVEL, --yes, --wait-disconnect, -h/--help,\n"
          "  --version\n"
          "\nCHAR is a characteristic UUID (2a19 or the full 128-bit form) or a handle:\n"
          "0x0012, or a decimal number that is not 4 or 8 digits long (18).\n"
          "\nexit status: 0 ok, 1 other failure, 2 usage error, 3 device or attribute\n"
          "not found, 4 not connected (connect failed, timed out, link lost),\n"
          "5 refused by the peer (ATT error, not permitted, pairing failed).\n"
          "\n`bleak COMMAND --help` tells more.\n");
}

int main(int argc, char **argv) {
  cli_global g = {.backend = BLEAK_BACKEND_AUTO, .timeout_ms = 30000}; /* Bleak 2.1.1 */
  if (argc < 2) {
    main_help(stderr);
    return CLI_USAGE;
  }
  /* Global options before the command. */
  for (int i = 1; i < argc && argv[i][0] == '-'; i++)
    if (!strcmp(argv[i], "--version")) {
      printf("bleak %s\n", bleak_version());
      return CLI_OK;
    }
  optind = 1;
  int id = cli_getopt_global(argc, argv, &g);
  if (id == 'h') {
    main_help(stdout);
    return CLI_OK;
  }
  if (id != -1) {
    fprintf(stderr, "(see bleak --help)\n");
    return CLI_USAGE;
  }
  int first = optind;
  if (first >= argc) {
    main_help(stderr);
    return CLI_USAGE;
  }
  const char *name = argv[first];
  if (!strcmp(name, "help")) {
    if (first + 1 < argc)
      for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i]->name, argv[first + 1])) {
          cli_command_help(commands[i], stdout);
          return CLI_OK;
        }
    main_help(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++) {
    if (strcmp(commands[i]->name, name))
      continue;
    optind = 0; /* 0, not 1: glibc then forgets the '+' mode of the global parse */
    return commands[i]->run(&g, argc - first, argv + first);
  }
  fprintf(stderr, "bleak: unknown command '%s' (see bleak --help)\n", name);
  return CLI_USAGE;
}
