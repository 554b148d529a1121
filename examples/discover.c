/* SPDX-License-Identifier: MIT */
/* discover: Bleak's examples/discover.py in C. Scan for a while and list
 * every device with its advertisement data.
 *
 *   discover [--timeout S] [--services UUID...] [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UUIDS 8

static void print_device(const bleak_device *dev, const bleak_adv_data *adv) {
  char u[BLEAK_UUID_STR_LEN];
  printf("%s: %s\n", bleak_device_address(dev),
         bleak_device_name(dev) ? bleak_device_name(dev) : "(no name)");
  printf("    rssi=%d", adv->rssi);
  if (adv->local_name)
    printf(" local_name='%s'", adv->local_name);
  if (adv->tx_power != BLEAK_TX_POWER_NONE)
    printf(" tx_power=%d", adv->tx_power);
  printf("\n");
  for (size_t i = 0; i < adv->n_service_uuids; i++)
    printf("    service_uuid=%s\n", bleak_uuid_to_string(&adv->service_uuids[i], u));
  for (size_t i = 0; i < adv->n_manufacturer_data; i++) {
    printf("    manufacturer_data[0x%04x]=", adv->manufacturer_data[i].company_id);
    for (size_t j = 0; j < adv->manufacturer_data[i].len; j++)
      printf("%02x", adv->manufacturer_data[i].data[j]);
    printf("\n");
  }
  for (size_t i = 0; i < adv->n_service_data; i++) {
    printf("    service_data[%s]=", bleak_uuid_to_string(&adv->service_data[i].uuid, u));
    for (size_t j = 0; j < adv->service_data[i].len; j++)
      printf("%02x", adv->service_data[i].data[j]);
    printf("\n");
  }
}

int main(int argc, char **argv) {
  bleak_scanner_options opts;
  bleak_scanner_options_init(&opts);
  bleak_uuid uuids[MAX_UUIDS];
  double timeout = 5.0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
      timeout = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--adapter") && i + 1 < argc) {
      opts.adapter = argv[++i];
    } else if (!strcmp(argv[i], "--services")) {
      while (i + 1 < argc && argv[i + 1][0] != '-' && opts.n_service_uuids < MAX_UUIDS) {
        if (bleak_uuid_parse(argv[++i], &uuids[opts.n_service_uuids]) < 0) {
          fprintf(stderr, "discover: '%s' is not a UUID\n", argv[i]);
          return 2;
        }
        opts.n_service_uuids++;
      }
      opts.service_uuids = uuids;
    } else {
      fprintf(stderr, "usage: discover [--timeout S] [--services UUID...] [--adapter hciN]\n");
      return strcmp(argv[i], "--help") ? 2 : 0;
    }
  }

  bleak_scanner *scanner;
  int r = bleak_scanner_new(&opts, &scanner);
  if (r == 0)
    r = bleak_scanner_discover(scanner, (int)(timeout * 1000)); /* BleakScanner.discover() */
  if (r < 0) {
    fprintf(stderr, "discover: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
    bleak_scanner_free(scanner);
    return 1;
  }
  printf("scanning for %.1f seconds found %zu devices\n", timeout,
         bleak_scanner_device_count(scanner));
  for (size_t i = 0; i < bleak_scanner_device_count(scanner); i++)
    print_device(bleak_scanner_device_at(scanner, i), bleak_scanner_adv_at(scanner, i));
  bleak_scanner_free(scanner);
  return 0;
}
