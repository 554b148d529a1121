/* SPDX-License-Identifier: MIT */
/* uart_service: Bleak's examples/uart_service.py in C, a client of the
 * Nordic UART Service: each line typed is written to RX (without response,
 * in chunks of max_write_without_response_size) and what the peripheral
 * sends on TX is printed. Reads stdin with the loop's fd watch, so the
 * notifications keep coming while it waits for input. Ends at end of input
 * (after --linger S more seconds for late answers) or when the link drops.
 *
 *   uart_service ADDRESS [--linger S] [--adapter hciN]
 */
#include <bleak/bleak.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UART_RX "6e400002-b5a3-f393-e0a9-e50e24dcca9e" /* we write here */
#define UART_TX "6e400003-b5a3-f393-e0a9-e50e24dcca9e" /* it notifies here */

typedef struct uart {
  bleak_client *client;
  const bleak_gatt_characteristic *rx;
  bool eof, disconnected;
  int status;
} uart;

static void on_rx_data(bleak_client *c, const bleak_gatt_characteristic *sender,
                       const uint8_t *data, size_t len, void *user) {
  (void)c, (void)sender, (void)user;
  printf("received: %.*s\n", (int)len, (const char *)data);
  fflush(stdout);
}

static void on_disconnected(bleak_client *c, void *user) {
  (void)c;
  printf("Device was disconnected, goodbye.\n");
  ((uart *)user)->disconnected = true;
}

static void on_sent(bleak_client *c, int status, void *user) {
  (void)c;
  uart *u = user;
  if (status < 0 && u->status == 0)
    u->status = status;
}

/* stdin is readable: send what came, chunk by chunk. */
static void on_stdin(bleak_source *src, int fd, uint32_t events, void *user) {
  (void)src, (void)events;
  uart *u = user;
  uint8_t buf[1024];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) {
    u->eof = true;
    bleak_source_free(src);
    return;
  }
  size_t max = bleak_gatt_characteristic_max_write_without_response_size(u->rx);
  for (size_t off = 0; off < (size_t)n; off += max) {
    size_t len = (size_t)n - off < max ? (size_t)n - off : max;
    /* Async: the writes go out in order, one behind the other. */
    int r = bleak_client_write_gatt_char_async(u->client, u->rx, buf + off, len,
                                               BLEAK_WRITE_WITHOUT_RESPONSE, on_sent, u);
    if (r < 0) {
      u->status = r;
      u->eof = true;
      return;
    }
  }
  printf("sent: %.*s", (int)n, (const char *)buf);
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *address = NULL;
  double linger = 2.0;
  bleak_client_options opts;
  bleak_client_options_init(&opts);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--linger") && i + 1 < argc)
      linger = atof(argv[++i]);
    else if (!strcmp(argv[i], "--adapter") && i + 1 < argc)
      opts.adapter = argv[++i];
    else if (argv[i][0] != '-' && !address)
      address = argv[i];
    else
      address = NULL, argc = 0;
  }
  if (!address) {
    fprintf(stderr, "usage: uart_service ADDRESS [--linger S] [--adapter hciN]\n");
    return 2;
  }
  uart u = {0};
  opts.disconnected_callback = on_disconnected;
  opts.disconnected_user_data = &u;
  const bleak_gatt_characteristic *tx = NULL;
  int r = bleak_client_new(address, &opts, &u.client);
  if (r == 0)
    r = bleak_client_connect(u.client);
  if (r == 0)
    r = bleak_client_char_by_uuid(u.client, UART_RX, &u.rx);
  if (r == 0)
    r = bleak_client_char_by_uuid(u.client, UART_TX, &tx);
  if (r == 0)
    r = bleak_client_start_notify(u.client, tx, on_rx_data, &u);
  bleak_loop *loop = bleak_client_loop(u.client);
  bleak_source *in = NULL;
  if (r == 0)
    r = bleak_loop_add_io(loop, STDIN_FILENO, BLEAK_IO_READ, on_stdin, &u, &in);
  if (r < 0) {
    fprintf(stderr, "uart_service: %s (%s)\n", bleak_strerror(r), bleak_error_detail());
    bleak_client_free(u.client);
    return 1;
  }
  printf("Connected, start typing and press ENTER...\n");
  fflush(stdout);
  while (!u.eof && !u.disconnected)
    bleak_loop_run_once(loop, -1);
  if (!u.disconnected) {
    bool never = false; /* answers to the last line may still be on their way */
    bleak_loop_run_until(loop, &never, (int)(linger * 1000));
  }
  bleak_client_free(u.client);
  if (u.status < 0)
    fprintf(stderr, "uart_service: %s (%s)\n", bleak_strerror(u.status), bleak_error_detail());
  return u.status < 0 ? 1 : 0;
}
