/* SPDX-License-Identifier: MIT */
/* UUIDs: every accepted form, every malformed one, wire forms, names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/error.h"
#include "bleak/uuid.h"
#include "core/internal.h"

#define HR_MEAS "00002a37-0000-1000-8000-00805f9b34fb"

static void assert_parses_to(const char *in, const char *want) {
  bleak_uuid u;
  char s[BLEAK_UUID_STR_LEN];
  assert_int_equal(bleak_uuid_parse(in, &u), 0);
  assert_string_equal(bleak_uuid_to_string(&u, s), want);
  assert_int_equal(bleak_uuid_normalize(in, s), 0);
  assert_string_equal(s, want);
}

static void test_accepted_forms(void **state) {
  (void)state;
  assert_parses_to("2a37", HR_MEAS);
  assert_parses_to("2A37", HR_MEAS);
  assert_parses_to("0x2A37", HR_MEAS);
  assert_parses_to("0X2a37", HR_MEAS);
  assert_parses_to("00002a37", HR_MEAS);
  assert_parses_to("0x00002A37", HR_MEAS);
  assert_parses_to("00002A37-0000-1000-8000-00805F9B34FB", HR_MEAS);
  assert_parses_to("00002a3700001000800000805f9b34fb", HR_MEAS);
  assert_parses_to("12345678", "12345678-0000-1000-8000-00805f9b34fb");
  assert_parses_to("6E400001-B5A3-F393-E0A9-E50E24DCCA9E",
                   "6e400001-b5a3-f393-e0a9-e50e24dcca9e");
  assert_parses_to("ffff", "0000ffff-0000-1000-8000-00805f9b34fb");
}

static void test_malformed(void **state) {
  (void)state;
  static const char *bad[] = {
      "",
      "0x",
      "2a3",
      "2a377",
      "0x2a3",
      " 2a37",
      "2a37 ",
      "+2a37",
      "-2a37",
      "2g37",
      "0x0x2a",
      "0x00002a37-0000-1000-8000-00805f9b34fb",
      "0x00002a3700001000800000805f9b34fb",
      "00002a37-0000-1000-8000-00805f9b34f",   /* 35 */
      "00002a37-0000-1000-8000-00805f9b34fbb", /* 37 */
      "00002a37-0000-1000-8000-00805f9b34f-",
      "00002a370-000-1000-8000-00805f9b34fb",  /* dash misplaced */
      "00002a37-0000-1000-8000_00805f9b34fb",
      "00002a37-0000-1000-8000-00805f9b34fz",
      "00002a3700001000800000805f9b34f",       /* 31 */
      "00002a3700001000800000805f9b34fbb",     /* 33 */
      "00002a37+0000-1000-8000-00805f9b34fb",
      "this is certainly not a uuid, and it is rather long too",
  };
  const bleak_uuid sentinel = bleak_uuid_from_u16(0x1234);
  for (size_t i = 0; i < BK_ARRAY_SIZE(bad); i++) {
    bleak_uuid u = sentinel;
    char s[BLEAK_UUID_STR_LEN] = "untouched";
    assert_int_equal(bleak_uuid_parse(bad[i], &u), BLEAK_ERR_INVALID_ARG);
    assert_true(bleak_uuid_equal(&u, &sentinel)); /* out left untouched */
    assert_non_null(strstr(bleak_error_detail(), "not a UUID"));
    assert_int_equal(bleak_uuid_normalize(bad[i], s), BLEAK_ERR_INVALID_ARG);
    assert_string_equal(bleak_uuid_str_name(bad[i]), "Unknown");
  }
}

static void test_null_arguments(void **state) {
  (void)state;
  bleak_uuid u = bleak_uuid_from_u16(1);
  char s[BLEAK_UUID_STR_LEN];
  uint8_t b[16];
  assert_int_equal(bleak_uuid_parse(NULL, &u), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_parse("2a37", NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_normalize(NULL, s), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_normalize("2a37", NULL), BLEAK_ERR_INVALID_ARG);
  assert_null(bleak_uuid_to_string(NULL, s));
  assert_null(bleak_uuid_to_string(&u, NULL));
  assert_int_equal(bleak_uuid_from_le_bytes(NULL, 2, &u), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_from_le_bytes(b, 2, NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_to_le_bytes(NULL, b, 16), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_to_le_bytes(&u, NULL, 16), BLEAK_ERR_INVALID_ARG);
  assert_false(bleak_uuid_equal(NULL, &u));
  assert_false(bleak_uuid_equal(&u, NULL));
  assert_false(bleak_uuid_is_16bit(NULL, NULL));
  assert_false(bleak_uuid_is_32bit(NULL, NULL));
  assert_null(bleak_uuid_name(NULL));
  assert_string_equal(bleak_uuid_str_name(NULL), "Unknown");
  assert_int_equal(bleak_uuid_register_name(NULL, "x"), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_register_name(&u, NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_register_name(&u, ""), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_compare(NULL, NULL), 0);
  assert_true(bleak_uuid_compare(NULL, &u) < 0);
  assert_true(bleak_uuid_compare(&u, NULL) > 0);
}

static void test_le_bytes(void **state) {
  (void)state;
  bleak_uuid u;
  uint8_t b16[2] = {0x37, 0x2a};
  assert_int_equal(bleak_uuid_from_le_bytes(b16, 2, &u), 0);
  bleak_uuid want = bleak_uuid_from_u16(0x2a37);
  assert_true(bleak_uuid_equal(&u, &want));
  uint16_t v;
  assert_true(bleak_uuid_is_16bit(&u, &v));
  assert_int_equal(v, 0x2a37);
  uint8_t b32[4] = {0x78, 0x56, 0x34, 0x12};
  assert_int_equal(bleak_uuid_from_le_bytes(b32, 4, &u), 0);
  uint32_t v32;
  assert_true(bleak_uuid_is_32bit(&u, &v32));
  assert_int_equal(v32, 0x12345678);
  assert_false(bleak_uuid_is_16bit(&u, &v));
  /* 128-bit: wire order is reversed text order. */
  bleak_uuid nus;
  assert_int_equal(bleak_uuid_parse("6e400001-b5a3-f393-e0a9-e50e24dcca9e", &nus), 0);
  uint8_t w[16];
  assert_int_equal(bleak_uuid_to_le_bytes(&nus, w, sizeof w), 16);
  assert_int_equal(w[0], 0x9e);
  assert_int_equal(w[15], 0x6e);
  assert_int_equal(bleak_uuid_from_le_bytes(w, 16, &u), 0);
  assert_true(bleak_uuid_equal(&u, &nus));
  /* A 16-bit UUID encodes to 2 bytes, a 32-bit one to 16. */
  bleak_uuid hr = bleak_uuid_from_u16(0x2a37);
  assert_int_equal(bleak_uuid_to_le_bytes(&hr, w, sizeof w), 2);
  assert_int_equal(w[0], 0x37);
  assert_int_equal(w[1], 0x2a);
  bleak_uuid u32 = bleak_uuid_from_u32(0x12345678);
  assert_int_equal(bleak_uuid_to_le_bytes(&u32, w, sizeof w), 16);
  assert_int_equal(bleak_uuid_from_le_bytes(w, 16, &u), 0);
  assert_true(bleak_uuid_equal(&u, &u32));
  /* Sizes. */
  static const size_t badlen[] = {0, 1, 3, 5, 15, 17};
  for (size_t i = 0; i < BK_ARRAY_SIZE(badlen); i++)
    assert_int_equal(bleak_uuid_from_le_bytes(w, badlen[i], &u), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_uuid_to_le_bytes(&hr, w, 1), BLEAK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bleak_uuid_to_le_bytes(&nus, w, 15), BLEAK_ERR_BUFFER_TOO_SMALL);
}

static void test_short_forms(void **state) {
  (void)state;
  uint16_t v16 = 0;
  uint32_t v32 = 0;
  bleak_uuid u = bleak_uuid_from_u16(0xffff);
  assert_true(bleak_uuid_is_16bit(&u, &v16));
  assert_int_equal(v16, 0xffff);
  u = bleak_uuid_from_u32(0x10000);
  assert_false(bleak_uuid_is_16bit(&u, &v16));
  assert_true(bleak_uuid_is_32bit(&u, &v32));
  assert_int_equal(v32, 0x10000);
  assert_int_equal(bleak_uuid_parse("6e400001-b5a3-f393-e0a9-e50e24dcca9e", &u), 0);
  assert_false(bleak_uuid_is_32bit(&u, &v32));
  assert_false(bleak_uuid_is_16bit(&u, NULL));
  /* The base UUID with one bit flipped outside the short value. */
  assert_int_equal(bleak_uuid_parse("00002a37-0000-1000-8000-00805f9b34fa", &u), 0);
  assert_false(bleak_uuid_is_16bit(&u, NULL));
}

static void test_compare(void **state) {
  (void)state;
  bleak_uuid a = bleak_uuid_from_u16(0x2a37), b = bleak_uuid_from_u16(0x2a38);
  assert_int_equal(bleak_uuid_compare(&a, &b), -1);
  assert_int_equal(bleak_uuid_compare(&b, &a), 1);
  assert_int_equal(bleak_uuid_compare(&a, &a), 0);
  assert_true(bleak_uuid_equal(&a, &a));
  assert_false(bleak_uuid_equal(&a, &b));
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(bleak_uuid_str_name("2a37"), "Heart Rate Measurement");
  assert_string_equal(bleak_uuid_str_name("180d"), "Heart Rate");
  assert_string_equal(bleak_uuid_str_name("0x2902"), "Client Characteristic Configuration");
  assert_string_equal(bleak_uuid_str_name("2a19"), "Battery Level");
  assert_string_equal(bleak_uuid_str_name("180F"), "Battery Service");
  assert_string_equal(bleak_uuid_str_name("2901"), "Characteristic User Description");
  assert_string_equal(bleak_uuid_str_name("6e400001-b5a3-f393-e0a9-e50e24dcca9e"),
                      "Nordic UART Service");
  assert_string_equal(bleak_uuid_str_name("b1e5c000-0000-4000-8000-000000000000"),
                      "Unknown");
  /* A 16-bit value the SIG has not assigned has no name. */
  bleak_uuid u = bleak_uuid_from_u16(0x0002);
  assert_null(bleak_uuid_name(&u));
}

static void test_registered_names(void **state) {
  (void)state;
  bleak_uuid mine;
  assert_int_equal(bleak_uuid_parse("b1e5c001-0000-4000-8000-000000000000", &mine), 0);
  assert_null(bleak_uuid_name(&mine));
  assert_int_equal(bleak_uuid_register_name(&mine, "My Sensor"), 0);
  assert_string_equal(bleak_uuid_name(&mine), "My Sensor");
  assert_string_equal(bleak_uuid_str_name("B1E5C001-0000-4000-8000-000000000000"),
                      "My Sensor");
  /* Replacing a name; overriding a SIG name. */
  assert_int_equal(bleak_uuid_register_name(&mine, "Renamed"), 0);
  assert_string_equal(bleak_uuid_name(&mine), "Renamed");
  bleak_uuid hr = bleak_uuid_from_u16(0x2a37);
  assert_int_equal(bleak_uuid_register_name(&hr, "HR"), 0);
  assert_string_equal(bleak_uuid_name(&hr), "HR");
  bleak_uuid_clear_registered_names();
  assert_null(bleak_uuid_name(&mine));
  assert_string_equal(bleak_uuid_name(&hr), "Heart Rate Measurement");
  bleak_uuid_clear_registered_names(); /* twice is fine */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepted_forms), cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_null_arguments), cmocka_unit_test(test_le_bytes),
      cmocka_unit_test(test_short_forms),    cmocka_unit_test(test_compare),
      cmocka_unit_test(test_names),          cmocka_unit_test(test_registered_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
