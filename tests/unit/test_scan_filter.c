/* SPDX-License-Identifier: MIT */
/* The scanner options' filters: their checks, copies, and what passes
 * (RSSI, path loss, pattern, or-patterns on the raw AD bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/error.h"
#include "core/scan_filter.h"

static const uint8_t mfr[] = {0x4c, 0x00, 0x02, 0x15};

static int copy(bleak_scanner_options *o) {
  bk_scan_filter f;
  int r = bk_scan_filter_copy(o, &f);
  bk_scan_filter_free(&f);
  return r;
}

static void test_checks(void **state) {
  (void)state;
  bleak_scanner_options o;
  bleak_scanner_options_init(&o);
  assert_int_equal(copy(&o), 0);
  o.filter.rssi = -128;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG);
  o.filter.rssi = 21;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG);
  o.filter.rssi = -70;
  assert_int_equal(copy(&o), 0);
  o.filter.pathloss = 50;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG); /* not both */
  assert_non_null(strstr(bleak_error_detail(), "not both"));
  o.filter.rssi = 0;
  assert_int_equal(copy(&o), 0);
  o.filter.pathloss = 138;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG);
  o.filter.pathloss = 0;
  o.filter.duplicate_data = (bleak_duplicates)3;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG);
  o.filter.duplicate_data = BLEAK_DUPLICATES_OFF;
  char long_pattern[250];
  memset(long_pattern, 'a', 249);
  long_pattern[249] = '\0';
  o.filter.pattern = long_pattern;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG);
  o.filter.pattern = "AA:BB";
  o.n_or_patterns = 1;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG); /* no array */
  bleak_or_pattern p = {.start_position = 0, .ad_type = 0xff, .data = mfr, .len = 0};
  o.or_patterns = &p;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG); /* empty */
  p.len = 4;
  p.start_position = 28;
  assert_int_equal(copy(&o), BLEAK_ERR_INVALID_ARG); /* past byte 31 */
  p.start_position = 27;
  assert_int_equal(copy(&o), 0);
}

static void test_copies_are_owned(void **state) {
  (void)state;
  bleak_scanner_options o;
  bleak_scanner_options_init(&o);
  char pattern[] = "AA:BB";
  uint8_t data[] = {0x4c, 0x00};
  bleak_or_pattern p = {.ad_type = 0xff, .data = data, .len = 2};
  o.filter.pattern = pattern;
  o.or_patterns = &p;
  o.n_or_patterns = 1;
  bk_scan_filter f;
  assert_int_equal(bk_scan_filter_copy(&o, &f), 0);
  pattern[0] = 'x';
  data[0] = 0;
  p.len = 9;
  assert_string_equal(o.filter.pattern, "AA:BB");
  assert_int_equal(o.or_patterns[0].len, 2);
  assert_int_equal(o.or_patterns[0].data[0], 0x4c);
  bk_scan_filter_free(&f);
}

static void test_or_pattern(void **state) {
  (void)state;
  /* flags, then manufacturer data 4c 00 02 15 .., then a name. */
  static const uint8_t ad[] = {2, 0x01, 0x06, 7, 0xff, 0x4c, 0x00, 0x02, 0x15, 0xaa, 0xbb,
                               3, 0x09, 'h', 'i', 0, 0};
  bleak_or_pattern p = {.start_position = 0, .ad_type = 0xff, .data = mfr, .len = 4};
  assert_true(bk_or_pattern_match(&p, ad, sizeof ad));
  p.start_position = 2;
  p.data = (const uint8_t *)"\x02\x15\xaa\xbb";
  assert_true(bk_or_pattern_match(&p, ad, sizeof ad));
  p.len = 5; /* one past the structure's data */
  p.data = (const uint8_t *)"\x02\x15\xaa\xbb\x03";
  assert_false(bk_or_pattern_match(&p, ad, sizeof ad));
  bleak_or_pattern name = {.ad_type = 0x09, .data = (const uint8_t *)"hi", .len = 2};
  assert_true(bk_or_pattern_match(&name, ad, sizeof ad));
  name.ad_type = 0x08;
  assert_false(bk_or_pattern_match(&name, ad, sizeof ad));
  /* Hostile: a length past the end stops the walk. */
  static const uint8_t bad[] = {2, 0x01, 0x06, 30, 0x09, 'h', 'i'};
  name.ad_type = 0x09;
  assert_false(bk_or_pattern_match(&name, bad, sizeof bad));
  assert_false(bk_or_pattern_match(&name, bad, 0));
}

static void test_match(void **state) {
  (void)state;
  bleak_scanner_options o;
  bleak_scanner_options_init(&o);
  bleak_adv_data adv = {.rssi = -60, .tx_power = BLEAK_TX_POWER_NONE};
  assert_true(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  o.filter.rssi = -59;
  assert_false(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  o.filter.rssi = -60;
  assert_true(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  o.filter.rssi = 0;
  o.filter.pathloss = 70;
  assert_false(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv)); /* no TX power */
  adv.tx_power = 10; /* path loss 70 */
  assert_true(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  adv.rssi = -61;
  assert_false(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  o.filter.pathloss = 0;
  o.filter.pattern = "AA:BB";
  assert_true(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  assert_false(bk_scan_filter_match(&o, "11:22:33:44:55:66", "other", &adv));
  o.filter.pattern = "Therm";
  assert_true(bk_scan_filter_match(&o, "11:22:33:44:55:66", "Thermometer", &adv));
  o.filter.pattern = NULL;
  bleak_or_pattern p = {.ad_type = 0xff, .data = mfr, .len = 4};
  o.or_patterns = &p;
  o.n_or_patterns = 1;
  assert_true(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv)); /* no raw: backend's */
  static const uint8_t other[] = {3, 0xff, 0x06, 0x00};
  static const uint8_t rsp[] = {5, 0xff, 0x4c, 0x00, 0x02, 0x15};
  adv.raw_advertisement = other;
  adv.raw_advertisement_len = sizeof other;
  assert_false(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
  adv.raw_scan_response = rsp;
  adv.raw_scan_response_len = sizeof rsp;
  assert_true(bk_scan_filter_match(&o, "AA:BB:CC:DD:EE:FF", NULL, &adv));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checks),
      cmocka_unit_test(test_copies_are_owned),
      cmocka_unit_test(test_or_pattern),
      cmocka_unit_test(test_match),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
