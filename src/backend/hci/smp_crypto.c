/* SPDX-License-Identifier: MIT */
/* The Security Manager's security functions on libcrypto: see
 * smp_crypto.h. Inside, values are turned MSB-first (the spec's and
 * OpenSSL's order) once, at the edge of each function. */
#include "backend/hci/smp_crypto.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "bleak/error.h"
#include "core/internal.h"

void bk_smp_wipe(void *p, size_t n) {
  if (p && n)
    OPENSSL_cleanse(p, n);
}

bool bk_smp_equal(const void *a, const void *b, size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0;
}

/* @p n bytes of @p src into @p dst in the other byte order. */
static void reverse(uint8_t *dst, const uint8_t *src, size_t n) {
  for (size_t i = 0; i < n; i++)
    dst[i] = src[n - 1 - i];
}

/* libcrypto failed in @p what: its error queue is emptied (so the next
 * failure reports its own), the reason kept in the detail. */
static int crypto_fail(const char *what) {
  unsigned long e = ERR_get_error();
  char msg[128] = "no reason given";
  if (e)
    ERR_error_string_n(e, msg, sizeof msg);
  ERR_clear_error();
  return bk_fail(BLEAK_ERR_NO_MEMORY, "libcrypto: %s failed: %s", what, msg);
}

/* AES-128 of one block, MSB-first key and data (FIPS-197's order). */
static int aes_be(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL) &&
                  EVP_CIPHER_CTX_set_padding(ctx, 0) && EVP_EncryptUpdate(ctx, out, &n, in, 16) &&
                  n == 16;
  EVP_CIPHER_CTX_free(ctx);
  return ok ? 0 : crypto_fail("AES-128");
}

/* AES-CMAC, RFC 4493's order (MSB-first byte strings). */
static int cmac_be(const uint8_t key[16], const uint8_t *m, size_t len, uint8_t out[16]) {
  size_t n = 0;
  if (!EVP_Q_mac(NULL, "CMAC", NULL, "AES-128-CBC", NULL, key, 16, m, len, out, 16, &n) ||
      n != 16)
    return crypto_fail("AES-CMAC");
  return 0;
}

int bk_smp_e(const uint8_t key[16], const uint8_t plain[16], uint8_t out[16]) {
  if (!key || !plain || !out)
    return BLEAK_ERR_INVALID_ARG;
  uint8_t k[16], p[16], o[16];
  reverse(k, key, 16);
  reverse(p, plain, 16);
  int r = aes_be(k, p, o);
  if (r == 0)
    reverse(out, o, 16);
  bk_smp_wipe(k, sizeof k);
  bk_smp_wipe(p, sizeof p);
  bk_smp_wipe(o, sizeof o);
  return r;
}

int bk_smp_aes_cmac(const uint8_t key[16], const uint8_t *m, size_t len, uint8_t out[16]) {
  if (!key || (!m && len) || !out)
    return BLEAK_ERR_INVALID_ARG;
  if (len > BK_SMP_CMAC_MAX)
    return BLEAK_ERR_TOO_LONG;
  uint8_t k[16], msg[BK_SMP_CMAC_MAX], o[16];
  reverse(k, key, 16);
  reverse(msg, m, len);
  int r = cmac_be(k, msg, len, o);
  if (r == 0)
    reverse(out, o, 16);
  bk_smp_wipe(k, sizeof k);
  bk_smp_wipe(msg, len);
  bk_smp_wipe(o, sizeof o);
  return r;
}

static bool addr_ok(const bk_smp_addr *a) { return a && a->type <= 1; }

/* type || address, 56 bits: little-endian, the address then the type. */
static void put_addr(uint8_t *p, const bk_smp_addr *a) {
  memcpy(p, a->val, 6);
  p[6] = a->type;
}

int bk_smp_ah(const uint8_t irk[16], const uint8_t r[3], uint8_t hash[3]) {
  if (!irk || !r || !hash)
    return BLEAK_ERR_INVALID_ARG;
  uint8_t rp[16] = {r[0], r[1], r[2]}, o[16]; /* r' = padding || r */
  int err = bk_smp_e(irk, rp, o);
  if (err == 0)
    memcpy(hash, o, 3); /* mod 2^24 */
  bk_smp_wipe(o, sizeof o);
  return err;
}

int bk_smp_rpa_matches(const uint8_t irk[16], const uint8_t addr[6]) {
  if (!irk || !addr)
    return BLEAK_ERR_INVALID_ARG;
  if ((addr[5] & 0xc0) != 0x40)
    return 0; /* not a resolvable private address */
  uint8_t hash[3];
  int err = bk_smp_ah(irk, addr + 3, hash);
  if (err)
    return err;
  return bk_smp_equal(hash, addr, 3) ? 1 : 0;
}

int bk_smp_c1(const uint8_t k[16], const uint8_t r[16], const uint8_t preq[7],
              const uint8_t pres[7], const bk_smp_addr *ia, const bk_smp_addr *ra,
              uint8_t out[16]) {
  if (!k || !r || !preq || !pres || !addr_ok(ia) || !addr_ok(ra) || !out)
    return BLEAK_ERR_INVALID_ARG;
  /* p1 = pres || preq || rat' || iat', p2 = padding || ia || ra: written
   * least significant byte first. */
  uint8_t p1[16], p2[16] = {0}, t[16];
  p1[0] = ia->type;
  p1[1] = ra->type;
  memcpy(p1 + 2, preq, 7);
  memcpy(p1 + 9, pres, 7);
  memcpy(p2, ra->val, 6);
  memcpy(p2 + 6, ia->val, 6);
  for (int i = 0; i < 16; i++)
    t[i] = r[i] ^ p1[i];
  int err = bk_smp_e(k, t, t);
  if (err == 0) {
    for (int i = 0; i < 16; i++)
      t[i] ^= p2[i];
    err = bk_smp_e(k, t, out);
  }
  bk_smp_wipe(t, sizeof t);
  return err;
}

int bk_smp_s1(const uint8_t k[16], const uint8_t r1[16], const uint8_t r2[16], uint8_t out[16]) {
  if (!k || !r1 || !r2 || !out)
    return BLEAK_ERR_INVALID_ARG;
  /* r' = r1' || r2', the lower 64 bits of each: r2's come first here */
  uint8_t rp[16];
  memcpy(rp, r2, 8);
  memcpy(rp + 8, r1, 8);
  int err = bk_smp_e(k, rp, out);
  bk_smp_wipe(rp, sizeof rp);
  return err;
}

int bk_smp_f4(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], uint8_t z,
              uint8_t out[16]) {
  if (!u || !v || !x || !out)
    return BLEAK_ERR_INVALID_ARG;
  uint8_t m[65]; /* U || V || Z */
  m[0] = z;
  memcpy(m + 1, v, 32);
  memcpy(m + 33, u, 32);
  return bk_smp_aes_cmac(x, m, sizeof m, out);
}

int bk_smp_f5(const uint8_t w[32], const uint8_t n1[16], const uint8_t n2[16],
              const bk_smp_addr *a1, const bk_smp_addr *a2, uint8_t mackey[16], uint8_t ltk[16]) {
  if (!w || !n1 || !n2 || !addr_ok(a1) || !addr_ok(a2) || !mackey || !ltk)
    return BLEAK_ERR_INVALID_ARG;
  /* SALT = 0x6c888391aaf5a53860370bdb5a6083be, little-endian */
  static const uint8_t salt[16] = {0xbe, 0x83, 0x60, 0x5a, 0xdb, 0x0b, 0x37, 0x60,
                                   0x38, 0xa5, 0xf5, 0xaa, 0x91, 0x83, 0x88, 0x6c};
  uint8_t t[16], m[53];
  int err = bk_smp_aes_cmac(salt, w, 32, t);
  if (err)
    return err;
  /* Counter || keyID "btle" || N1 || N2 || A1 || A2 || Length 256 */
  m[0] = 0x00;
  m[1] = 0x01;
  put_addr(m + 2, a2);
  put_addr(m + 9, a1);
  memcpy(m + 16, n2, 16);
  memcpy(m + 32, n1, 16);
  bk_put_le32(m + 48, 0x62746c65u);
  m[52] = 0; /* counter 0: MacKey */
  err = bk_smp_aes_cmac(t, m, sizeof m, mackey);
  if (err == 0) {
    m[52] = 1; /* counter 1: LTK */
    err = bk_smp_aes_cmac(t, m, sizeof m, ltk);
  }
  bk_smp_wipe(t, sizeof t);
  return err;
}

int bk_smp_f6(const uint8_t w[16], const uint8_t n1[16], const uint8_t n2[16],
              const uint8_t r[16], const uint8_t iocap[3], const bk_smp_addr *a1,
              const bk_smp_addr *a2, uint8_t out[16]) {
  if (!w || !n1 || !n2 || !r || !iocap || !addr_ok(a1) || !addr_ok(a2) || !out)
    return BLEAK_ERR_INVALID_ARG;
  uint8_t m[65]; /* N1 || N2 || R || IOcap || A1 || A2 */
  put_addr(m, a2);
  put_addr(m + 7, a1);
  memcpy(m + 14, iocap, 3);
  memcpy(m + 17, r, 16);
  memcpy(m + 33, n2, 16);
  memcpy(m + 49, n1, 16);
  return bk_smp_aes_cmac(w, m, sizeof m, out);
}

int bk_smp_g2(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], const uint8_t y[16],
              uint32_t *out) {
  if (!u || !v || !x || !y || !out)
    return BLEAK_ERR_INVALID_ARG;
  uint8_t m[80], o[16]; /* U || V || Y */
  memcpy(m, y, 16);
  memcpy(m + 16, v, 32);
  memcpy(m + 48, u, 32);
  int err = bk_smp_aes_cmac(x, m, sizeof m, o);
  if (err == 0)
    *out = bk_get_le32(o); /* mod 2^32 */
  return err;
}

int bk_smp_h6(const uint8_t w[16], uint32_t key_id, uint8_t out[16]) {
  if (!w || !out)
    return BLEAK_ERR_INVALID_ARG;
  uint8_t m[4];
  bk_put_le32(m, key_id);
  return bk_smp_aes_cmac(w, m, sizeof m, out);
}

int bk_smp_h7(const uint8_t salt[16], const uint8_t w[16], uint8_t out[16]) {
  if (!salt || !w || !out)
    return BLEAK_ERR_INVALID_ARG;
  return bk_smp_aes_cmac(salt, w, 16, out);
}

/* ---- P-256 ---- */

/* The debug private key (2.3.5.6.1), little-endian. */
static const uint8_t debug_priv[32] = {
    0xbd, 0x1a, 0x3c, 0xcd, 0xa6, 0xb8, 0x99, 0x58, 0x99, 0xb7, 0x40, 0xeb, 0x7b, 0x60, 0xff, 0x4a,
    0x50, 0x3f, 0x10, 0xd2, 0xe3, 0xb3, 0xc9, 0x74, 0x38, 0x5f, 0xc5, 0xa3, 0xd4, 0xf6, 0x49, 0x3f};
/* Its public key: X then Y, little-endian. */
static const uint8_t debug_pub[64] = {
    0xe6, 0x9d, 0x35, 0x0e, 0x48, 0x01, 0x03, 0xcc, 0xdb, 0xfd, 0xf4, 0xac, 0x11, 0x91, 0xf4, 0xef,
    0xb9, 0xa5, 0xf9, 0xe9, 0xa7, 0x83, 0x2c, 0x5e, 0x2c, 0xbe, 0x97, 0xf2, 0xd2, 0x03, 0xb0, 0x20,
    0x8b, 0xd2, 0x89, 0x15, 0xd0, 0x8e, 0x1c, 0x74, 0x24, 0x30, 0xed, 0x8f, 0xc2, 0x45, 0x63, 0x76,
    0x5c, 0x15, 0x52, 0x5a, 0xbf, 0x9a, 0x32, 0x63, 0x6d, 0xeb, 0x2a, 0x65, 0x49, 0x9c, 0x80, 0xdc};

/* The group and a BN context, made per call (pairing is not a hot path,
 * and nothing is shared between threads). */
typedef struct p256 {
  EC_GROUP *group;
  BN_CTX *bn;
} p256;

static int p256_open(p256 *g) {
  g->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  g->bn = BN_CTX_new();
  if (!g->group || !g->bn) {
    EC_GROUP_free(g->group);
    BN_CTX_free(g->bn);
    return crypto_fail("P-256 setup");
  }
  return 0;
}

static void p256_close(p256 *g) {
  EC_GROUP_free(g->group);
  BN_CTX_free(g->bn);
}

/* A little-endian number of 32 bytes as a BIGNUM (NULL: out of memory). */
static BIGNUM *bn_le(const uint8_t v[32], BIGNUM *into) {
  uint8_t be[32];
  reverse(be, v, 32);
  BIGNUM *b = BN_bin2bn(be, 32, into);
  bk_smp_wipe(be, sizeof be);
  return b;
}

static int bn_put_le(const BIGNUM *b, uint8_t v[32]) {
  uint8_t be[32];
  if (BN_bn2binpad(b, be, 32) != 32)
    return -1;
  reverse(v, be, 32);
  bk_smp_wipe(be, sizeof be);
  return 0;
}

/* The peer's point from @p pub, validated; NULL with *err set. */
static EC_POINT *peer_point(p256 *g, const uint8_t pub[64], int *err) {
  BN_CTX_start(g->bn);
  BIGNUM *x = BN_CTX_get(g->bn), *y = BN_CTX_get(g->bn), *p = BN_CTX_get(g->bn);
  EC_POINT *pt = NULL;
  *err = 0;
  if (!p || !bn_le(pub, x) || !bn_le(pub + 32, y) ||
      !EC_GROUP_get_curve(g->group, p, NULL, NULL, g->bn) || !(pt = EC_POINT_new(g->group))) {
    *err = crypto_fail("P-256 point");
    goto out;
  }
  /* Below p first: set_affine_coordinates would reduce x + p to x and
   * take the alias for a valid key. */
  if (BN_cmp(x, p) >= 0 || BN_cmp(y, p) >= 0) {
    *err = bk_fail(BLEAK_ERR_PROTOCOL, "P-256 public key: a coordinate is not below p");
    goto out;
  }
  /* set_affine_coordinates refuses a point off the curve (y^2 = x^3 -
   * 3x + b); is_on_curve says so again, whatever libcrypto's version. */
  if (!EC_POINT_set_affine_coordinates(g->group, pt, x, y, g->bn) ||
      EC_POINT_is_on_curve(g->group, pt, g->bn) != 1) {
    ERR_clear_error();
    *err = bk_fail(BLEAK_ERR_PROTOCOL, "P-256 public key: not a point on the curve");
    goto out;
  }
  if (EC_POINT_is_at_infinity(g->group, pt)) {
    *err = bk_fail(BLEAK_ERR_PROTOCOL, "P-256 public key: the point at infinity");
    goto out;
  }
out:
  if (*err) {
    EC_POINT_free(pt);
    pt = NULL;
  }
  BN_CTX_end(g->bn);
  return pt;
}

int bk_smp_p256_check(const uint8_t pub[64]) {
  if (!pub)
    return BLEAK_ERR_INVALID_ARG;
  p256 g;
  int err = p256_open(&g);
  if (err)
    return err;
  EC_POINT_free(peer_point(&g, pub, &err));
  p256_close(&g);
  return err;
}

/* The private key @p priv as a BIGNUM flagged for constant time, checked
 * to be 1..n-1 (*err BLEAK_ERR_OVERFLOW otherwise). */
static BIGNUM *private_bn(p256 *g, const uint8_t priv[32], int *err) {
  BIGNUM *d = BN_secure_new();
  *err = 0;
  if (!d || !bn_le(priv, d)) {
    BN_clear_free(d);
    *err = crypto_fail("P-256 private key");
    return NULL;
  }
  BN_set_flags(d, BN_FLG_CONSTTIME);
  if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g->group)) >= 0) {
    BN_clear_free(d);
    *err = bk_fail(BLEAK_ERR_OVERFLOW, "P-256 private key out of range");
    return NULL;
  }
  return d;
}

/* Affine coordinates of @p pt: X to @p x, and Y to @p y unless NULL. */
static int point_put(p256 *g, const EC_POINT *pt, uint8_t x[32], uint8_t *y) {
  BN_CTX_start(g->bn);
  BIGNUM *bx = BN_CTX_get(g->bn), *by = BN_CTX_get(g->bn);
  int err = 0;
  if (!by || EC_POINT_is_at_infinity(g->group, pt) ||
      !EC_POINT_get_affine_coordinates(g->group, pt, bx, by, g->bn) || bn_put_le(bx, x) ||
      (y && bn_put_le(by, y)))
    err = crypto_fail("P-256 coordinates");
  BN_clear(bx);
  BN_CTX_end(g->bn);
  return err;
}

int bk_smp_p256_from_private(bk_smp_p256 *key, const uint8_t priv[32]) {
  if (!key || !priv)
    return BLEAK_ERR_INVALID_ARG;
  p256 g;
  int err = p256_open(&g);
  if (err)
    return err;
  BIGNUM *d = private_bn(&g, priv, &err);
  EC_POINT *q = d ? EC_POINT_new(g.group) : NULL;
  if (d && (!q || !EC_POINT_mul(g.group, q, d, NULL, NULL, g.bn)))
    err = crypto_fail("P-256 d*G");
  else if (d)
    err = point_put(&g, q, key->pub, key->pub + 32);
  if (err == 0 && key->priv != priv)
    memmove(key->priv, priv, 32);
  EC_POINT_free(q);
  BN_clear_free(d);
  p256_close(&g);
  return err;
}

int bk_smp_p256_generate(bk_smp_p256 *key, bk_smp_random_fn draw, void *owner) {
  if (!key || !draw)
    return BLEAK_ERR_INVALID_ARG;
  int err = BLEAK_ERR_OVERFLOW;
  for (int i = 0; i < 8 && err == BLEAK_ERR_OVERFLOW; i++) {
    uint8_t d[32];
    err = draw(owner, d, sizeof d);
    if (err == 0)
      err = bk_smp_p256_from_private(key, d);
    bk_smp_wipe(d, sizeof d);
  }
  return err;
}

int bk_smp_p256_debug(bk_smp_p256 *key) { return bk_smp_p256_from_private(key, debug_priv); }

bool bk_smp_p256_is_debug(const uint8_t pub[64]) {
  return pub && memcmp(pub, debug_pub, sizeof debug_pub) == 0;
}

int bk_smp_p256_dhkey(const bk_smp_p256 *key, const uint8_t peer_pub[64], uint8_t dhkey[32]) {
  if (!key || !peer_pub || !dhkey)
    return BLEAK_ERR_INVALID_ARG;
  p256 g;
  int err = p256_open(&g);
  if (err)
    return err;
  EC_POINT *q = peer_point(&g, peer_pub, &err), *s = NULL;
  BIGNUM *d = q ? private_bn(&g, key->priv, &err) : NULL;
  if (d) {
    s = EC_POINT_new(g.group);
    if (!s || !EC_POINT_mul(g.group, s, NULL, q, d, g.bn))
      err = crypto_fail("P-256 ECDH");
    else
      err = point_put(&g, s, dhkey, NULL);
  }
  EC_POINT_clear_free(s);
  EC_POINT_free(q);
  BN_clear_free(d);
  p256_close(&g);
  return err;
}
