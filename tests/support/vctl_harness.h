/* SPDX-License-Identifier: MIT */
/* One ATT connection to a virtual peripheral, driven by a test: PDUs in
 * as hex text (h_in), what the server sent checked in order (h_expect,
 * h_none), a fake clock (h->now), a controller that can be full
 * (h->full). Include after <cmocka.h>. */
#ifndef BLEAK_TEST_VCTL_HARNESS_H
#define BLEAK_TEST_VCTL_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "vctl/att_server.h"
#include "vctl/peripheral.h"

#define H_KEEP 512 /* PDUs kept for h_expect; more are only counted */

typedef struct harness {
  vctl_peripheral **list;
  size_t n;
  vctl_att_conn *c;
  uint8_t sent[H_KEEP][520];
  size_t sent_len[H_KEEP];
  size_t n_sent, read;
  bool full;
  int disconnects;
  uint8_t reason;
  uint64_t now;
} harness;

static inline bool h_send(void *ctx, const uint8_t *pdu, size_t len) {
  harness *h = ctx;
  if (h->full)
    return false;
  assert_true(len >= 1 && len <= 517);
  if (h->n_sent < H_KEEP) {
    memcpy(h->sent[h->n_sent], pdu, len);
    h->sent_len[h->n_sent] = len;
  }
  h->n_sent++;
  return true;
}

static inline void h_disconnect(void *ctx, uint8_t reason) {
  harness *h = ctx;
  h->disconnects++;
  h->reason = reason;
}

static inline vctl_att_conn *h_conn(harness *h, size_t which, uint16_t max_mtu) {
  const vctl_att_io io = {h_send, h_disconnect, h};
  vctl_att_conn *c = vctl_att_conn_new(h->list[which], max_mtu, &io);
  assert_non_null(c);
  return c;
}

/* Load @p path (a file) and open a connection to its first peripheral. */
static inline void h_open(harness *h, const char *path, uint16_t max_mtu) {
  memset(h, 0, sizeof *h);
  char err[256];
  int r = vctl_peripherals_load(path, &h->list, &h->n, err, sizeof err);
  if (r)
    fail_msg("%s", err);
  h->c = h_conn(h, 0, max_mtu);
}

static inline void h_open_string(harness *h, const char *json, uint16_t max_mtu) {
  memset(h, 0, sizeof *h);
  char err[256];
  if (vctl_peripherals_load_string(json, "test.json", &h->list, &h->n, err, sizeof err))
    fail_msg("%s", err);
  h->c = h_conn(h, 0, max_mtu);
}

static inline void h_close(harness *h) {
  vctl_att_conn_free(h->c);
  vctl_peripherals_free(h->list, h->n);
}

static inline void h_in_at(harness *h, vctl_att_conn *c, const char *hex) {
  uint8_t pdu[600];
  size_t n = test_unhex(hex, pdu, sizeof pdu);
  vctl_att_conn_input(c, pdu, n, h->now);
}
#define h_in(h, hex) h_in_at((h), (h)->c, (hex))

static inline void h_expect_line(harness *h, const char *hex, int line) {
  if (h->read >= h->n_sent || h->read >= H_KEEP)
    fail_msg("line %d: nothing sent, expected %s", line, hex);
  test_expect_bytes(h->sent[h->read], h->sent_len[h->read], hex, line);
  h->read++;
}
#define h_expect(h, hex) h_expect_line((h), (hex), __LINE__)

static inline void h_none_line(harness *h, int line) {
  if (h->read < h->n_sent)
    fail_msg("line %d: %zu more PDUs sent (the next begins %02x)", line, h->n_sent - h->read,
             h->sent[h->read < H_KEEP ? h->read : 0][0]);
}
#define h_none(h) h_none_line((h), __LINE__)

/* Forget what was sent so far. */
static inline void h_drain(harness *h) { h->read = h->n_sent; }

/* Run the connection's timers up to @p until, deadline by deadline. */
static inline void h_run_until(harness *h, vctl_att_conn *c, uint64_t until) {
  for (int guard = 0; guard < 100000; guard++) {
    uint64_t d = vctl_att_conn_deadline(c);
    if (d > until)
      break;
    if (d > h->now)
      h->now = d;
    vctl_att_conn_tick(c, h->now);
  }
  h->now = until;
}

/* cmocka setup and teardown over one harness on the fixture's database,
 * at time @p start: every PDU sent must have been checked at the end. */
#define H_FIXTURE_SETUP(h, start)                                                                \
  static int setup(void **state) {                                                               \
    (void)state;                                                                                 \
    h_open(&(h), BLEAK_FIXTURE_DB, 517);                                                         \
    (h).now = (start);                                                                           \
    return 0;                                                                                    \
  }                                                                                              \
  static int teardown(void **state) {                                                            \
    (void)state;                                                                                 \
    h_none(&(h));                                                                                \
    h_close(&(h));                                                                               \
    return 0;                                                                                    \
  }

#endif
