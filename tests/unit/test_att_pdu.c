/* SPDX-License-Identifier: MIT */
/* ATT responses a client gets: each list shape, and the malformed ones
 * (Find Information bad format, entries that do not frame, short PDUs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backend/hci/att_pdu.h"
#include "bleak/error.h"

#define PARSE(p, bytes) bk_att_parse((const uint8_t *)(bytes), sizeof(bytes) - 1, (p))

static void test_simple(void **state) {
  (void)state;
  bk_att_pdu p;
  assert_int_equal(PARSE(&p, "\x01\x0a\x12\x00\x0a"), 0);
  assert_int_equal(p.u.error.request, 0x0a);
  assert_int_equal(p.u.error.handle, 0x12);
  assert_int_equal(p.u.error.code, 0x0a);
  assert_int_equal(PARSE(&p, "\x03\x05\x02"), 0);
  assert_int_equal(p.u.mtu.mtu, 517);
  assert_int_equal(PARSE(&p, "\x03\x16\x00"), BLEAK_ERR_PROTOCOL); /* MTU 22 */
  assert_int_equal(PARSE(&p, "\x1b\x12\x00\x57"), 0);
  assert_int_equal(p.u.value.handle, 0x12);
  assert_int_equal(p.u.value.len, 1);
  assert_int_equal(PARSE(&p, "\x1b\x12"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&p, "\x13"), 0);
  assert_int_equal(PARSE(&p, "\x13\x00"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&p, "\x0a\x03\x00"), BLEAK_ERR_NOT_SUPPORTED); /* a request */
  assert_int_equal(p.opcode, BK_ATT_READ_REQ);
}

static void test_discovery_lists(void **state) {
  (void)state;
  bk_att_pdu p;
  /* Read By Group Type: two 16-bit services. */
  assert_int_equal(PARSE(&p, "\x11\x06\x01\x00\x07\x00\x00\x18\x08\x00\x11\x00\x01\x18"), 0);
  assert_int_equal(p.u.list.n, 2);
  uint16_t s, e;
  bleak_uuid u;
  uint16_t u16 = 0;
  assert_int_equal(bk_att_group_at(&p, 1, &s, &e, &u), 0);
  assert_int_equal(s, 8);
  assert_int_equal(e, 0x11);
  assert_true(bleak_uuid_is_16bit(&u, &u16) && u16 == 0x1801);
  assert_int_equal(PARSE(&p, "\x11\x07\x01\x00\x07\x00\x00\x18\x00"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&p, "\x11\x06\x01\x00\x07\x00\x00"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&p, "\x11\x06"), BLEAK_ERR_PROTOCOL); /* empty list */
  /* Read By Type: characteristic declarations of 7 bytes. */
  assert_int_equal(PARSE(&p, "\x09\x07\x02\x00\x12\x03\x00\x19\x2a"), 0);
  const uint8_t *v;
  size_t vl;
  uint16_t h;
  bk_att_typed_at(&p, 0, &h, &v, &vl);
  assert_int_equal(h, 2);
  assert_int_equal(vl, 5);
  assert_int_equal(v[0], 0x12);
  assert_int_equal(PARSE(&p, "\x09\x01\x02"), BLEAK_ERR_PROTOCOL); /* entry length 1 */
  assert_int_equal(PARSE(&p, "\x09\x07\x02\x00\x12\x03\x00\x19"), BLEAK_ERR_PROTOCOL);
  /* Find Information: format 1, then a bad format. */
  assert_int_equal(PARSE(&p, "\x05\x01\x03\x00\x02\x29\x04\x00\x01\x29"), 0);
  assert_int_equal(p.u.list.n, 2);
  bk_att_info_at(&p, 1, &h, &u);
  assert_int_equal(h, 4);
  assert_true(bleak_uuid_is_16bit(&u, &u16) && u16 == 0x2901);
  assert_int_equal(PARSE(&p, "\x05\x03\x03\x00\x02\x29"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&p, "\x05\x02\x03\x00\x02\x29"), BLEAK_ERR_PROTOCOL); /* 128-bit, short */
  /* Find By Type Value: handle ranges. */
  assert_int_equal(PARSE(&p, "\x07\x10\x00\x20\x00"), 0);
  bk_att_range_at(&p, 0, &s, &e);
  assert_int_equal(s, 0x10);
  assert_int_equal(e, 0x20);
  assert_int_equal(PARSE(&p, "\x07\x10\x00\x20"), BLEAK_ERR_PROTOCOL);
}

static void test_tuples(void **state) {
  (void)state;
  bk_att_pdu p;
  /* Read Multiple Variable: two values, the last cut to the MTU. */
  assert_int_equal(PARSE(&p, "\x21\x01\x00\x57\x05\x00\x61\x62"), 0);
  size_t pos = 0, vl;
  uint16_t h;
  const uint8_t *v;
  assert_int_equal(bk_att_tuple_next(&p, &pos, &h, &v, &vl), 1);
  assert_int_equal(vl, 1);
  assert_int_equal(v[0], 0x57);
  assert_int_equal(bk_att_tuple_next(&p, &pos, &h, &v, &vl), 1);
  assert_int_equal(vl, 2);
  assert_int_equal(bk_att_tuple_next(&p, &pos, &h, &v, &vl), 0);
  /* Multiple Handle Value Notification: a length past the end is an error. */
  assert_int_equal(PARSE(&p, "\x23\x12\x00\x01\x00\x57\x16\x00\x02\x00\x01\x02"), 0);
  pos = 0;
  assert_int_equal(bk_att_tuple_next(&p, &pos, &h, &v, &vl), 1);
  assert_int_equal(h, 0x12);
  assert_int_equal(bk_att_tuple_next(&p, &pos, &h, &v, &vl), 1);
  assert_int_equal(h, 0x16);
  assert_int_equal(vl, 2);
  assert_int_equal(PARSE(&p, "\x23\x12\x00\x05\x00\x57"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&p, "\x23\x12\x00\x01"), BLEAK_ERR_PROTOCOL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple),
      cmocka_unit_test(test_discovery_lists),
      cmocka_unit_test(test_tuples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
