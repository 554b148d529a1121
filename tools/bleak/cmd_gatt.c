/* SPDX-License-Identifier: MIT */
/* bleak read / write / desc-read / desc-write: one GATT operation each,
 * Bleak's read_gatt_char, write_gatt_char, read_gatt_descriptor and
 * write_gatt_descriptor. */
#include "cli.h"

#include <string.h>

/* What the four commands parse: ADDR, the target, an optional VALUE. */
typedef struct gatt_args {
  const char *addr, *target, *value;
  bool text;        /* VALUE is text / print the value as text */
  bool cached;      /* reads: use_cached */
  bleak_write_mode mode;
} gatt_args;

static int parse(const cli_command *cmd, const cli_global *g, cli_global *gl, int argc,
                 char **argv, bool writes, gatt_args *a) {
  static const struct option read_opts[] = {
      {"text", no_argument, NULL, 't'},
      {"cached", no_argument, NULL, 'c'},
      {NULL, 0, NULL, 0},
  };
  static const struct option write_opts[] = {
      {"text", no_argument, NULL, 't'},
      {"no-response", no_argument, NULL, 'n'},
      {"response", no_argument, NULL, 'r'},
      {NULL, 0, NULL, 0},
  };
  *gl = *g;
  memset(a, 0, sizeof *a);
  int id;
  while ((id = cli_getopt(argc, argv, writes ? write_opts : read_opts, gl)) != -1) {
    switch (id) {
    case 't':
      a->text = true;
      break;
    case 'c':
      a->cached = true;
      break;
    case 'n':
      a->mode = BLEAK_WRITE_WITHOUT_RESPONSE;
      break;
    case 'r':
      a->mode = BLEAK_WRITE_WITH_RESPONSE;
      break;
    case 'h':
      cli_command_help(cmd, stdout);
      return -1;
    default:
      return cli_usage_error(cmd, "invalid option");
    }
  }
  int want = writes ? 3 : 2;
  if (argc - optind != want)
    return cli_usage_error(cmd, "wants %s", cmd->usage);
  a->addr = argv[optind];
  a->target = argv[optind + 1];
  a->value = writes ? argv[optind + 2] : NULL;
  return CLI_OK;
}

/* VALUE as bytes: hex, or the text itself with --text. */
static int parse_value(const cli_command *cmd, const gatt_args *a, uint8_t *buf, size_t *len) {
  if (a->text) {
    size_t n = strlen(a->value);
    if (n > BLEAK_MAX_ATTR_VALUE)
      return cli_usage_error(cmd, "the value is %zu bytes; at most %d", n, BLEAK_MAX_ATTR_VALUE);
    memcpy(buf, a->value, n);
    *len = n;
    return CLI_OK;
  }
  long n = cli_parse_hex(a->value, buf, BLEAK_MAX_ATTR_VALUE);
  if (n < 0)
    return cli_usage_error(cmd, "'%s' is not a hex value of at most %d bytes "
                                "(e.g. 0a1b2c, or use --text)", a->value, BLEAK_MAX_ATTR_VALUE);
  *len = (size_t)n;
  return CLI_OK;
}

static void print_value(const uint8_t *buf, size_t len, bool text) {
  if (text)
    fwrite(buf, 1, len, stdout);
  else
    cli_print_hex(stdout, buf, len);
  putchar('\n');
}

/* The one body of the four commands: connect, find the characteristic or
 * descriptor, read or write it. */
static int run_op(const cli_command *cmd, const cli_global *g, int argc, char **argv,
                  bool desc, bool writes) {
  cli_global gl;
  gatt_args a;
  int rc = parse(cmd, g, &gl, argc, argv, writes, &a);
  if (rc != CLI_OK)
    return rc < 0 ? CLI_OK : rc;
  static uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  if (writes && (rc = parse_value(cmd, &a, buf, &len)) != CLI_OK)
    return rc; /* before connecting: a typo costs no connection */
  bleak_client *c;
  const bleak_gatt_characteristic *ch = NULL;
  const bleak_gatt_descriptor *d = NULL;
  if ((rc = cli_connect(&gl, a.addr, NULL, &c)) != CLI_OK)
    return rc;
  rc = desc ? cli_find_descriptor(c, a.target, &d) : cli_find_char(c, a.target, &ch);
  if (rc != CLI_OK) {
    cli_close(&gl, c);
    return rc;
  }
  int r;
  const bleak_read_options ro = {.use_cached = a.cached};
  if (desc && writes)
    r = bleak_client_write_gatt_descriptor(c, d, buf, len);
  else if (desc)
    r = bleak_client_read_gatt_descriptor_opts(c, d, &ro, buf, sizeof buf, &len);
  else if (writes)
    r = bleak_client_write_gatt_char(c, ch, buf, len, a.mode);
  else
    r = bleak_client_read_gatt_char_opts(c, ch, &ro, buf, sizeof buf, &len);
  if (r == 0 && !writes)
    print_value(buf, len, a.text);
  if (r == BLEAK_ERR_NOT_SUPPORTED && ch) {
    char props[256];
    bleak_gatt_properties_format(bleak_gatt_characteristic_properties(ch), props, sizeof props);
    fprintf(stderr, "bleak: %s: %s does not allow %s (its properties: %s)\n", cmd->name,
            a.target, a.mode == BLEAK_WRITE_WITHOUT_RESPONSE ? "writes without response" : "this",
            props);
    rc = CLI_PROTOCOL;
  } else if (r < 0) {
    rc = cli_fail(cmd->name, r);
  }
  cli_close(&gl, c);
  return rc;
}

static int run_read(const cli_global *g, int argc, char **argv) {
  return run_op(&cli_cmd_read, g, argc, argv, false, false);
}
static int run_write(const cli_global *g, int argc, char **argv) {
  return run_op(&cli_cmd_write, g, argc, argv, false, true);
}
static int run_desc_read(const cli_global *g, int argc, char **argv) {
  return run_op(&cli_cmd_desc_read, g, argc, argv, true, false);
}
static int run_desc_write(const cli_global *g, int argc, char **argv) {
  return run_op(&cli_cmd_desc_write, g, argc, argv, true, true);
}

const cli_command cli_cmd_read = {
    .name = "read",
    .summary = "read a characteristic's value (read_gatt_char), printed as hex",
    .usage = "ADDR CHAR [--text] [--cached]",
    .help = "options:\n  --text     print the value as text instead of hex\n"
            "  --cached   a value held already (use_cached), no round trip; read from\n"
            "             the peer when there is none (a new connection has none yet)\n",
    .run = run_read,
};

const cli_command cli_cmd_write = {
    .name = "write",
    .summary = "write a characteristic's value (write_gatt_char)",
    .usage = "ADDR CHAR VALUE [--no-response | --response] [--text]",
    .help = "VALUE is hex (0a1b2c, \"0a 1b 2c\", 0a:1b:2c) unless --text, at most 512 bytes.\n"
            "The write mode follows the characteristic's properties (Bleak's response=None)\n"
            "unless one is asked for.\n"
            "options:\n"
            "  --no-response   write without response (Write Command)\n"
            "  --response      write with response (Write Request)\n"
            "  --text          VALUE is text, written as its bytes\n",
    .run = run_write,
};

const cli_command cli_cmd_desc_read = {
    .name = "desc-read",
    .summary = "read a descriptor by handle (read_gatt_descriptor)",
    .usage = "ADDR HANDLE [--text] [--cached]",
    .help = "HANDLE: decimal or 0x hex (see bleak services).\n"
            "options:\n  --text     print the value as text instead of hex\n"
            "  --cached   the value the backend holds (use_cached), as for read\n",
    .run = run_desc_read,
};

const cli_command cli_cmd_desc_write = {
    .name = "desc-write",
    .summary = "write a descriptor by handle (write_gatt_descriptor)",
    .usage = "ADDR HANDLE VALUE [--text]",
    .help = "HANDLE: decimal or 0x hex (see bleak services); VALUE: hex unless --text.\n"
            "options:\n  --text   VALUE is text, written as its bytes\n",
    .run = run_desc_write,
};
