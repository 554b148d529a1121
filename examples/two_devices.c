/* SPDX-License-Identifier: MIT */
/* two_devices: Bleak's examples/two_devices.py in C. Two peripherals at
 * once on one loop: connect both concurrently with the async API, subscribe
 * to a characteristic on each, count what arrives.
 *
 *   two_devices ADDRESS1 ADDRESS2 [CHAR_UUID] [--duration S] [--adapter hciN]
 *               [--adapter2 hciM]
 * CHAR_UUID defaults to the Heart Rate Measurement (2a37). --adapter2 takes
 * the second device through another adapter (a real controller holds many
 * links; the test guest's emulated ones hold one each as central).
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct peer {
  bleak_client *client;
  const char *uuid;
  int status;      /* 1 while connecting, then 0 or the error */
  unsigned values; /* notifications received */
} peer;

static void on_value(bleak_client *c, const bleak_gatt_characteristic *sender,
                     const uint8_t *data, size_t len, void *user) {
  (void)sender, (void)data;
  peer *p = user;
  p->values++;
  printf("%s: %zu bytes\n", bleak_client_address(c), len);
}

static void on_subscribed(bleak_client *c, int status, void *user) {
  peer *p = user;
  p->status = status;
  printf("%s: %s\n", bleak_client_address(c), status ? bleak_strerror(status) : "subscribed");
}

static void on_connected(bleak_client *c, int status, void *user) {
  peer *p = user;
  const bleak_gatt_characteristic *ch;
  if (status == 0)
    status = bleak_client_char_by_uuid(c, p->uuid, &ch);
  if (status == 0) {
    printf("%s: connected\n", bleak_client_address(c));
    status = bleak_client_start_notify_async(c, ch, on_value, p, on_subscribed, p);
    if (status > 0)
      return; /* on_subscribed ends it */
  }
  p->status = status;
  fprintf(stderr, "%s: %s (%s)\n", bleak_client_address(c), bleak_strerror(status),
          bleak_error_detail());
}

int main(int argc, char **argv) {
  const char *addr[2] = {NULL, NULL}, *uuid = "2a37", *adapter2 = NULL;
  double duration = 5.0;
  bleak_client_options opts;
  bleak_client_options_init(&opts);
  int operands = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--duration") && i + 1 < argc)
      duration = atof(argv[++i]);
    else if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      opts.adapter = argv[++i];
    else if (!strcmp(argv[i], "--adapter2") && i + 1 < argc)
      adapter2 = argv[++i];
    else if (argv[i][0] != '-' && operands < 2)
      addr[operands++] = argv[i];
    else if (argv[i][0] != '-' && operands == 2)
      uuid = argv[i], operands++;
    else
      operands = -99;
  }
  if (operands < 2) {
    fprintf(stderr, "usage: two_devices ADDRESS1 ADDRESS2 [CHAR_UUID] [--duration S] "
                    "[--adapter hciN] [--adapter2 hciM]\n");
    return 2;
  }
  bleak_loop *loop = bleak_loop_default(); /* both clients share it */
  opts.loop = loop;
  peer peers[2] = {{.uuid = uuid, .status = 1}, {.uuid = uuid, .status = 1}};
  for (int i = 0; i < 2; i++) {
    if (i == 1 && adapter2)
      opts.adapter = adapter2;
    int r = bleak_client_new(addr[i], &opts, &peers[i].client);
    if (r == 0)
      r = bleak_client_connect_async(peers[i].client, on_connected, &peers[i]);
    if (r < 0) {
      fprintf(stderr, "%s: %s (%s)\n", addr[i], bleak_strerror(r), bleak_error_detail());
      peers[i].status = r;
    }
  }
  /* Both connects run at once (each bounded by its own timeout) ... */
  while (peers[0].status == 1 || peers[1].status == 1)
    bleak_loop_run_once(loop, -1);
  /* ... then notifications from both, for a while. */
  bool never = false;
  bleak_loop_run_until(loop, &never, (int)(duration * 1000));
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    printf("%s: %u notifications\n", addr[i], peers[i].values);
    if (peers[i].status != 0 || peers[i].values == 0)
      rc = 1;
    bleak_client_free(peers[i].client);
  }
  return rc;
}
