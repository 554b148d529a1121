/* SPDX-License-Identifier: MIT */
/* Advertising data: the fixture's real advertisement, every field type,
 * and the malformed shapes (lengths past the end, odd UUID lists, padding). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/error.h"
#include "core/ad.h"

/* The fixture's advertisement (tests/vm/README.md) with a scan response. */
static const uint8_t fixture_ad[] = {
    0x02, 0x01, 0x06,                   /* flags: LE general, no BR/EDR */
    0x03, 0x03, 0x0d, 0x18,             /* complete 16-bit UUIDs: 180d */
    0x06, 0xff, 0xff, 0xff, 1, 2, 3,    /* manufacturer 0xffff: 01 02 03 */
    0x04, 0x16, 0x0f, 0x18, 0x57,       /* service data 180f: 57 */
    0x09, 0x09, 'b', 'l', 'e', 'a', 'k', '-', 'f', 'x', /* complete name */
    0x02, 0x0a, 0xf4,                   /* tx power -12 */
};

static void test_fixture_advertisement(void **state) {
  (void)state;
  bk_ad ad;
  assert_int_equal(bk_ad_parse(fixture_ad, sizeof fixture_ad, &ad), 0);
  assert_true(ad.has_flags);
  assert_int_equal(ad.flags, 6);
  assert_int_equal(ad.n_uuids, 1);
  uint16_t u16 = 0;
  assert_true(bleak_uuid_is_16bit(&ad.uuids[0], &u16));
  assert_int_equal(u16, 0x180d);
  assert_int_equal(ad.n_manufacturer, 1);
  assert_int_equal(ad.manufacturer[0].company_id, 0xffff);
  assert_int_equal(ad.manufacturer[0].len, 3);
  assert_memory_equal(ad.manufacturer[0].data, "\x01\x02\x03", 3);
  assert_int_equal(ad.n_service_data, 1);
  assert_true(bleak_uuid_is_16bit(&ad.service_data[0].uuid, &u16));
  assert_int_equal(u16, 0x180f);
  assert_int_equal(ad.service_data[0].len, 1);
  assert_int_equal(ad.service_data[0].data[0], 0x57);
  assert_true(ad.has_name && ad.name_complete);
  assert_string_equal(ad.name, "bleak-fx");
  assert_true(ad.has_tx_power);
  assert_int_equal(ad.tx_power, -12);

  bk_adv_report r;
  memset(&r, 0, sizeof r);
  bk_ad_to_report(&ad, &r);
  assert_string_equal(r.name, "bleak-fx");
  assert_true(r.has_service_uuids && r.n_service_uuids == 1);
  assert_true(r.has_manufacturer_data && r.has_service_data && r.has_tx_power);
}

static void test_uuid_widths_and_duplicates(void **state) {
  (void)state;
  static const uint8_t d[] = {
      0x05, 0x02, 0x0d, 0x18, 0x0f, 0x18,             /* 180d, 180f */
      0x03, 0x03, 0x0d, 0x18,                         /* 180d again: counted once */
      0x05, 0x05, 0x78, 0x56, 0x34, 0x12,             /* 32-bit 12345678 */
      0x11, 0x07, 0x01, 0x00, 0x00, 0x00, 0x00, 0x9e, 0x0d, 0x4c, /* 128-bit, LE */
      0x57, 0x7e, 0x00, 0x00, 0xe5, 0xb1, 0x00, 0x00,
  };
  bk_ad ad;
  assert_int_equal(bk_ad_parse(d, sizeof d, &ad), 0);
  assert_int_equal(ad.n_uuids, 4);
  char s[BLEAK_UUID_STR_LEN];
  assert_string_equal(bleak_uuid_to_string(&ad.uuids[2], s), "12345678-0000-1000-8000-00805f9b34fb");
  assert_string_equal(bleak_uuid_to_string(&ad.uuids[3], s), "0000b1e5-0000-7e57-4c0d-9e0000000001");
}

static void test_padding_ends_the_data(void **state) {
  (void)state;
  static const uint8_t d[] = {0x02, 0x01, 0x06, 0x00, 0xff, 0xff, 0xff};
  bk_ad ad;
  assert_int_equal(bk_ad_parse(d, sizeof d, &ad), 0);
  assert_true(ad.has_flags);
  assert_int_equal(ad.n_manufacturer, 0);
  assert_int_equal(bk_ad_parse(NULL, 0, &ad), 0);
  assert_false(ad.has_flags);
}

static void test_malformed(void **state) {
  (void)state;
  bk_ad ad;
  /* An entry longer than the data: what came before is kept. */
  static const uint8_t past_end[] = {0x02, 0x01, 0x06, 0x09, 0x09, 'a', 'b'};
  assert_int_equal(bk_ad_parse(past_end, sizeof past_end, &ad), BLEAK_ERR_PROTOCOL);
  assert_true(ad.has_flags);
  assert_false(ad.has_name);
  /* A UUID list of odd length is dropped; the entry after it still counts. */
  static const uint8_t odd[] = {0x04, 0x03, 0x0d, 0x18, 0x0f, 0x02, 0x0a, 0x05};
  assert_int_equal(bk_ad_parse(odd, sizeof odd, &ad), BLEAK_ERR_PROTOCOL);
  assert_int_equal(ad.n_uuids, 0);
  assert_true(ad.has_tx_power);
  assert_int_equal(ad.tx_power, 5);
  /* Too short for their types. */
  static const uint8_t shorts[] = {0x02, 0xff, 0x01, 0x02, 0x16, 0x0d, 0x01, 0x0a,
                                   0x03, 0x19, 0x01, 0x02};
  assert_int_equal(bk_ad_parse(shorts, sizeof shorts, &ad), BLEAK_ERR_PROTOCOL);
  assert_int_equal(ad.n_manufacturer, 0);
  assert_int_equal(ad.n_service_data, 0);
  assert_false(ad.has_tx_power);
  assert_true(ad.has_appearance);
  assert_int_equal(ad.appearance, 0x0201);
  /* A length byte with no type after it. */
  static const uint8_t lone[] = {0x01};
  assert_int_equal(bk_ad_parse(lone, sizeof lone, &ad), BLEAK_ERR_PROTOCOL);
  assert_int_equal(bk_ad_parse(fixture_ad, 3, NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_ad_parse(NULL, 3, &ad), BLEAK_ERR_INVALID_ARG);
}

static void test_names(void **state) {
  (void)state;
  bk_ad ad;
  /* Complete beats shortened, in either order; NUL cuts the name. */
  static const uint8_t d[] = {0x04, 0x09, 'a', 'b', 'c', 0x03, 0x08, 'a', 'b'};
  assert_int_equal(bk_ad_parse(d, sizeof d, &ad), 0);
  assert_string_equal(ad.name, "abc");
  assert_true(ad.name_complete);
  static const uint8_t e[] = {0x03, 0x08, 'a', 'b', 0x05, 0x09, 'x', 0, 'y', 'z'};
  assert_int_equal(bk_ad_parse(e, sizeof e, &ad), 0);
  assert_string_equal(ad.name, "x");
}

static void test_room_runs_out(void **state) {
  (void)state;
  /* 9 manufacturer entries: 8 kept, truncated. */
  uint8_t d[9 * 5];
  for (int i = 0; i < 9; i++) {
    d[i * 5] = 4;
    d[i * 5 + 1] = 0xff;
    d[i * 5 + 2] = (uint8_t)i;
    d[i * 5 + 3] = 0;
    d[i * 5 + 4] = 0xaa;
  }
  bk_ad ad;
  assert_int_equal(bk_ad_parse(d, sizeof d, &ad), 0);
  assert_int_equal(ad.n_manufacturer, BK_AD_MAX_MANUFACTURER);
  assert_true(ad.truncated);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixture_advertisement),
      cmocka_unit_test(test_uuid_widths_and_duplicates),
      cmocka_unit_test(test_padding_ends_the_data),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_room_runs_out),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
