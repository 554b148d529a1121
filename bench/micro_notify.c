/* SPDX-License-Identifier: MIT */
/*
 * Microbenchmark: a notification stream through the hci backend's layers,
 * outside the guest. A fake controller (tests/support/fake_controller.c)
 * writes pre-recorded H4 bytes (sequence-numbered Handle Value
 * Notifications, one ACL packet each) into the transport socket; they go
 * through the H4 framer, HCI, L2CAP reassembly, the ATT bearer, the client
 * core and its subscription lookup to the user's callback, which checks
 * order and loss.
 *
 * Prints one line of JSON: notifications, seconds, notifications per
 * second, and heap allocations made while the stream flowed (malloc,
 * calloc and realloc are wrapped at link time; the fake's buffer is filled
 * before counting starts). bench/micro.sh runs it under callgrind for
 * instructions per notification.
 *   micro_notify N [PAYLOAD]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bleak/bleak.h"
#include "fake_controller.h"

/* ---- allocation counting (-Wl,--wrap=...) ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
static unsigned long allocs;
void *__wrap_malloc(size_t n) {
  allocs++;
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m) {
  allocs++;
  return __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n) {
  allocs++;
  return __real_realloc(p, n);
}

static unsigned long received, out_of_order, next_seq;

static void on_note(bleak_client *c, const bleak_gatt_characteristic *ch, const uint8_t *d,
                    size_t n, void *u) {
  (void)c;
  (void)ch;
  (void)u;
  if (n < 4)
    return; /* the fake's one-byte hello on subscribing */
  uint32_t seq = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                 (uint32_t)d[3] << 24;
  if (seq != next_seq)
    out_of_order++;
  next_seq = seq + 1;
  received++;
}

static void queue_stream(fake_controller *f, unsigned long from, unsigned long n, size_t len) {
  uint8_t v[600];
  memset(v, 0xa5, sizeof v);
  for (unsigned long i = 0; i < n; i++) {
    uint32_t seq = (uint32_t)(from + i);
    memcpy(v, &seq, 4); /* little-endian hosts: the bench runs on x86 */
    fake_controller_notify(f, 3, v, len);
  }
}

static int run_until(bleak_loop *loop, unsigned long want) {
  for (int idle = 0; received < want && idle < 500;) {
    unsigned long before = received;
    bleak_loop_run_once(loop, 10);
    idle = received == before ? idle + 1 : 0;
  }
  return received >= want ? 0 : -1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
  size_t len = argc > 2 ? strtoul(argv[2], NULL, 10) : 244; /* one 251-byte LE packet */
  if (len < 4 || len > 512) {
    fprintf(stderr, "usage: micro_notify N [PAYLOAD 4..512]\n");
    return 2;
  }
  bleak_log_set_level(BLEAK_LOG_WARNING);
  bleak_loop *loop = NULL;
  fake_controller f;
  if (bleak_loop_new(&loop) || fake_controller_start(&f, loop)) {
    fprintf(stderr, "micro_notify: set-up failed\n");
    return 1;
  }
  f.mtu = 517;
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_HCI;
  o.hci_transport = f.transport;
  bleak_client *c = NULL;
  const bleak_gatt_characteristic *ch = NULL;
  int r = bleak_client_new(FAKE_PEER, &o, &c);
  if (!r)
    r = bleak_client_connect(c);
  if (!r)
    r = bleak_client_char_by_uuid(c, "2a19", &ch);
  if (!r)
    r = bleak_client_start_notify(c, ch, on_note, NULL);
  if (r) {
    fprintf(stderr, "micro_notify: %s\n", bleak_strerror(r));
    return 1;
  }
  /* Warm up: buffers reach their steady sizes. */
  enum { WARM = 2000 };
  queue_stream(&f, 0, WARM, len);
  if (run_until(loop, WARM) != 0) {
    fprintf(stderr, "micro_notify: warm-up stalled at %lu\n", received);
    return 1;
  }
  queue_stream(&f, WARM, n, len);
  unsigned long a0 = allocs;
  double t0 = now_s();
  r = run_until(loop, WARM + n);
  double t = now_s() - t0;
  unsigned long a = allocs - a0;
  printf("{\"notifications\": %lu, \"payload\": %zu, \"seconds\": %.6f, \"per_second\": %.0f, "
         "\"allocations\": %lu, \"allocations_per_notification\": %.6f, \"lost\": %lu, "
         "\"out_of_order\": %lu}\n",
         received - WARM, len, t, t > 0 ? (double)(received - WARM) / t : 0.0, a,
         n ? (double)a / (double)n : 0.0, WARM + n - received, out_of_order);
  bleak_client_free(c);
  fake_controller_stop(&f);
  bleak_loop_free(loop);
  return r == 0 && out_of_order == 0 ? 0 : 1;
}
