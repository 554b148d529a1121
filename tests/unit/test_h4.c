/* SPDX-License-Identifier: MIT */
/* The H4 framer: packets split anywhere, garbage skipped, oversized
 * packets dropped whole, SCO/ISO read and dropped, encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/error.h"
#include "transport/h4.h"

typedef struct got {
  int n;
  uint8_t type[8];
  size_t len[8];
  uint8_t first[8];
} got;

static void on_packet(void *user, uint8_t type, const uint8_t *pkt, size_t len) {
  got *g = user;
  if (g->n < 8) {
    g->type[g->n] = type;
    g->len[g->n] = len;
    g->first[g->n] = len ? pkt[0] : 0;
  }
  g->n++;
}

static const uint8_t stream[] = {
    0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00,             /* event: command complete */
    0x02, 0x40, 0x20, 0x03, 0x00, 0xaa, 0xbb, 0xcc,       /* ACL, 3 bytes */
    0x03, 0x01, 0x00, 0x02, 0x11, 0x22,                   /* SCO: dropped */
    0x04, 0x05, 0x04, 0x00, 0x40, 0x00, 0x13,             /* event: disconnection complete */
};

static void test_any_split(void **state) {
  (void)state;
  for (size_t step = 1; step <= sizeof stream; step++) {
    bk_h4 h;
    got g = {0};
    bk_h4_init(&h, on_packet, &g);
    size_t delivered = 0;
    for (size_t i = 0; i < sizeof stream; i += step)
      delivered += bk_h4_feed(&h, stream + i, sizeof stream - i < step ? sizeof stream - i : step);
    assert_int_equal(delivered, 3);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.type[0], BK_H4_EVENT);
    assert_int_equal(g.len[0], 6);
    assert_int_equal(g.first[0], 0x0e);
    assert_int_equal(g.type[1], BK_H4_ACL);
    assert_int_equal(g.len[1], 7);
    assert_int_equal(g.type[2], BK_H4_EVENT);
    assert_int_equal(g.first[2], 0x05);
    assert_int_equal(h.dropped, 0);
  }
}

static void test_garbage_and_oversized(void **state) {
  (void)state;
  bk_h4 h;
  got g = {0};
  bk_h4_init(&h, on_packet, &g);
  static const uint8_t junk[] = {0x00, 0x99, 0xff};
  assert_int_equal(bk_h4_feed(&h, junk, sizeof junk), 0);
  assert_int_equal(h.dropped, 3);
  /* An ACL packet of 0xffff bytes: skipped whole, then the next one counts. */
  uint8_t big[5 + 0xffff + 7];
  memset(big, 0x5a, sizeof big);
  big[0] = 0x02;
  big[1] = 0x40;
  big[2] = 0x20;
  big[3] = 0xff;
  big[4] = 0xff;
  memcpy(big + 5 + 0xffff, "\x04\x0e\x04\x01\x03\x0c\x00", 7);
  assert_int_equal(bk_h4_feed(&h, big, sizeof big), 1);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.first[0], 0x0e);
  /* An empty event (length 0) is a whole packet. */
  assert_int_equal(bk_h4_feed(&h, (const uint8_t *)"\x04\x10\x00", 3), 1);
  assert_int_equal(g.len[1], 2);
}

static void test_encode(void **state) {
  (void)state;
  uint8_t out[8];
  assert_int_equal(bk_h4_encode(BK_H4_COMMAND, (const uint8_t *)"\x03\x0c\x00", 3, out, sizeof out), 4);
  assert_memory_equal(out, "\x01\x03\x0c\x00", 4);
  assert_int_equal(bk_h4_encode(BK_H4_COMMAND, out, 8, out, 8), BLEAK_ERR_BUFFER_TOO_SMALL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_any_split),
      cmocka_unit_test(test_garbage_and_oversized),
      cmocka_unit_test(test_encode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
