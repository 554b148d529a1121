/* SPDX-License-Identifier: MIT */
/* bleak scan: BleakScanner.discover() from a shell. On a terminal a live
 * table that updates as advertisements arrive; otherwise (or with --json)
 * the result once the scan ends. */
#include "cli.h"

#include <string.h>
#include <unistd.h>

#define MAX_FILTER_UUIDS 16
#define MAX_PATTERNS 8

typedef struct scan_state {
  const char *name_filter; /* substring of the name, or NULL */
  bool dirty;              /* something new since the last redraw */
} scan_state;

static void on_detect(bleak_scanner *s, const bleak_device *dev,
                      const bleak_adv_data *adv, void *user) {
  (void)s, (void)dev, (void)adv;
  ((scan_state *)user)->dirty = true;
}

static bool wanted(const scan_state *st, const bleak_device *dev) {
  if (!st->name_filter)
    return true;
  const char *name = bleak_device_name(dev);
  return name && strstr(name, st->name_filter);
}

static void short_uuid(const bleak_uuid *u, char *buf) {
  uint16_t v16;
  if (bleak_uuid_is_16bit(u, &v16))
    snprintf(buf, BLEAK_UUID_STR_LEN, "%04x", v16);
  else
    bleak_uuid_to_string(u, buf);
}

static void print_row(FILE *out, const bleak_device *dev, const bleak_adv_data *adv) {
  char rssi[8] = "";
  if (adv->rssi != BLEAK_RSSI_NONE)
    snprintf(rssi, sizeof rssi, "%d", adv->rssi);
  const char *name = bleak_device_name(dev);
  fprintf(out, "%-17s  %-20.20s  %5s  ", bleak_device_address(dev), name ? name : "", rssi);
  int width = 0;
  for (size_t i = 0; i < adv->n_service_uuids; i++) {
    char u[BLEAK_UUID_STR_LEN];
    short_uuid(&adv->service_uuids[i], u);
    width += fprintf(out, "%s%s", i ? "," : "", u);
  }
  fprintf(out, "%*s  ", width < 14 ? 14 - width : 0, "");
  for (size_t i = 0; i < adv->n_manufacturer_data; i++) {
    const bleak_manufacturer_data *m = &adv->manufacturer_data[i];
    fprintf(out, "%s%04x:", i ? " " : "", m->company_id);
    cli_print_hex(out, m->data, m->len);
  }
  fputc('\n', out);
}

static void print_table(FILE *out, const bleak_scanner *s, const scan_state *st) {
  fprintf(out, "%-17s  %-20s  %5s  %-14s  %s\n", "ADDRESS", "NAME", "RSSI", "SERVICES",
          "MANUFACTURER DATA");
  for (size_t i = 0; i < bleak_scanner_device_count(s); i++) {
    const bleak_device *dev = bleak_scanner_device_at(s, i);
    if (wanted(st, dev))
      print_row(out, dev, bleak_scanner_adv_at(s, i));
  }
}

static void print_json(FILE *out, const bleak_device *dev, const bleak_adv_data *adv) {
  char u[BLEAK_UUID_STR_LEN];
  fputs("{\"address\": ", out);
  cli_json_string(out, bleak_device_address(dev));
  fputs(", \"name\": ", out);
  cli_json_string(out, bleak_device_name(dev));
  fputs(", \"local_name\": ", out);
  cli_json_string(out, adv->local_name);
  if (adv->rssi != BLEAK_RSSI_NONE)
    fprintf(out, ", \"rssi\": %d", adv->rssi);
  else
    fputs(", \"rssi\": null", out);
  if (adv->tx_power != BLEAK_TX_POWER_NONE)
    fprintf(out, ", \"tx_power\": %d", adv->tx_power);
  else
    fputs(", \"tx_power\": null", out);
  fputs(", \"service_uuids\": [", out);
  for (size_t i = 0; i < adv->n_service_uuids; i++) {
    fputs(i ? ", " : "", out);
    cli_json_string(out, bleak_uuid_to_string(&adv->service_uuids[i], u));
  }
  fputs("], \"manufacturer_data\": {", out);
  for (size_t i = 0; i < adv->n_manufacturer_data; i++) {
    const bleak_manufacturer_data *m = &adv->manufacturer_data[i];
    fprintf(out, "%s\"%u\": ", i ? ", " : "", m->company_id);
    cli_json_hex(out, m->data, m->len);
  }
  fputs("}, \"service_data\": {", out);
  for (size_t i = 0; i < adv->n_service_data; i++) {
    const bleak_service_data *d = &adv->service_data[i];
    fputs(i ? ", " : "", out);
    cli_json_string(out, bleak_uuid_to_string(&d->uuid, u));
    fputs(": ", out);
    cli_json_hex(out, d->data, d->len);
  }
  fputs("}}\n", out);
}

static int run(const cli_global *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"service", required_argument, NULL, 's'},
      {"name", required_argument, NULL, 'n'},
      {"passive", no_argument, NULL, 'p'},
      {"pattern", required_argument, NULL, 'P'},
      {"json", no_argument, NULL, 'j'},
      {NULL, 0, NULL, 0},
  };
  cli_global gl = *g;
  if (!gl.timeout_set)
    gl.timeout_ms = 5000;
  bleak_uuid uuids[MAX_FILTER_UUIDS];
  size_t n_uuids = 0;
  scan_state st = {0};
  bool passive = false, json = false;
  bleak_or_pattern pats[MAX_PATTERNS];
  uint8_t pat_data[MAX_PATTERNS][31];
  size_t n_pats = 0;
  int id;
  while ((id = cli_getopt(argc, argv, opts, &gl)) != -1) {
    switch (id) {
    case 's':
      if (n_uuids == MAX_FILTER_UUIDS)
        return cli_usage_error(&cli_cmd_scan, "at most %d --service options", MAX_FILTER_UUIDS);
      if (bleak_uuid_parse(optarg, &uuids[n_uuids]) < 0)
        return cli_usage_error(&cli_cmd_scan, "'%s' is not a UUID", optarg);
      n_uuids++;
      break;
    case 'n':
      st.name_filter = optarg;
      break;
    case 'p':
      passive = true;
      break;
    case 'P': {
      /* START:TYPE:HEX, e.g. 0:ff:ffff01 (manufacturer data of company 0xffff). */
      unsigned start = 0, type = 0;
      int used = 0;
      if (n_pats == MAX_PATTERNS)
        return cli_usage_error(&cli_cmd_scan, "at most %d --pattern options", MAX_PATTERNS);
      if (sscanf(optarg, "%u:%x:%n", &start, &type, &used) != 2 || used == 0 || start > 30 ||
          type > 0xff)
        return cli_usage_error(&cli_cmd_scan, "'%s' is not START:TYPE:HEX", optarg);
      long len = cli_parse_hex(optarg + used, pat_data[n_pats], sizeof pat_data[0]);
      if (len <= 0 || start + (size_t)len > 31)
        return cli_usage_error(&cli_cmd_scan, "'%s': 1 to %u bytes of hex after START:TYPE:",
                               optarg, 31 - start);
      pats[n_pats] = (bleak_or_pattern){
          .start_position = (uint8_t)start, .ad_type = (uint8_t)type,
          .data = pat_data[n_pats], .len = (size_t)len};
      n_pats++;
      break;
    }
    case 'j':
      json = true;
      break;
    case 'h':
      cli_command_help(&cli_cmd_scan, stdout);
      return CLI_OK;
    default:
      return cli_usage_error(&cli_cmd_scan, "invalid option");
    }
  }
  if (optind != argc)
    return cli_usage_error(&cli_cmd_scan, "unexpected argument '%s'", argv[optind]);

  bleak_scanner_options so;
  bleak_scanner_options_init(&so);
  so.backend = gl.backend;
  so.adapter = gl.adapter;
  so.hci_transport = gl.hci_transport;
  so.service_uuids = n_uuids ? uuids : NULL;
  so.n_service_uuids = n_uuids;
  so.scanning_mode = passive ? BLEAK_SCAN_PASSIVE : BLEAK_SCAN_ACTIVE;
  so.or_patterns = n_pats ? pats : NULL;
  so.n_or_patterns = n_pats;
  so.detection_callback = on_detect;
  so.user_data = &st;
  bleak_scanner *s = NULL;
  int r = bleak_scanner_new(&so, &s);
  if (r < 0)
    return cli_fail("cannot create a scanner", r);
  r = bleak_scanner_start(s);
  if (r < 0) {
    int rc = cli_fail(passive ? "passive scan" : "scan", r);
    bleak_scanner_free(s);
    return rc;
  }
  bleak_loop *loop = bleak_loop_default();
  cli_catch_signals(loop);
  bool live = !json && isatty(STDOUT_FILENO);
  uint64_t end = bleak_loop_now_ms(loop) + (uint64_t)gl.timeout_ms;
  while (!cli_interrupted()) {
    uint64_t now = bleak_loop_now_ms(loop);
    if (now >= end)
      break;
    /* Redraw at most four times a second, and only when something changed. */
    uint64_t slice = end - now < 250 ? end - now : 250;
    bleak_loop_run_once(loop, (int)slice);
    if (live && st.dirty) {
      st.dirty = false;
      fputs("\033[H\033[J", stdout);
      print_table(stdout, s, &st);
      fflush(stdout);
    }
  }
  bleak_scanner_stop(s);
  if (json) {
    for (size_t i = 0; i < bleak_scanner_device_count(s); i++) {
      const bleak_device *dev = bleak_scanner_device_at(s, i);
      if (wanted(&st, dev))
        print_json(stdout, dev, bleak_scanner_adv_at(s, i));
    }
  } else if (!live) {
    print_table(stdout, s, &st);
  }
  bleak_scanner_free(s);
  return CLI_OK;
}

const cli_command cli_cmd_scan = {
    .name = "scan",
    .summary = "scan for advertising devices (BleakScanner.discover)",
    .usage = "[--timeout S] [--service UUID]... [--name N] [--passive] [--pattern P]... [--json]",
    .help = "options:\n"
            "  --timeout S     scan for S seconds (default 5)\n"
            "  --service UUID  only devices advertising this service (repeatable)\n"
            "  --name N        only devices whose name contains N\n"
            "  --passive       passive scanning (bluez: BlueZ's advertisement monitor,\n"
            "                  bluetoothd run with -E, and at least one --pattern)\n"
            "  --pattern START:TYPE:HEX\n"
            "                  only advertisements with an AD structure of TYPE whose\n"
            "                  data from byte START begins with HEX (Bleak's or_patterns;\n"
            "                  repeatable, any one matches), e.g. 0:ff:ffff01\n"
            "  --json          one JSON object per device when the scan ends\n"
            "On a terminal the table updates as advertisements arrive; Ctrl-C ends early.\n",
    .run = run,
};
