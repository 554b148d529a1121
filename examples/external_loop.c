/* SPDX-License-Identifier: MIT */
/* external_loop: bleak-c driven by a program's own event loop, here a plain
 * poll() loop (GLib, libuv or Qt work the same way: watch bleak_loop_fd()
 * for input, wake up by bleak_loop_timeout_ms(), call bleak_loop_dispatch()).
 * Async API only: connect, read the battery level, take three heart-rate
 * notifications, disconnect.
 *
 *   external_loop ADDRESS [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct app {
  bleak_client *client;
  const bleak_gatt_characteristic *hr;
  unsigned beats;
  bool done;
  int status;
} app;

static void finish(app *a, int status) {
  if (status < 0 && a->status == 0) {
    a->status = status;
    fprintf(stderr, "external_loop: %s (%s)\n", bleak_strerror(status), bleak_error_detail());
  }
  a->done = true;
}

static void on_disconnected(bleak_client *c, int status, void *user) {
  (void)c;
  printf("disconnected\n");
  finish(user, status);
}

static void on_beat(bleak_client *c, const bleak_gatt_characteristic *sender,
                    const uint8_t *data, size_t len, void *user) {
  (void)sender;
  app *a = user;
  if (a->beats == 3)
    return;
  printf("heart rate: %u bpm\n", len > 1 ? data[1] : 0);
  if (++a->beats == 3) {
    int r = bleak_client_disconnect_async(c, on_disconnected, a);
    if (r < 0)
      finish(a, r);
  }
}

static void on_subscribed(bleak_client *c, int status, void *user) {
  (void)c;
  if (status < 0)
    finish(user, status);
}

static void on_battery(bleak_client *c, int status, const uint8_t *data, size_t len, void *user) {
  app *a = user;
  if (status == 0 && len == 1)
    printf("battery level: %u%%\n", data[0]);
  if (status == 0)
    status = bleak_client_char_by_uuid(c, "2a37", &a->hr);
  if (status == 0)
    status = bleak_client_start_notify_async(c, a->hr, on_beat, a, on_subscribed, a);
  if (status < 0)
    finish(a, status);
}

static void on_connected(bleak_client *c, int status, void *user) {
  app *a = user;
  const bleak_gatt_characteristic *battery;
  if (status == 0) {
    printf("connected, MTU %d\n", bleak_client_mtu_size(c));
    status = bleak_client_char_by_uuid(c, "2a19", &battery);
  }
  if (status == 0)
    status = bleak_client_read_gatt_char_async(c, battery, on_battery, a);
  if (status < 0)
    finish(a, status);
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
    fprintf(stderr, "usage: external_loop ADDRESS [--adapter hciN]\n");
    return 2;
  }
  bleak_loop *loop;
  if (bleak_loop_new(&loop) < 0)
    return 1;
  opts.loop = loop;
  app a = {0};
  int r = bleak_client_new(address, &opts, &a.client);
  if (r == 0)
    r = bleak_client_connect_async(a.client, on_connected, &a);
  if (r < 0)
    finish(&a, r);

  /* The program's own loop: here it would also watch its own fds. */
  while (!a.done) {
    struct pollfd pfd = {.fd = bleak_loop_fd(loop), .events = POLLIN};
    if (poll(&pfd, 1, bleak_loop_timeout_ms(loop)) < 0)
      break;
    bleak_loop_dispatch(loop); /* runs whatever is due: I/O, timers, callbacks */
  }
  bleak_client_free(a.client);
  bleak_loop_free(loop);
  return a.status < 0 || a.beats < 3 ? 1 : 0;
}
