/* SPDX-License-Identifier: MIT */
/* scan_by_filter: Bleak's BleakScanner.find_device_by_filter() (and the
 * scanner_byname.py example) in C. Find the first device whose name, or
 * one of whose advertised services, matches; then connect to it.
 *
 *   scan_by_filter (--name NAME | --service UUID) [--timeout S] [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wanted {
  const char *name;
  bool by_service;
  bleak_uuid service;
} wanted;

/* The predicate, as Bleak's filterfunc(device, advertisement_data). */
static bool match(const bleak_device *dev, const bleak_adv_data *adv, void *user) {
  const wanted *w = user;
  if (w->name)
    return adv->local_name ? !strcmp(adv->local_name, w->name)
                           : bleak_device_name(dev) && !strcmp(bleak_device_name(dev), w->name);
  for (size_t i = 0; i < adv->n_service_uuids; i++)
    if (bleak_uuid_equal(&adv->service_uuids[i], &w->service))
      return true;
  return false;
}

int main(int argc, char **argv) {
  wanted w = {0};
  double timeout = 10.0;
  bleak_scanner_options sopts;
  bleak_scanner_options_init(&sopts);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--name") && i + 1 < argc)
      w.name = argv[++i];
    else if (!strcmp(argv[i], "--service") && i + 1 < argc && bleak_uuid_parse(argv[i + 1], &w.service) == 0)
      w.by_service = true, i++;
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
      timeout = atof(argv[++i]);
    else if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      sopts.adapter = argv[++i];
    else
      argc = 0;
  }
  if (!w.name && !w.by_service) {
    fprintf(stderr, "usage: scan_by_filter (--name NAME | --service UUID) [--timeout S] [--adapter hciN]\n");
    return 2;
  }
  bleak_scanner *scanner;
  const bleak_device *dev = NULL;
  int r = bleak_scanner_new(&sopts, &scanner);
  if (r == 0)
    r = bleak_scanner_find_device_by_filter(scanner, match, &w, (int)(timeout * 1000), &dev);
  if (r < 0) {
    fprintf(stderr, "scan_by_filter: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
    bleak_scanner_free(scanner);
    return 1;
  }
  printf("found %s (%s)\n", bleak_device_address(dev), bleak_device_name(dev) ? bleak_device_name(dev) : "");

  /* BleakClient(device): connect to what the scan found. */
  bleak_client_options copts;
  bleak_client_options_init(&copts);
  copts.adapter = sopts.adapter;
  bleak_client *client;
  r = bleak_client_new_from_device(dev, &copts, &client);
  bleak_scanner_free(scanner); /* the client copied what it needs */
  if (r == 0)
    r = bleak_client_connect(client);
  if (r == 0)
    printf("connected: %zu services\n", bleak_gatt_services_count(bleak_client_services(client)));
  else
    fprintf(stderr, "scan_by_filter: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
  bleak_client_free(client);
  return r < 0 ? 1 : 0;
}
