/* SPDX-License-Identifier: MIT */
/* The `bleak` command-line tool: what the commands share.
 *
 * The tool uses the public API only (<bleak/bleak.h>): it is also a worked
 * example of it. Each command lives in its own cmd_*.c file and returns an
 * exit status (enum cli_exit). */
#ifndef BLEAK_CLI_H
#define BLEAK_CLI_H

#include <bleak/bleak.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses: scripts tell the kinds of failure apart by these. */
enum cli_exit {
  CLI_OK = 0,
  CLI_FAILURE = 1,       /* anything else: backend trouble, I/O */
  CLI_USAGE = 2,         /* bad command line: unknown option, bad hex, bad UUID */
  CLI_NOT_FOUND = 3,     /* no such device, characteristic or descriptor */
  CLI_NOT_CONNECTED = 4, /* could not connect, timed out, link lost */
  CLI_PROTOCOL = 5,      /* the peer refused: ATT error, not permitted, pairing */
};

/* Options every command takes. */
typedef struct cli_global {
  bleak_backend_kind backend;
  const char *adapter;       /* NULL: the backend's default */
  const char *hci_transport; /* NULL: $BLEAK_HCI */
  int timeout_ms;            /* connect / scan timeout */
  bool timeout_set;          /* --timeout was given */
  bool yes;                  /* --yes: confirm pairing without asking */
  bool wait_disconnect;      /* --wait-disconnect: bluez: wait for the link to go */
} cli_global;

/* A command: its name, a one-line summary, its usage text and its body. */
typedef struct cli_command {
  const char *name;
  const char *summary;
  const char *usage; /* "ADDR CHAR [--text]" */
  const char *help;  /* option lines for --help */
  int (*run)(const cli_global *g, int argc, char **argv);
} cli_command;

extern const cli_command cli_cmd_scan, cli_cmd_services, cli_cmd_read,
    cli_cmd_write, cli_cmd_notify, cli_cmd_desc_read, cli_cmd_desc_write,
    cli_cmd_pair, cli_cmd_unpair, cli_cmd_bonds, cli_cmd_adapters, cli_cmd_devices;

/* Option ids of the global options, above any command's own. */
enum { CLI_OPT_GLOBAL_FIRST = 1000 };

/*
 * getopt_long over the command's own options @p own (terminated by a zero
 * entry) and the global ones, which it applies to @p g. Returns the next
 * command option's id, -1 at the end (optind points at the first operand),
 * or '?' after printing a usage error. 'h' means --help was asked for.
 */
int cli_getopt(int argc, char **argv, const struct option *own, cli_global *g);

/* The global options before the command: like cli_getopt with no command
 * options, stopping at the first operand (the command's name). */
int cli_getopt_global(int argc, char **argv, cli_global *g);

/* Print the command's --help text to @p out. */
void cli_command_help(const cli_command *cmd, FILE *out);
/* A usage error: print "bleak CMD: message" and the usage line; CLI_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report @p err from @p what ("connect", "read 2a19") on stderr in words,
 * with the backend's detail when there is one, and map it to an exit status. */
int cli_fail(const char *what, int err);
/* The exit status for a bleak error code. */
int cli_exit_for(int err);

/* Parse a hex string ("0a0b", "0a 0b", "0a:0b", "0x0a0b") into @p buf.
 * Returns the length, or -1 when it is not hex or longer than @p cap. */
long cli_parse_hex(const char *s, uint8_t *buf, size_t cap);
/* Print @p len bytes as lowercase hex without separators. */
void cli_print_hex(FILE *out, const uint8_t *data, size_t len);
/* Print @p s as a JSON string literal (quoted, escaped); NULL as null. */
void cli_json_string(FILE *out, const char *s);
/* Print bytes as a JSON string of hex digits. */
void cli_json_hex(FILE *out, const uint8_t *data, size_t len);

/* Parse a non-negative number (decimal or 0x hex) up to @p max. */
bool cli_parse_uint(const char *s, unsigned long max, unsigned long *out);
/* Parse seconds ("5", "2.5") into milliseconds. */
bool cli_parse_seconds(const char *s, int *ms);

/* Create a client for @p address with the global options and connect it.
 * On failure it reports the error and returns the exit status (> 0). */
int cli_connect(const cli_global *g, const char *address,
                const bleak_client_options *extra, bleak_client **out);

/* The tool's pairing agent (a bleak_pairing_fn): shows passkeys, asks for
 * them on stdin, asks to confirm numeric comparisons; with --yes (@p user
 * points at cli_global.yes) it confirms without asking, and without a
 * terminal to ask on it declines. Every connection has it, so pairing that
 * BlueZ starts by itself (an encrypted read) works too. */
void cli_pairing_agent(bleak_client *c, bleak_pairing_request req, uint32_t passkey,
                       void *user);

/* Disconnect and free the client. NULL-safe. hci (or --wait-disconnect):
 * waits for the link to go down; bluez: asks bluetoothd for the
 * disconnect and returns at once (bluetoothd finishes it). */
void cli_close(const cli_global *g, bleak_client *c);

/* Resolve CHAR: a handle ("0x2a", or decimal that is not 4 or 8 digits
 * long) or a UUID (short or long). Reports and returns an exit status. */
int cli_find_char(bleak_client *c, const char *spec,
                  const bleak_gatt_characteristic **out);
/* Resolve a descriptor handle (decimal or 0x hex). */
int cli_find_descriptor(bleak_client *c, const char *spec,
                        const bleak_gatt_descriptor **out);

/* SIGINT/SIGTERM stop a long command: the flag is set and @p loop woken. */
void cli_catch_signals(bleak_loop *loop);
/* True once SIGINT or SIGTERM arrived. */
bool cli_interrupted(void);

#endif
