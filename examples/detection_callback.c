/* SPDX-License-Identifier: MIT */
/* detection_callback: Bleak's examples/detection_callback.py in C. Print
 * each advertisement as it arrives, for a while.
 *
 *   detection_callback [--timeout S] [--services UUID] [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_detect(bleak_scanner *scanner, const bleak_device *dev,
                      const bleak_adv_data *adv, void *user) {
  (void)scanner;
  unsigned *count = user;
  (*count)++;
  printf("%s RSSI: %d, name: %s, services: %zu, manufacturer data: %zu\n",
         bleak_device_address(dev), adv->rssi, adv->local_name ? adv->local_name : "None",
         adv->n_service_uuids, adv->n_manufacturer_data);
  fflush(stdout);
}

int main(int argc, char **argv) {
  bleak_scanner_options opts;
  bleak_scanner_options_init(&opts);
  bleak_uuid service;
  double timeout = 5.0;
  unsigned count = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
      timeout = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--adapter") && i + 1 < argc) {
      opts.adapter = argv[++i];
    } else if (!strcmp(argv[i], "--services") && i + 1 < argc &&
               bleak_uuid_parse(argv[i + 1], &service) == 0) {
      opts.service_uuids = &service;
      opts.n_service_uuids = 1;
      i++;
    } else {
      fprintf(stderr, "usage: detection_callback [--timeout S] [--services UUID] [--adapter hciN]\n");
      return strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  opts.detection_callback = on_detect; /* fires from the loop, per advertisement */
  opts.user_data = &count;

  bleak_scanner *scanner;
  int r = bleak_scanner_new(&opts, &scanner);
  if (r == 0)
    r = bleak_scanner_start(scanner);
  if (r == 0) {
    bool never = false; /* run the loop for the whole time: callbacks fire meanwhile */
    bleak_loop_run_until(bleak_loop_default(), &never, (int)(timeout * 1000));
    r = bleak_scanner_stop(scanner);
  }
  bleak_scanner_free(scanner);
  if (r < 0) {
    fprintf(stderr, "detection_callback: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
    return 1;
  }
  printf("%u advertisements\n", count);
  return 0;
}
