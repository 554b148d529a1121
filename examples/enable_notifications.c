/* SPDX-License-Identifier: MIT */
/* enable_notifications: Bleak's examples/enable_notifications.py in C.
 * Subscribe to a characteristic and print what arrives for a while.
 *
 *   enable_notifications ADDRESS [CHAR_UUID] [--duration S] [--adapter hciN]
 * CHAR_UUID defaults to the Heart Rate Measurement (2a37).
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void notification_handler(bleak_client *client, const bleak_gatt_characteristic *sender,
                                 const uint8_t *data, size_t len, void *user) {
  (void)client;
  char u[BLEAK_UUID_STR_LEN];
  (*(unsigned *)user)++;
  printf("%s (%s): ", bleak_gatt_characteristic_description(sender),
         bleak_uuid_to_string(bleak_gatt_characteristic_uuid(sender), u));
  for (size_t i = 0; i < len; i++)
    printf("%02x", data[i]);
  printf("\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *address = NULL, *uuid = "2a37";
  double duration = 5.0;
  unsigned count = 0;
  bleak_client_options opts;
  bleak_client_options_init(&opts);
  int operands = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--duration") && i + 1 < argc)
      duration = atof(argv[++i]);
    else if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      opts.adapter = argv[++i];
    else if (argv[i][0] != '-' && operands == 0)
      address = argv[i], operands++;
    else if (argv[i][0] != '-' && operands == 1)
      uuid = argv[i], operands++;
    else
      address = NULL, argc = 0;
  }
  if (!address) {
    fprintf(stderr, "usage: enable_notifications ADDRESS [CHAR_UUID] [--duration S] [--adapter hciN]\n");
    return 2;
  }

  bleak_client *client;
  const bleak_gatt_characteristic *ch = NULL;
  int r = bleak_client_new(address, &opts, &client);
  if (r == 0)
    r = bleak_client_connect(client);
  if (r == 0)
    r = bleak_client_char_by_uuid(client, uuid, &ch);
  if (r == 0)
    r = bleak_client_start_notify(client, ch, notification_handler, &count);
  if (r == 0) {
    bool never = false; /* notifications fire while the loop runs */
    bleak_loop_run_until(bleak_client_loop(client), &never, (int)(duration * 1000));
    r = bleak_client_stop_notify(client, ch);
  }
  if (r < 0)
    fprintf(stderr, "enable_notifications: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
  else
    printf("%u notifications\n", count);
  bleak_client_free(client); /* disconnects */
  return r < 0 ? 1 : 0;
}
