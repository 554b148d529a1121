/* SPDX-License-Identifier: MIT */
/* The Database Hash: see db_hash.h. The SMP's bk_smp_aes_cmac takes at
 * most 128 bytes (its messages are short); a database is longer, so this
 * one goes to libcrypto's CMAC over the whole message. */
#include "vctl/db_hash.h"

#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* Whether the hash covers the attribute, and its value too. */
static bool hashed(const vctl_attr *a, bool *with_value) {
  uint16_t t = 0;
  *with_value = false;
  if (!bleak_uuid_is_16bit(&a->type, &t))
    return false;
  switch (t) {
  case 0x2800: case 0x2801: case 0x2802: case 0x2803: case 0x2900:
    *with_value = true;
    return true;
  case 0x2901: case 0x2902: case 0x2903: case 0x2904: case 0x2905:
    return a->kind != VCTL_ATTR_CHAR_VALUE;
  default:
    return false;
  }
}

static bool cmac(const uint8_t *m, size_t len, uint8_t out[16]) {
  static const uint8_t key[16];
  bool ok = false;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("cipher", (char *)"AES-128-CBC", 0),
                         OSSL_PARAM_construct_end()};
  size_t n = 0;
  if (ctx && EVP_MAC_init(ctx, key, sizeof key, params) && EVP_MAC_update(ctx, m, len) &&
      EVP_MAC_final(ctx, out, &n, 16) && n == 16)
    ok = true;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok;
}

void vctl_db_hash(const vctl_gatt_db *db, uint8_t out[16]) {
  memset(out, 0, 16);
  uint8_t *m = malloc(db->n * (2 + 16 + VCTL_ATTR_MAX_LEN) + 1);
  if (!m)
    return;
  size_t len = 0;
  for (size_t i = 0; i < db->n; i++) {
    const vctl_attr *a = &db->attrs[i];
    bool with_value;
    if (!hashed(a, &with_value))
      continue;
    bk_put_le16(m + len, a->handle);
    len += 2;
    int n = bleak_uuid_to_le_bytes(&a->type, m + len, 16);
    len += n > 0 ? (size_t)n : 0;
    if (with_value) {
      memcpy(m + len, a->value, a->len);
      len += a->len;
    }
  }
  if (!cmac(m, len, out))
    memset(out, 0, 16);
  free(m);
}
