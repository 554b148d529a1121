/* SPDX-License-Identifier: MIT */
/* disconnect_callback: Bleak's examples/disconnect_callback.py in C.
 * Connect, then wait until the peripheral goes away (switch it off, or let
 * it drop the link): the disconnected callback fires once.
 *
 *   disconnect_callback ADDRESS [--timeout S] [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_disconnected(bleak_client *client, void *user) {
  printf("Disconnected callback called! (%s)\n", bleak_client_address(client));
  fflush(stdout);
  *(bool *)user = true;
}

int main(int argc, char **argv) {
  const char *address = NULL;
  double timeout = 60.0;
  bool disconnected = false;
  bleak_client_options opts;
  bleak_client_options_init(&opts);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
      timeout = atof(argv[++i]);
    else if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      opts.adapter = argv[++i];
    else if (argv[i][0] != '-' && !address)
      address = argv[i];
    else
      address = NULL, argc = 0;
  }
  if (!address) {
    fprintf(stderr, "usage: disconnect_callback ADDRESS [--timeout S] [--adapter hciN]\n");
    return 2;
  }
  opts.disconnected_callback = on_disconnected; /* BleakClient(disconnected_callback=...) */
  opts.disconnected_user_data = &disconnected;

  bleak_client *client;
  int r = bleak_client_new(address, &opts, &client);
  if (r == 0)
    r = bleak_client_connect(client);
  if (r < 0) {
    fprintf(stderr, "disconnect_callback: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
    bleak_client_free(client);
    return 1;
  }
  printf("Connected to %s; sleeping until the device disconnects...\n", address);
  fflush(stdout);
  r = bleak_loop_run_until(bleak_client_loop(client), &disconnected, (int)(timeout * 1000));
  bleak_client_free(client);
  if (r < 0) {
    fprintf(stderr, "disconnect_callback: still connected after %.0f s\n", timeout);
    return 1;
  }
  return 0;
}
