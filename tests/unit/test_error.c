/* SPDX-License-Identifier: MIT */
/* Error codes: messages, names, protocol ranges, the detail message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

static void test_own_codes(void **state) {
  (void)state;
  assert_string_equal(bleak_strerror(BLEAK_OK), "success");
  assert_string_equal(bleak_err_name(BLEAK_OK), "BLEAK_OK");
  assert_string_equal(bleak_strerror(BLEAK_ERR_TIMEOUT), "operation timed out");
  assert_string_equal(bleak_err_name(BLEAK_ERR_TIMEOUT), "BLEAK_ERR_TIMEOUT");
  assert_string_equal(bleak_err_name(BLEAK_ERR_DEVICE_NOT_FOUND),
                      "BLEAK_ERR_DEVICE_NOT_FOUND");
  assert_string_equal(bleak_err_name(BLEAK_ERR_AMBIGUOUS), "BLEAK_ERR_AMBIGUOUS");
  /* Every own code has a distinct message and a name of its own. */
  static const int codes[] = {
#define CODE_(name, val, msg) val,
      BLEAK_ERRNO_MAP(CODE_)
#undef CODE_
  };
  for (size_t i = 0; i < BK_ARRAY_SIZE(codes); i++) {
    assert_true(codes[i] < 0 && codes[i] > -BLEAK_ERR_ATT_BASE);
    assert_string_not_equal(bleak_strerror(codes[i]), "unknown error");
    assert_string_not_equal(bleak_err_name(codes[i]), "BLEAK_ERR_UNKNOWN");
    for (size_t j = 0; j < i; j++) {
      assert_int_not_equal(codes[i], codes[j]);
      assert_string_not_equal(bleak_strerror(codes[i]), bleak_strerror(codes[j]));
    }
    assert_false(bleak_error_is_att(codes[i]));
    assert_int_equal(bleak_error_att_code(codes[i]), 0);
  }
}

/* The "Bluetooth is not available" reasons: fixed values (the other
 * helpers' codes sit next to them), their own message each, and the
 * predicate that takes exactly them. */
static void test_not_available(void **state) {
  (void)state;
  assert_int_equal(BLEAK_ERR_NO_ADAPTER, -23);
  assert_int_equal(BLEAK_ERR_POWERED_OFF, -24);
  assert_int_equal(BLEAK_ERR_RFKILL, -25);
  assert_int_equal(BLEAK_ERR_NO_BLUETOOTHD, -26);
  assert_int_equal(BLEAK_ERR_PERMISSION, -27);
  assert_string_equal(bleak_err_name(BLEAK_ERR_RFKILL), "BLEAK_ERR_RFKILL");
  assert_string_equal(bleak_strerror(BLEAK_ERR_POWERED_OFF),
                      "Bluetooth is not available: adapter powered off");
  for (int e = -40; e <= 0; e++)
    assert_int_equal(bleak_error_is_not_available(e), e <= -23 && e >= -27);
  assert_false(bleak_error_is_not_available(BLEAK_ERR_ATT(23)));
}

static void test_att_codes(void **state) {
  (void)state;
  int e = BLEAK_ERR_ATT(BLEAK_ATT_WRITE_NOT_PERMITTED);
  assert_int_equal(e, -0x103);
  assert_true(bleak_error_is_att(e));
  assert_false(bleak_error_is_hci(e));
  assert_false(bleak_error_is_smp(e));
  assert_int_equal(bleak_error_att_code(e), 0x03);
  assert_string_equal(bleak_strerror(e), "ATT: Write Not Permitted");
  assert_string_equal(bleak_err_name(e), "BLEAK_ERR_ATT(0x03)");
  assert_string_equal(bleak_strerror(BLEAK_ERR_ATT(0x0f)), "ATT: Insufficient Encryption");
  assert_string_equal(bleak_strerror(BLEAK_ERR_ATT(0x05)),
                      "ATT: Insufficient Authentication");
  assert_string_equal(bleak_strerror(BLEAK_ERR_ATT(0x80)), "ATT: Application Error");
  assert_string_equal(bleak_strerror(BLEAK_ERR_ATT(0xfd)),
                      "ATT: Client Characteristic Configuration Descriptor "
                      "Improperly Configured");
  assert_string_equal(bleak_strerror(BLEAK_ERR_ATT(0xe0)),
                      "ATT: Common Profile and Service Error");
  assert_string_equal(bleak_strerror(BLEAK_ERR_ATT(0x40)), "ATT: Reserved Error Code");
  /* Every ATT code 1..255 round-trips. */
  for (int c = 1; c <= 255; c++) {
    assert_true(bleak_error_is_att(BLEAK_ERR_ATT(c)));
    assert_int_equal(bleak_error_att_code(BLEAK_ERR_ATT(c)), c);
    assert_int_equal(strncmp(bleak_strerror(BLEAK_ERR_ATT(c)), "ATT: ", 5), 0);
  }
  /* Code 0 is not an error: -0x100 is outside every range. */
  assert_false(bleak_error_is_att(-0x100));
  assert_string_equal(bleak_strerror(-0x100), "unknown error");
}

static void test_hci_smp_codes(void **state) {
  (void)state;
  int h = BLEAK_ERR_HCI(0x13);
  assert_true(bleak_error_is_hci(h));
  assert_false(bleak_error_is_att(h));
  assert_int_equal(bleak_error_att_code(h), 0);
  assert_string_equal(bleak_strerror(h), "HCI: Remote User Terminated Connection");
  assert_string_equal(bleak_err_name(h), "BLEAK_ERR_HCI(0x13)");
  assert_string_equal(bleak_strerror(BLEAK_ERR_HCI(0x77)), "HCI: error status");
  int s = BLEAK_ERR_SMP(0x04);
  assert_true(bleak_error_is_smp(s));
  assert_string_equal(bleak_strerror(s), "SMP: Confirm Value Failed");
  assert_string_equal(bleak_err_name(s), "BLEAK_ERR_SMP(0x04)");
}

static void test_unknown_codes(void **state) {
  (void)state;
  static const int odd[] = {-28, -255, -0x400, -0x10000, -2147483647 - 1};
  for (size_t i = 0; i < BK_ARRAY_SIZE(odd); i++) {
    assert_string_equal(bleak_strerror(odd[i]), "unknown error");
    assert_string_equal(bleak_err_name(odd[i]), "BLEAK_ERR_UNKNOWN");
    assert_false(bleak_error_is_att(odd[i]));
  }
  assert_string_equal(bleak_strerror(42), "success");
}

static void test_detail(void **state) {
  (void)state;
  bk_clear_detail();
  assert_string_equal(bleak_error_detail(), "");
  assert_int_equal(bk_fail(BLEAK_ERR_NOT_FOUND, "no characteristic %s", "2a37"),
                   BLEAK_ERR_NOT_FOUND);
  assert_string_equal(bleak_error_detail(), "no characteristic 2a37");
  /* Long messages are cut, not overflowed. */
  char big[1024];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  bk_fail(BLEAK_ERR_IO, "%s", big);
  assert_int_equal(strlen(bleak_error_detail()), 255);
  bk_clear_detail();
  assert_string_equal(bleak_error_detail(), "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_own_codes),   cmocka_unit_test(test_att_codes), cmocka_unit_test(test_not_available),
      cmocka_unit_test(test_hci_smp_codes), cmocka_unit_test(test_unknown_codes),
      cmocka_unit_test(test_detail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
