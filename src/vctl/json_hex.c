/* SPDX-License-Identifier: MIT */
/* Hex strings in JSON: see json_hex.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "vctl/json_hex.h"

int vctl_json_hex(const json_t *v, uint8_t *out, size_t cap, size_t *len, char *err,
                  size_t errlen) {
  if (!json_is_string(v)) {
    snprintf(err, errlen, "expected a hex string");
    return -1;
  }
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n % 2) {
    snprintf(err, errlen, "hex of odd length %zu", n);
    return -1;
  }
  if (n / 2 > cap) {
    snprintf(err, errlen, "%zu bytes, more than %zu", n / 2, cap);
    return -1;
  }
  for (size_t i = 0; i < n; i += 2) {
    /* A NUL inside the string (\u0000) is not a digit either. */
    int hi = bk_hex_value(s[i]), lo = bk_hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) {
      char c = hi < 0 ? s[i] : s[i + 1];
      snprintf(err, errlen, "not hex at character %zu: '%c'", i + (hi < 0 ? 0 : 1),
               c > 0x20 && c < 0x7f ? c : '?');
      return -1;
    }
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  *len = n / 2;
  return 0;
}

json_t *vctl_json_hex_string(const uint8_t *bytes, size_t len) {
  static const char digits[] = "0123456789abcdef";
  char *s = malloc(2 * len + 1);
  if (!s)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    s[2 * i] = digits[bytes[i] >> 4];
    s[2 * i + 1] = digits[bytes[i] & 15];
  }
  s[2 * len] = 0;
  json_t *j = json_stringn(s, 2 * len);
  free(s);
  return j;
}
