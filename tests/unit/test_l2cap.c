/* SPDX-License-Identifier: MIT */
/* LE L2CAP: ACL headers, reassembly (split anywhere, bounded, strays and
 * overlaps dropped), fragmentation round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backend/hci/l2cap.h"
#include "bleak/error.h"

static void test_acl_header(void **state) {
  (void)state;
  static const uint8_t pkt[] = {0x40, 0x20, 0x03, 0x00, 1, 2, 3};
  uint16_t h;
  uint8_t pb;
  const uint8_t *d;
  size_t n;
  assert_int_equal(bk_acl_parse(pkt, sizeof pkt, &h, &pb, &d, &n), 0);
  assert_int_equal(h, 0x040);
  assert_int_equal(pb, BK_ACL_PB_START);
  assert_int_equal(n, 3);
  assert_int_equal(bk_acl_parse(pkt, sizeof pkt - 1, &h, &pb, &d, &n), BLEAK_ERR_PROTOCOL);
  assert_int_equal(bk_acl_parse(pkt, 3, &h, &pb, &d, &n), BLEAK_ERR_PROTOCOL);
}

/* Fragment a PDU, feed the fragments back (as the controller would mark
 * them), get it whole. For every ACL MTU from 1 to past the PDU. */
static void test_round_trip(void **state) {
  (void)state;
  uint8_t payload[300];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)i;
  for (size_t mtu = 1; mtu <= 310; mtu += (mtu < 10 ? 1 : 37)) {
    bk_l2cap_rx rx;
    bk_l2cap_rx_init(&rx, 0);
    size_t off = 0;
    uint8_t pkt[4 + 310];
    int n, got = 0;
    while ((n = bk_l2cap_fragment(0x41, BK_L2CAP_CID_ATT, payload, sizeof payload, mtu, &off, pkt,
                                  sizeof pkt)) > 0) {
      uint16_t h, cid = 0;
      uint8_t pb;
      const uint8_t *d, *pdu = NULL;
      size_t dn, pl = 0;
      assert_int_equal(bk_acl_parse(pkt, (size_t)n, &h, &pb, &d, &dn), 0);
      assert_int_equal(h, 0x41);
      if (pb == BK_ACL_PB_START_NO_FLUSH)
        pb = BK_ACL_PB_START;
      int r = bk_l2cap_rx_feed(&rx, pb, d, dn, &cid, &pdu, &pl);
      assert_true(r == 0 || r == 1);
      if (r == 1) {
        got++;
        assert_int_equal(cid, BK_L2CAP_CID_ATT);
        assert_int_equal(pl, sizeof payload);
        assert_memory_equal(pdu, payload, sizeof payload);
      }
    }
    assert_int_equal(n, 0);
    assert_int_equal(got, 1);
  }
}

static void test_strays_and_bounds(void **state) {
  (void)state;
  bk_l2cap_rx rx;
  bk_l2cap_rx_init(&rx, 27); /* the default LE MTU + header */
  uint16_t cid;
  const uint8_t *pdu;
  size_t pl;
  static const uint8_t cont[] = {1, 2, 3};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_CONTINUE, cont, 3, &cid, &pdu, &pl),
                   BLEAK_ERR_PROTOCOL);
  /* A PDU of 100 bytes on a link that takes 27: skipped whole, then the
   * next one is fine. */
  uint8_t big[4 + 10] = {100, 0, 4, 0};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_START, big, sizeof big, &cid, &pdu, &pl),
                   BLEAK_ERR_PROTOCOL);
  uint8_t rest[90] = {0};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_CONTINUE, rest, sizeof rest, &cid, &pdu, &pl), 0);
  static const uint8_t ok[] = {2, 0, 4, 0, 0x13, 0x00};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_START, ok, sizeof ok, &cid, &pdu, &pl), 1);
  assert_int_equal(pl, 2);
  /* A start while a PDU is incomplete: the old one goes, the new one counts. */
  static const uint8_t half[] = {10, 0, 4, 0, 1, 2};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_START, half, sizeof half, &cid, &pdu, &pl), 0);
  unsigned long dropped = rx.dropped;
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_START, ok, sizeof ok, &cid, &pdu, &pl), 1);
  assert_int_equal(rx.dropped, dropped + 1);
  /* More bytes than announced. */
  static const uint8_t over[] = {1, 0, 4, 0, 1, 2};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_START, over, sizeof over, &cid, &pdu, &pl),
                   BLEAK_ERR_PROTOCOL);
  /* The basic header split across fragments. */
  static const uint8_t h1[] = {3, 0}, h2[] = {6, 0, 9, 8, 7};
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_START, h1, 2, &cid, &pdu, &pl), 0);
  assert_int_equal(bk_l2cap_rx_feed(&rx, BK_ACL_PB_CONTINUE, h2, 5, &cid, &pdu, &pl), 1);
  assert_int_equal(cid, BK_L2CAP_CID_SMP);
  assert_int_equal(pl, 3);
  assert_int_equal(pdu[2], 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acl_header),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_strays_and_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
