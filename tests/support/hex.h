/* SPDX-License-Identifier: MIT */
/* Hex text to bytes for the unit tests, which write PDUs as the spec's
 * tables do ("12 07 0800 ..."; spaces are for the reader). Include after
 * <cmocka.h>: a malformed string or one longer than @p cap fails the
 * test. */
#ifndef BLEAK_TEST_HEX_H
#define BLEAK_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

#endif
