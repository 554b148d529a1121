/* SPDX-License-Identifier: MIT */
/* Hex text to bytes for the unit tests, which write PDUs as the spec's
 * tables do ("12 07 0800 ..."; spaces are for the reader), and sent
 * bytes checked against such text. Include after <cmocka.h>: a malformed
 * string or one longer than @p cap fails the test. */
#ifndef BLEAK_TEST_HEX_H
#define BLEAK_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline size_t test_unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (*s) {
    if (*s == ' ') {
      s++;
      continue;
    }
    unsigned v;
    assert_int_equal(sscanf(s, "%2x", &v), 1);
    assert_true(n < cap);
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

/* Fail the test (naming @p line) unless @p got (@p got_len bytes) is the
 * hex text @p hex. */
static inline void test_expect_bytes(const uint8_t *got, size_t got_len, const char *hex,
                                     int line) {
  uint8_t want[600];
  size_t n = test_unhex(hex, want, sizeof want);
  if (got_len == n && memcmp(got, want, n) == 0)
    return;
  char text[2 * 600 + 1] = "";
  for (size_t i = 0; i < got_len && i < 600; i++)
    snprintf(text + 2 * i, 3, "%02x", got[i]);
  fail_msg("line %d: sent %s, expected %s", line, text, hex);
}

#endif
