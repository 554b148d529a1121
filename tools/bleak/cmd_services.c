/* SPDX-License-Identifier: MIT */
/* bleak services: the whole GATT tree, like Bleak's service_explorer.py
 * example: handles, UUIDs with their assigned names, properties,
 * descriptors, and with --read the values of the readable ones. */
#include "cli.h"

#include <string.h>

typedef struct tree_opts {
  bool json, read;
} tree_opts;

/* A value read for --read: the bytes or the error. */
typedef struct value {
  int err; /* 0, < 0, or 1 when not read */
  size_t len;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
} value;

static void read_char(bleak_client *c, const bleak_gatt_characteristic *ch, value *v) {
  v->err = 1;
  if (bleak_gatt_characteristic_properties(ch) & BLEAK_GATT_PROP_READ)
    v->err = bleak_client_read_gatt_char(c, ch, v->buf, sizeof v->buf, &v->len);
}

static void read_desc(bleak_client *c, const bleak_gatt_descriptor *d, value *v) {
  v->err = bleak_client_read_gatt_descriptor(c, d, v->buf, sizeof v->buf, &v->len);
}

static void text_value(FILE *out, const value *v) {
  if (v->err == 1)
    return;
  if (v->err < 0) {
    fprintf(out, ", Error: %s", bleak_strerror(v->err));
    return;
  }
  fputs(", Value: ", out);
  cli_print_hex(out, v->buf, v->len);
  /* Printable text too, as service_explorer shows bytearrays. */
  bool text = v->len > 0;
  for (size_t i = 0; i < v->len && text; i++)
    text = v->buf[i] >= 0x20 && v->buf[i] < 0x7f;
  if (text)
    fprintf(out, " (\"%.*s\")", (int)v->len, (const char *)v->buf);
}

static void json_value(FILE *out, const value *v) {
  if (v->err == 1)
    return;
  if (v->err < 0) {
    fputs(", \"error\": ", out);
    cli_json_string(out, bleak_strerror(v->err));
    return;
  }
  fputs(", \"value_hex\": ", out);
  cli_json_hex(out, v->buf, v->len);
}

static void print_text(bleak_client *c, const bleak_gatt_services *s, const tree_opts *o) {
  static value v; /* 512 bytes: not on the stack of every call */
  char u[BLEAK_UUID_STR_LEN], props[256];
  printf("Connected to %s (%s), MTU %d\n", bleak_client_address(c), bleak_client_name(c),
         bleak_client_mtu_size(c));
  for (size_t i = 0; i < bleak_gatt_services_count(s); i++) {
    const bleak_gatt_service *svc = bleak_gatt_services_at(s, i);
    printf("[Service] %s (Handle: 0x%04x): %s\n",
           bleak_uuid_to_string(bleak_gatt_service_uuid(svc), u), bleak_gatt_service_handle(svc),
           bleak_gatt_service_description(svc));
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(svc); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(svc, j);
      bleak_gatt_properties_format(bleak_gatt_characteristic_properties(ch), props, sizeof props);
      printf("  [Characteristic] %s (Handle: 0x%04x): %s (%s)",
             bleak_uuid_to_string(bleak_gatt_characteristic_uuid(ch), u),
             bleak_gatt_characteristic_handle(ch), bleak_gatt_characteristic_description(ch),
             props);
      v.err = 1;
      if (o->read)
        read_char(c, ch, &v);
      text_value(stdout, &v);
      putchar('\n');
      for (size_t k = 0; k < bleak_gatt_characteristic_descriptor_count(ch); k++) {
        const bleak_gatt_descriptor *d = bleak_gatt_characteristic_descriptor_at(ch, k);
        printf("    [Descriptor] %s (Handle: 0x%04x): %s",
               bleak_uuid_to_string(bleak_gatt_descriptor_uuid(d), u),
               bleak_gatt_descriptor_handle(d), bleak_gatt_descriptor_description(d));
        v.err = 1;
        if (o->read)
          read_desc(c, d, &v);
        text_value(stdout, &v);
        putchar('\n');
      }
    }
  }
}

static void json_props(FILE *out, uint32_t props) {
  fputs("[", out);
  bool first = true;
  for (int bit = 0; bit < BLEAK_GATT_PROP_COUNT; bit++) {
    if (!(props & (1u << bit)))
      continue;
    fputs(first ? "" : ", ", out);
    cli_json_string(out, bleak_gatt_property_name(1u << bit));
    first = false;
  }
  fputs("]", out);
}

static void print_json(bleak_client *c, const bleak_gatt_services *s, const tree_opts *o) {
  static value v;
  char u[BLEAK_UUID_STR_LEN];
  printf("{\"address\": ");
  cli_json_string(stdout, bleak_client_address(c));
  printf(", \"name\": ");
  cli_json_string(stdout, bleak_client_name(c));
  printf(", \"mtu\": %d, \"services\": [", bleak_client_mtu_size(c));
  for (size_t i = 0; i < bleak_gatt_services_count(s); i++) {
    const bleak_gatt_service *svc = bleak_gatt_services_at(s, i);
    printf("%s\n {\"uuid\": \"%s\", \"handle\": %u, \"end_handle\": %u, \"description\": ",
           i ? "," : "", bleak_uuid_to_string(bleak_gatt_service_uuid(svc), u),
           bleak_gatt_service_handle(svc), bleak_gatt_service_end_handle(svc));
    cli_json_string(stdout, bleak_gatt_service_description(svc));
    printf(", \"characteristics\": [");
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(svc); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(svc, j);
      printf("%s\n  {\"uuid\": \"%s\", \"handle\": %u, \"value_handle\": %u, \"description\": ",
             j ? "," : "", bleak_uuid_to_string(bleak_gatt_characteristic_uuid(ch), u),
             bleak_gatt_characteristic_handle(ch), bleak_gatt_characteristic_value_handle(ch));
      cli_json_string(stdout, bleak_gatt_characteristic_description(ch));
      printf(", \"properties\": ");
      json_props(stdout, bleak_gatt_characteristic_properties(ch));
      v.err = 1;
      if (o->read)
        read_char(c, ch, &v);
      json_value(stdout, &v);
      printf(", \"descriptors\": [");
      for (size_t k = 0; k < bleak_gatt_characteristic_descriptor_count(ch); k++) {
        const bleak_gatt_descriptor *d = bleak_gatt_characteristic_descriptor_at(ch, k);
        printf("%s{\"uuid\": \"%s\", \"handle\": %u, \"description\": ", k ? ", " : "",
               bleak_uuid_to_string(bleak_gatt_descriptor_uuid(d), u),
               bleak_gatt_descriptor_handle(d));
        cli_json_string(stdout, bleak_gatt_descriptor_description(d));
        v.err = 1;
        if (o->read)
          read_desc(c, d, &v);
        json_value(stdout, &v);
        printf("}");
      }
      printf("]}");
    }
    printf("]}");
  }
  printf("]}\n");
}

static int run(const cli_global *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, 'j'},
      {"read", no_argument, NULL, 'r'},
      {NULL, 0, NULL, 0},
  };
  cli_global gl = *g;
  tree_opts o = {0};
  int id;
  while ((id = cli_getopt(argc, argv, opts, &gl)) != -1) {
    if (id == 'j')
      o.json = true;
    else if (id == 'r')
      o.read = true;
    else if (id == 'h') {
      cli_command_help(&cli_cmd_services, stdout);
      return CLI_OK;
    } else
      return cli_usage_error(&cli_cmd_services, "invalid option");
  }
  if (argc - optind != 1)
    return cli_usage_error(&cli_cmd_services, "wants one ADDR");
  bleak_client *c;
  int rc = cli_connect(&gl, argv[optind], NULL, &c);
  if (rc != CLI_OK)
    return rc;
  /* Our own reference: the tree outlives a link lost during --read. */
  bleak_gatt_services *s = bleak_gatt_services_ref(bleak_client_services(c));
  if (o.json)
    print_json(c, s, &o);
  else
    print_text(c, s, &o);
  fflush(stdout);
  /* A link lost midway shows as read errors; say so in the status too. */
  rc = bleak_client_is_connected(c) ? CLI_OK : cli_fail("services", BLEAK_ERR_DISCONNECTED);
  bleak_gatt_services_unref(s);
  cli_close(&gl, c);
  return rc;
}

const cli_command cli_cmd_services = {
    .name = "services",
    .summary = "connect and show the GATT services, characteristics and descriptors",
    .usage = "ADDR [--json] [--read]",
    .help = "options:\n"
            "  --json   the tree as one JSON object (handles as numbers, values as hex)\n"
            "  --read   also read every readable characteristic and every descriptor\n",
    .run = run,
};
