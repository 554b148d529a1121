/* SPDX-License-Identifier: MIT */
/* SMP while pairing is not supported: requests to pair refused (with the
 * reason the spec gives for a wrong length), everything else ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend/hci/smp.h"
#include "bleak/error.h"

static uint8_t out[BK_SMP_MAX_ANSWER];

#define REFUSE(...) refuse((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))
static int refuse(const uint8_t *pdu, size_t len) {
  out[0] = out[1] = 0xee;
  return bk_smp_refuse(pdu, len, out, sizeof out);
}

static void test_pairing_refused(void **state) {
  (void)state;
  /* Pairing Request: IO NoInputNoOutput, no OOB, bonding, key 16 */
  assert_int_equal(REFUSE(0x01, 0x03, 0x00, 0x01, 0x10, 0x07, 0x07), 2);
  assert_int_equal(out[0], BK_SMP_PAIRING_FAILED);
  assert_int_equal(out[1], BK_SMP_PAIRING_NOT_SUPPORTED);
  /* Security Request (a peripheral asks us to pair) */
  assert_int_equal(REFUSE(0x0b, 0x01), 2);
  assert_int_equal(out[0], BK_SMP_PAIRING_FAILED);
  assert_int_equal(out[1], BK_SMP_PAIRING_NOT_SUPPORTED);
}

static void test_wrong_lengths(void **state) {
  (void)state;
  assert_int_equal(REFUSE(0x01), 2);
  assert_int_equal(out[1], BK_SMP_INVALID_PARAMETERS);
  assert_int_equal(REFUSE(0x01, 0x03, 0x00, 0x01, 0x10, 0x07, 0x07, 0x00), 2);
  assert_int_equal(out[1], BK_SMP_INVALID_PARAMETERS);
  assert_int_equal(REFUSE(0x0b), 2);
  assert_int_equal(out[1], BK_SMP_INVALID_PARAMETERS);
  assert_int_equal(REFUSE(0x0b, 0x01, 0x02), 2);
  assert_int_equal(out[1], BK_SMP_INVALID_PARAMETERS);
}

static void test_others_ignored(void **state) {
  (void)state;
  assert_int_equal(bk_smp_refuse(NULL, 0, out, sizeof out), 0);
  assert_int_equal(REFUSE(BK_SMP_PAIRING_FAILED, BK_SMP_PAIRING_NOT_SUPPORTED), 0);
  assert_int_equal(REFUSE(BK_SMP_PAIRING_RESPONSE, 3, 0, 1, 16, 0, 0), 0);
  assert_int_equal(REFUSE(BK_SMP_PAIRING_CONFIRM, 0), 0);
  assert_int_equal(REFUSE(0x00), 0);
  assert_int_equal(REFUSE(0xff, 0xff), 0);
  assert_int_equal(out[0], 0xee); /* nothing written */
}

static void test_arguments(void **state) {
  (void)state;
  static const uint8_t sr[] = {0x0b, 0x01};
  assert_int_equal(bk_smp_refuse(sr, sizeof sr, out, 1), BLEAK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bk_smp_refuse(sr, sizeof sr, NULL, 2), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_refuse(NULL, 2, out, sizeof out), BLEAK_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pairing_refused),
      cmocka_unit_test(test_wrong_lengths),
      cmocka_unit_test(test_others_ignored),
      cmocka_unit_test(test_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
