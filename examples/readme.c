/* SPDX-License-Identifier: MIT */
/* The README's example, built so that it keeps compiling:
 *   readme ADDRESS   (default 00:AA:01:01:00:01, the test fixture) */
#include <bleak/bleak.h>
#include <stdio.h>

static void on_hr(bleak_client *c, const bleak_gatt_characteristic *sender,
                  const uint8_t *data, size_t len, void *user) {
  (void)c, (void)user;
  printf("%s: %zu bytes, bpm %u\n", bleak_gatt_characteristic_description(sender),
         len, len > 1 ? data[1] : 0);
}

int main(void) {
  bleak_client *client;
  const bleak_gatt_characteristic *model, *hr;
  uint8_t value[BLEAK_MAX_ATTR_VALUE];
  size_t len;
  int r = bleak_client_new("00:AA:01:01:00:01", NULL, &client);
  if (r == 0)
    r = bleak_client_connect(client);                        /* also discovers services */
  if (r != 0) {
    fprintf(stderr, "%s: %s\n", bleak_strerror(r), bleak_error_detail());
    bleak_client_free(client);
    return 1;
  }
  if (bleak_client_char_by_uuid(client, "2a24", &model) == 0 &&
      bleak_client_read_gatt_char(client, model, value, sizeof value, &len) == 0)
    printf("model: %.*s\n", (int)len, (const char *)value);
  if (bleak_client_char_by_uuid(client, "2a37", &hr) == 0 &&
      bleak_client_start_notify(client, hr, on_hr, NULL) == 0) {
    bool never = false;   /* notifications fire while the loop runs */
    bleak_loop_run_until(bleak_client_loop(client), &never, 5000);
    bleak_client_stop_notify(client, hr);
  }
  bleak_client_free(client);                                 /* disconnects */
  return 0;
}
