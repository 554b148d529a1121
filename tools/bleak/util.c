/* SPDX-License-Identifier: MIT */
/* What the commands of the `bleak` tool share: option parsing, errors in
 * words and as exit statuses, hex and JSON output, connecting, and resolving
 * CHAR arguments. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  OPT_BACKEND = CLI_OPT_GLOBAL_FIRST,
  OPT_ADAPTER,
  OPT_HCI,
  OPT_TIMEOUT,
  OPT_LOG_LEVEL,
  OPT_YES,
  OPT_WAIT_DISCONNECT,
};

static const struct option global_options[] = {
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"adapter", required_argument, NULL, OPT_ADAPTER},
    {"hci", required_argument, NULL, OPT_HCI},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"yes", no_argument, NULL, OPT_YES},
    {"wait-disconnect", no_argument, NULL, OPT_WAIT_DISCONNECT},
    {"help", no_argument, NULL, 'h'},
};
#define N_GLOBAL (sizeof global_options / sizeof global_options[0])
#define MAX_OPTIONS 32

static int apply_global(int id, const char *arg, cli_global *g) {
  switch (id) {
  case OPT_BACKEND:
    if (!strcmp(arg, "bluez"))
      g->backend = BLEAK_BACKEND_BLUEZ;
    else if (!strcmp(arg, "hci"))
      g->backend = BLEAK_BACKEND_HCI;
    else if (!strcmp(arg, "auto"))
      g->backend = BLEAK_BACKEND_AUTO;
    else {
      fprintf(stderr, "bleak: --backend must be bluez, hci or auto, not '%s'\n", arg);
      return -1;
    }
    return 0;
  case OPT_ADAPTER:
    g->adapter = arg;
    return 0;
  case OPT_HCI:
    g->hci_transport = arg;
    return 0;
  case OPT_TIMEOUT:
    if (!cli_parse_seconds(arg, &g->timeout_ms) || g->timeout_ms <= 0) {
      fprintf(stderr, "bleak: --timeout wants seconds > 0, not '%s'\n", arg);
      return -1;
    }
    g->timeout_set = true;
    return 0;
  case OPT_YES:
    g->yes = true;
    return 0;
  case OPT_WAIT_DISCONNECT:
    g->wait_disconnect = true;
    return 0;
  case OPT_LOG_LEVEL: {
    bleak_log_level level;
    if (bleak_log_parse_level(arg, &level) < 0) {
      fprintf(stderr, "bleak: --log-level wants debug, info, warning, error or none, not '%s'\n",
              arg);
      return -1;
    }
    bleak_log_set_level(level);
    return 0;
  }
  default:
    return -1;
  }
}

static int getopt_all(int argc, char **argv, const struct option *own, cli_global *g,
                      const char *optstring) {
  struct option all[MAX_OPTIONS];
  size_t n = 0;
  for (; own && own[n].name && n < MAX_OPTIONS - N_GLOBAL - 1; n++)
    all[n] = own[n];
  for (size_t i = 0; i < N_GLOBAL; i++)
    all[n++] = global_options[i];
  memset(&all[n], 0, sizeof all[n]);
  for (;;) {
    int id = getopt_long(argc, argv, optstring, all, NULL);
    if (id == ':') {
      fprintf(stderr, "bleak: option %s needs a value\n", argv[optind - 1]);
      return '?';
    }
    if (id == '?') {
      if (optopt)
        fprintf(stderr, "bleak: unknown option -%c\n", optopt);
      else
        fprintf(stderr, "bleak: unknown option %s\n", argv[optind - 1]);
      return '?';
    }
    if (id >= CLI_OPT_GLOBAL_FIRST) {
      if (apply_global(id, optarg, g) < 0)
        return '?';
      continue;
    }
    return id;
  }
}

int cli_getopt(int argc, char **argv, const struct option *own, cli_global *g) {
  /* Options may follow operands ("bleak read ADDR 2a19 --text"). */
  return getopt_all(argc, argv, own, g, ":h");
}

int cli_getopt_global(int argc, char **argv, cli_global *g) {
  /* '+': stop at the command name. */
  return getopt_all(argc, argv, NULL, g, "+:h");
}

void cli_command_help(const cli_command *cmd, FILE *out) {
  fprintf(out, "usage: bleak %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
  if (cmd->help && *cmd->help)
    fprintf(out, "\n%s", cmd->help);
  fprintf(out,
          "\nglobal options:\n"
          "  --backend bluez|hci|auto  which backend (default: $BLEAK_BACKEND, else bluez)\n"
          "  --adapter hciN           the local adapter to use\n"
          "  --hci TRANSPORT          the hci backend's controller (unix:PATH, tcp:HOST:PORT,\n"
          "                           tty:DEV:BAUD, hciN; default $BLEAK_HCI)\n"
          "  --timeout S              connect timeout in seconds (default 30, as Bleak; scan: 5)\n"
          "  --log-level LEVEL        debug, info, warning, error or none (default: $BLEAK_LOGGING)\n"
          "  --yes                    confirm pairing (numeric comparison) without asking\n"
          "  --wait-disconnect        bluez: wait until the link is down before exiting (by\n"
          "                           default the tool asks for the disconnect and exits;\n"
          "                           bluetoothd finishes it, ~2 s later)\n"
          "  -h, --help               this help\n");
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "bleak %s: ", cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nusage: bleak %s %s   (see bleak %s --help)\n", cmd->name,
          cmd->usage, cmd->name);
  return CLI_USAGE;
}

int cli_exit_for(int err) {
  if (err >= 0)
    return CLI_OK;
  if (bleak_error_is_att(err) || bleak_error_is_smp(err))
    return CLI_PROTOCOL;
  switch (err) {
  case BLEAK_ERR_INVALID_ARG:
  case BLEAK_ERR_TOO_LONG:
  case BLEAK_ERR_AMBIGUOUS:
    return CLI_USAGE;
  case BLEAK_ERR_NOT_FOUND:
  case BLEAK_ERR_DEVICE_NOT_FOUND:
    return CLI_NOT_FOUND;
  case BLEAK_ERR_NOT_CONNECTED:
  case BLEAK_ERR_DISCONNECTED:
  case BLEAK_ERR_TIMEOUT:
    return CLI_NOT_CONNECTED;
  case BLEAK_ERR_NOT_SUPPORTED:
  case BLEAK_ERR_AUTH:
  case BLEAK_ERR_PROTOCOL:
    return CLI_PROTOCOL;
  default:
    return CLI_FAILURE;
  }
}

int cli_fail(const char *what, int err) {
  const char *detail = bleak_error_detail();
  fprintf(stderr, "bleak: %s: %s", what, bleak_strerror(err));
  if (detail && *detail && strcmp(detail, bleak_strerror(err)))
    fprintf(stderr, " (%s)", detail);
  fputc('\n', stderr);
  return cli_exit_for(err);
}

static int hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long cli_parse_hex(const char *s, uint8_t *buf, size_t cap) {
  if (!s)
    return -1;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    s += 2;
  size_t n = 0;
  int hi = -1;
  for (; *s; s++) {
    if (*s == ' ' || *s == ':' || *s == '-' || *s == '_') {
      if (hi >= 0)
        return -1; /* a separator inside a byte */
      continue;
    }
    int d = hex_digit((unsigned char)*s);
    if (d < 0)
      return -1;
    if (hi < 0) {
      hi = d;
      continue;
    }
    if (n == cap)
      return -1;
    buf[n++] = (uint8_t)(hi << 4 | d);
    hi = -1;
  }
  return hi >= 0 ? -1 : (long)n;
}

void cli_print_hex(FILE *out, const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++)
    fprintf(out, "%02x", data[i]);
}

void cli_json_string(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

void cli_json_hex(FILE *out, const uint8_t *data, size_t len) {
  fputc('"', out);
  cli_print_hex(out, data, len);
  fputc('"', out);
}

bool cli_parse_uint(const char *s, unsigned long max, unsigned long *out) {
  if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 0);
  if (errno || *end || v > max)
    return false;
  *out = v;
  return true;
}

bool cli_parse_seconds(const char *s, int *ms) {
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v >= 0) || v > 86400.0 * 24)
    return false;
  *ms = (int)lround(v * 1000.0);
  return true;
}

int cli_connect(const cli_global *g, const char *address,
                const bleak_client_options *extra, bleak_client **out) {
  bleak_client_options o;
  if (extra)
    o = *extra;
  else
    bleak_client_options_init(&o);
  o.backend = g->backend;
  o.adapter = g->adapter;
  o.hci_transport = g->hci_transport;
  o.timeout_ms = g->timeout_ms;
  if (!o.pairing_callback) {
    o.pairing_callback = cli_pairing_agent; /* pairing BlueZ starts by itself */
    o.pairing_user_data = (void *)&g->yes;   /* only read */
  }
  bleak_client *c = NULL;
  int r = bleak_client_new(address, &o, &c);
  if (r < 0) {
    if (r == BLEAK_ERR_INVALID_ARG) {
      fprintf(stderr, "bleak: '%s' is not a Bluetooth address (AA:BB:CC:DD:EE:FF)\n", address);
      return CLI_USAGE;
    }
    return cli_fail("cannot create a client", r);
  }
  r = bleak_client_connect(c);
  if (r < 0) {
    char what[64];
    snprintf(what, sizeof what, "connect to %s", address);
    int st = cli_fail(what, r);
    bleak_client_free(c);
    return st;
  }
  *out = c;
  return CLI_OK;
}

void cli_close(const cli_global *g, bleak_client *c) {
  /* bluez: the free sends Disconnect and flushes the bus; bluetoothd takes
   * the link down by itself (BlueZ's ~2 s disconnect timer is the whole
   * wait), so a one-shot command need not stay for it. The hci backend
   * is the host: it stays until the controller says the link is down. */
  if (!c)
    return;
  bool wait = g->wait_disconnect || strcmp(bleak_client_backend_id(c), "bluez") != 0;
  if (wait && bleak_client_is_connected(c))
    bleak_client_disconnect(c);
  bleak_client_free(c);
}

static bool is_handle_spec(const char *s, unsigned long *handle) {
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return cli_parse_uint(s, 0xffff, handle);
  size_t n = strlen(s);
  if (n == 4 || n == 8 || strspn(s, "0123456789") != n)
    return false; /* 2a19, 2902, 0000180f: UUIDs */
  return cli_parse_uint(s, 0xffff, handle);
}

int cli_find_char(bleak_client *c, const char *spec,
                  const bleak_gatt_characteristic **out) {
  unsigned long h;
  int r;
  if (is_handle_spec(spec, &h)) {
    r = bleak_client_char_by_handle(c, (uint16_t)h, out);
    if (r == BLEAK_ERR_NOT_FOUND) {
      fprintf(stderr, "bleak: no characteristic with handle %s (0x%04lx) on %s\n", spec, h,
              bleak_client_address(c));
      return CLI_NOT_FOUND;
    }
  } else {
    r = bleak_client_char_by_uuid(c, spec, out);
    if (r == BLEAK_ERR_NOT_FOUND) {
      fprintf(stderr, "bleak: no characteristic with UUID %s on %s\n", spec,
              bleak_client_address(c));
      return CLI_NOT_FOUND;
    }
    if (r == BLEAK_ERR_INVALID_ARG) {
      fprintf(stderr, "bleak: '%s' is neither a UUID nor a handle\n", spec);
      return CLI_USAGE;
    }
    if (r == BLEAK_ERR_AMBIGUOUS) {
      fprintf(stderr, "bleak: several characteristics have UUID %s: give a handle "
                      "(see bleak services)\n", spec);
      return CLI_USAGE;
    }
  }
  return r < 0 ? cli_fail("characteristic", r) : CLI_OK;
}

int cli_find_descriptor(bleak_client *c, const char *spec,
                        const bleak_gatt_descriptor **out) {
  unsigned long h;
  if (!cli_parse_uint(spec, 0xffff, &h)) {
    fprintf(stderr, "bleak: '%s' is not a descriptor handle (decimal or 0x hex)\n", spec);
    return CLI_USAGE;
  }
  bleak_gatt_services *s = bleak_client_services(c);
  *out = s ? bleak_gatt_services_get_descriptor_by_handle(s, (uint16_t)h) : NULL;
  if (!*out) {
    fprintf(stderr, "bleak: no descriptor with handle %s on %s\n", spec, bleak_client_address(c));
    return CLI_NOT_FOUND;
  }
  return CLI_OK;
}

/* Reads a line from stdin: the agent waits for the answer (BlueZ bounds
 * the wait), so blocking here only delays this one client. */
static bool ask(const char *prompt, char *line, size_t cap) {
  if (!isatty(STDIN_FILENO)) {
    fprintf(stderr, "%s(no terminal to ask on: declined; --yes confirms)\n", prompt);
    return false;
  }
  fputs(prompt, stderr);
  fflush(stderr);
  return fgets(line, (int)cap, stdin) != NULL;
}

void cli_pairing_agent(bleak_client *c, bleak_pairing_request req, uint32_t passkey,
                       void *user) {
  const bool *yes = user;
  char line[32];
  unsigned long v;
  switch (req) {
  case BLEAK_PAIRING_DISPLAY_PASSKEY:
    fprintf(stderr, "Passkey: %06u (type it on the peripheral)\n", passkey);
    bleak_client_pairing_reply(c, true, 0);
    return;
  case BLEAK_PAIRING_REQUEST_PASSKEY:
    if (ask("Passkey shown by the peripheral: ", line, sizeof line)) {
      line[strcspn(line, "\r\n")] = 0;
      if (cli_parse_uint(line, 999999, &v)) {
        bleak_client_pairing_reply(c, true, (uint32_t)v);
        return;
      }
      fprintf(stderr, "bleak: '%s' is not a passkey (0..999999)\n", line);
    }
    bleak_client_pairing_reply(c, false, 0);
    return;
  case BLEAK_PAIRING_CONFIRM:
    fprintf(stderr, "Confirm passkey %06u? ", passkey);
    if (yes && *yes) {
      fprintf(stderr, "yes (--yes)\n");
      bleak_client_pairing_reply(c, true, 0);
      return;
    }
    bleak_client_pairing_reply(c, ask("[y/N] ", line, sizeof line) && (line[0] == 'y' || line[0] == 'Y'), 0);
    return;
  case BLEAK_PAIRING_AUTHORIZE:
    bleak_client_pairing_reply(c, true, 0);
    return;
  }
}

static volatile sig_atomic_t interrupted;
static bleak_loop *signal_loop;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
  bleak_loop_wakeup(signal_loop); /* a write() to an eventfd: signal-safe */
}

void cli_catch_signals(bleak_loop *loop) {
  signal_loop = loop;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

bool cli_interrupted(void) { return interrupted != 0; }
