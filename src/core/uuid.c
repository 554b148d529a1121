/* SPDX-License-Identifier: MIT */
/* UUIDs: parse, format, compare, wire forms, names (Bleak's bleak.uuids). */
#include <stdlib.h>
#include <string.h>

#include "bleak/uuid.h"
#include "core/internal.h"
#include "core/uuid_names.h"

/* 0000xxxx-0000-1000-8000-00805f9b34fb */
static const uint8_t base_uuid[16] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x10, 0x00, 0x80, 0x00, 0x00, 0x80,
                                      0x5f, 0x9b, 0x34, 0xfb};


/* Decode @p n hex digits (n even) at @p s into @p out; false on a non-hex
 * character. */
static bool hex_bytes(const char *s, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; i += 2) {
    int hi = bk_hex_value(s[i]), lo = bk_hex_value(s[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

bleak_uuid bleak_uuid_from_u32(uint32_t v) {
  bleak_uuid u;
  memcpy(u.bytes, base_uuid, 16);
  u.bytes[0] = (uint8_t)(v >> 24);
  u.bytes[1] = (uint8_t)(v >> 16);
  u.bytes[2] = (uint8_t)(v >> 8);
  u.bytes[3] = (uint8_t)v;
  return u;
}

bleak_uuid bleak_uuid_from_u16(uint16_t v) { return bleak_uuid_from_u32(v); }

static int parse_fail(const char *str, const char *why) {
  return bk_fail(BLEAK_ERR_INVALID_ARG, "not a UUID: \"%.40s\" (%s)", str, why);
}

/* The 36-character form: dashes at 8, 13, 18, 23, hex elsewhere. */
static bool parse_dashed(const char *s, uint8_t out[16]) {
  static const size_t groups[5][2] = {{0, 8}, {9, 4}, {14, 4}, {19, 4}, {24, 12}};
  if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return false;
  size_t o = 0;
  for (int g = 0; g < 5; g++) {
    if (!hex_bytes(s + groups[g][0], groups[g][1], out + o))
      return false;
    o += groups[g][1] / 2;
  }
  return true;
}

int bleak_uuid_parse(const char *str, bleak_uuid *out) {
  if (!str || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_uuid_parse: NULL argument");
  const char *s = str;
  /* strnlen: never read past what a 36-character UUID needs. */
  size_t len = strnlen(s, 40);
  bool prefixed = len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (prefixed) {
    s += 2;
    len -= 2;
  }
  uint8_t b[16];
  switch (len) {
  case 4:
  case 8: {
    uint8_t v[4] = {0};
    if (!hex_bytes(s, len, v + (8 - len) / 2))
      return parse_fail(str, "not hex");
    memcpy(b, base_uuid, 16);
    memcpy(b, v, 4);
    break;
  }
  case 32:
    if (prefixed)
      return parse_fail(str, "0x prefix on a 128-bit UUID");
    if (!hex_bytes(s, 32, b))
      return parse_fail(str, "not hex");
    break;
  case 36:
    if (prefixed)
      return parse_fail(str, "0x prefix on a 128-bit UUID");
    if (!parse_dashed(s, b))
      return parse_fail(str, "want 8-4-4-4-12 hex digits");
    break;
  default:
    return parse_fail(str, "want 4, 8, 32 or 36 characters");
  }
  memcpy(out->bytes, b, 16);
  return 0;
}

int bleak_uuid_from_le_bytes(const uint8_t *buf, size_t len, bleak_uuid *out) {
  if (!buf || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_uuid_from_le_bytes: NULL");
  switch (len) {
  case 2:
    *out = bleak_uuid_from_u16(bk_get_le16(buf));
    return 0;
  case 4:
    *out = bleak_uuid_from_u32(bk_get_le32(buf));
    return 0;
  case 16:
    for (int i = 0; i < 16; i++)
      out->bytes[i] = buf[15 - i];
    return 0;
  default:
    return bk_fail(BLEAK_ERR_INVALID_ARG, "a UUID has 2, 4 or 16 bytes, not %zu",
                   len);
  }
}

int bleak_uuid_to_le_bytes(const bleak_uuid *u, uint8_t *buf, size_t cap) {
  if (!u || !buf)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_uuid_to_le_bytes: NULL");
  uint16_t v16;
  if (bleak_uuid_is_16bit(u, &v16)) {
    if (cap < 2)
      return BLEAK_ERR_BUFFER_TOO_SMALL;
    bk_put_le16(buf, v16);
    return 2;
  }
  if (cap < 16)
    return BLEAK_ERR_BUFFER_TOO_SMALL;
  for (int i = 0; i < 16; i++)
    buf[i] = u->bytes[15 - i];
  return 16;
}

char *bleak_uuid_to_string(const bleak_uuid *u, char buf[BLEAK_UUID_STR_LEN]) {
  static const char hex[] = "0123456789abcdef";
  if (!u || !buf)
    return NULL;
  char *p = buf;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *p++ = '-';
    *p++ = hex[u->bytes[i] >> 4];
    *p++ = hex[u->bytes[i] & 0xf];
  }
  *p = '\0';
  return buf;
}

int bleak_uuid_normalize(const char *str, char buf[BLEAK_UUID_STR_LEN]) {
  bleak_uuid u;
  if (!buf)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_uuid_normalize: NULL buffer");
  int r = bleak_uuid_parse(str, &u);
  if (r < 0)
    return r;
  bleak_uuid_to_string(&u, buf);
  return 0;
}

bool bleak_uuid_equal(const bleak_uuid *a, const bleak_uuid *b) {
  return a && b && memcmp(a->bytes, b->bytes, 16) == 0;
}

int bleak_uuid_compare(const bleak_uuid *a, const bleak_uuid *b) {
  if (!a || !b)
    return (a != NULL) - (b != NULL);
  int r = memcmp(a->bytes, b->bytes, 16);
  return (r > 0) - (r < 0);
}

bool bleak_uuid_is_32bit(const bleak_uuid *u, uint32_t *out32) {
  if (!u || memcmp(u->bytes + 4, base_uuid + 4, 12) != 0)
    return false;
  if (out32)
    *out32 = (uint32_t)u->bytes[0] << 24 | (uint32_t)u->bytes[1] << 16 |
             (uint32_t)u->bytes[2] << 8 | u->bytes[3];
  return true;
}

bool bleak_uuid_is_16bit(const bleak_uuid *u, uint16_t *out16) {
  uint32_t v;
  if (!bleak_uuid_is_32bit(u, &v) || v > 0xffff)
    return false;
  if (out16)
    *out16 = (uint16_t)v;
  return true;
}

/* ---- names ---- */

typedef struct registered_name {
  bleak_uuid uuid;
  char *name;
  struct registered_name *next;
} registered_name;

static registered_name *registered;

static int cmp16(const void *key, const void *elem) {
  uint16_t k = *(const uint16_t *)key;
  const bk_uuid16_name *e = elem;
  return (k > e->value) - (k < e->value);
}

static int cmp128(const void *key, const void *elem) {
  const bk_uuid128_name *e = elem;
  return memcmp(key, e->uuid.bytes, 16);
}

const char *bleak_uuid_name(const bleak_uuid *u) {
  if (!u)
    return NULL;
  for (registered_name *r = registered; r; r = r->next)
    if (bleak_uuid_equal(&r->uuid, u))
      return r->name;
  uint16_t v;
  if (bleak_uuid_is_16bit(u, &v)) {
    const bk_uuid16_name *e = bsearch(&v, bk_uuid16_names, bk_uuid16_names_count,
                                      sizeof *bk_uuid16_names, cmp16);
    return e ? e->name : NULL;
  }
  const bk_uuid128_name *e = bsearch(u->bytes, bk_uuid128_names,
                                     bk_uuid128_names_count,
                                     sizeof *bk_uuid128_names, cmp128);
  return e ? e->name : NULL;
}

const char *bleak_uuid_str_name(const char *str) {
  bleak_uuid u;
  if (bleak_uuid_parse(str, &u) < 0)
    return "Unknown";
  const char *n = bleak_uuid_name(&u);
  return n ? n : "Unknown";
}

int bleak_uuid_register_name(const bleak_uuid *u, const char *name) {
  if (!u || !name || !*name)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "register_name: NULL or empty");
  char *copy = strdup(name);
  if (!copy)
    return BLEAK_ERR_NO_MEMORY;
  for (registered_name *r = registered; r; r = r->next) {
    if (bleak_uuid_equal(&r->uuid, u)) {
      free(r->name);
      r->name = copy;
      return 0;
    }
  }
  registered_name *r = malloc(sizeof *r);
  if (!r) {
    free(copy);
    return BLEAK_ERR_NO_MEMORY;
  }
  r->uuid = *u;
  r->name = copy;
  r->next = registered;
  registered = r;
  return 0;
}

void bleak_uuid_clear_registered_names(void) {
  while (registered) {
    registered_name *r = registered;
    registered = r->next;
    free(r->name);
    free(r);
  }
}
