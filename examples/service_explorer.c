/* SPDX-License-Identifier: MIT */
/* service_explorer: Bleak's examples/service_explorer.py in C. Connect and
 * print every service, characteristic and descriptor, with the values of
 * those that can be read.
 *
 *   service_explorer ADDRESS [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <string.h>

static void print_value(int r, const uint8_t *v, size_t len) {
  if (r < 0) {
    printf(", Error: %s", bleak_strerror(r));
    return;
  }
  printf(", Value: ");
  for (size_t i = 0; i < len; i++)
    printf("%02x", v[i]);
}

int main(int argc, char **argv) {
  const char *address = NULL;
  bleak_client_options opts;
  bleak_client_options_init(&opts);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      opts.adapter = argv[++i];
    else if (argv[i][0] != '-' && !address)
      address = argv[i];
    else
      address = NULL, argc = 0;
  }
  if (!address) {
    fprintf(stderr, "usage: service_explorer ADDRESS [--adapter hciN]\n");
    return 2;
  }
  bleak_client *client;
  int r = bleak_client_new(address, &opts, &client);
  if (r == 0)
    r = bleak_client_connect(client);
  if (r < 0) {
    fprintf(stderr, "service_explorer: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
    bleak_client_free(client);
    return 1;
  }
  printf("Connected: %s\n", bleak_client_is_connected(client) ? "True" : "False");
  /* Our own reference: the tree stays valid if the link drops midway. */
  bleak_gatt_services *services = bleak_gatt_services_ref(bleak_client_services(client));
  static uint8_t value[BLEAK_MAX_ATTR_VALUE];
  size_t len;
  char u[BLEAK_UUID_STR_LEN], props[256];
  for (size_t i = 0; i < bleak_gatt_services_count(services); i++) {
    const bleak_gatt_service *svc = bleak_gatt_services_at(services, i);
    printf("[Service] %s (Handle: %u): %s\n", bleak_uuid_to_string(bleak_gatt_service_uuid(svc), u),
           bleak_gatt_service_handle(svc), bleak_gatt_service_description(svc));
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(svc); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(svc, j);
      uint32_t p = bleak_gatt_characteristic_properties(ch);
      bleak_gatt_properties_format(p, props, sizeof props);
      printf("  [Characteristic] %s (Handle: %u): %s (%s)",
             bleak_uuid_to_string(bleak_gatt_characteristic_uuid(ch), u),
             bleak_gatt_characteristic_handle(ch), bleak_gatt_characteristic_description(ch), props);
      if (p & BLEAK_GATT_PROP_READ) {
        r = bleak_client_read_gatt_char(client, ch, value, sizeof value, &len);
        print_value(r, value, len);
      }
      printf("\n");
      for (size_t k = 0; k < bleak_gatt_characteristic_descriptor_count(ch); k++) {
        const bleak_gatt_descriptor *d = bleak_gatt_characteristic_descriptor_at(ch, k);
        printf("    [Descriptor] %s (Handle: %u): %s",
               bleak_uuid_to_string(bleak_gatt_descriptor_uuid(d), u), bleak_gatt_descriptor_handle(d),
               bleak_gatt_descriptor_description(d));
        r = bleak_client_read_gatt_descriptor(client, d, value, sizeof value, &len);
        print_value(r, value, len);
        printf("\n");
      }
    }
  }
  bleak_gatt_services_unref(services);
  printf("disconnecting...\n");
  bleak_client_free(client); /* disconnects */
  return 0;
}
