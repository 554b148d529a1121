/* SPDX-License-Identifier: MIT */
/* mtu_size: Bleak's examples/mtu_size.py in C. Show the negotiated ATT MTU
 * and how much a write without response may carry, and send one that big.
 *
 *   mtu_size ADDRESS [CHAR_UUID] [--adapter hciN]
 * CHAR_UUID: a characteristic with write-without-response (default: the
 * first one found).
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <string.h>

static const bleak_gatt_characteristic *first_wwr(const bleak_gatt_services *s) {
  for (size_t i = 0; i < bleak_gatt_services_count(s); i++) {
    const bleak_gatt_service *svc = bleak_gatt_services_at(s, i);
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(svc); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(svc, j);
      if (bleak_gatt_characteristic_properties(ch) & BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE)
        return ch;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *address = NULL, *uuid = NULL;
  bleak_client_options opts;
  bleak_client_options_init(&opts);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      opts.adapter = argv[++i];
    else if (argv[i][0] != '-' && !address)
      address = argv[i];
    else if (argv[i][0] != '-' && !uuid)
      uuid = argv[i];
    else
      address = NULL, argc = 0;
  }
  if (!address) {
    fprintf(stderr, "usage: mtu_size ADDRESS [CHAR_UUID] [--adapter hciN]\n");
    return 2;
  }
  bleak_client *client;
  const bleak_gatt_characteristic *ch = NULL;
  int r = bleak_client_new(address, &opts, &client);
  if (r == 0)
    r = bleak_client_connect(client);
  if (r == 0 && uuid)
    r = bleak_client_char_by_uuid(client, uuid, &ch);
  else if (r == 0 && !(ch = first_wwr(bleak_client_services(client))))
    r = BLEAK_ERR_NOT_FOUND;
  if (r == 0) {
    size_t max = bleak_gatt_characteristic_max_write_without_response_size(ch);
    printf("mtu_size: %d\n", bleak_client_mtu_size(client));
    printf("max_write_without_response_size: %zu\n", max);
    /* One write that uses all of it, as the Python example does. */
    static uint8_t data[BLEAK_MAX_ATTR_VALUE];
    memset(data, 0, sizeof data);
    r = bleak_client_write_gatt_char(client, ch, data, max, BLEAK_WRITE_WITHOUT_RESPONSE);
    if (r == 0)
      printf("wrote %zu bytes without response\n", max);
  }
  if (r < 0)
    fprintf(stderr, "mtu_size: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
  bleak_client_free(client);
  return r < 0 ? 1 : 0;
}
