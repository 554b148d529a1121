/* SPDX-License-Identifier: MIT */
/*
 * The Security Manager's security functions against the spec's sample
 * data (Core Vol 3 Part H: c1 and s1 examples of 2.2.3 and 2.2.4, the
 * P-256 sample data of 2.3.5.6.1, Appendix D: AES-CMAC (RFC 4493's
 * examples), f4, f5, f6, g2, h6, h7, ah), and the public key checks of
 * CVE-2018-5383. The spec prints values most significant byte first; the
 * API takes them as SMP carries them, little-endian: LE() turns one into
 * the other, so every vector below reads as in the spec.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backend/hci/smp_crypto.h"
#include "bleak/error.h"
#include "hex.h"

/* @p msb (hex, most significant byte first, as the spec prints it) into
 * @p out (@p n bytes) little-endian. */
static void le(const char *msb, uint8_t *out, size_t n) {
  uint8_t b[128];
  assert_int_equal(test_unhex(msb, b, sizeof b), n);
  for (size_t i = 0; i < n; i++)
    out[i] = b[n - 1 - i];
}
#define LE(var, msb) le(msb, var, sizeof var)

#define assert_le_equal(got, msb)                                                            \
  do {                                                                                       \
    uint8_t want_[sizeof(got)];                                                              \
    LE(want_, msb);                                                                          \
    assert_memory_equal(got, want_, sizeof(got));                                            \
  } while (0)

/* The P-256 sample data (2.3.5.6.1): device A's private key is the debug
 * key. */
#define PRIV_A "3f49f6d4 a3c55f38 74c9b3e3 d2103f50 4aff607b eb40b799 5899b8a6 cd3c1abd"
#define PRIV_B "55188b3d 32f6bb9a 900afcfb eed4e72a 59cb9ac2 f19d7cfb 6b4fdd49 f47fc5fd"
#define PUB_AX "20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6"
#define PUB_AY "dc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28b"
#define PUB_BX "1ea1f0f0 1faf1d96 09592284 f19e4c00 47b58afd 8615a69f 559077b2 2faaa190"
#define PUB_BY "4c55f33e 429dad37 7356703a 9ab85160 472d1130 e28e3676 5f89aff9 15b1214a"
#define DHKEY "ec0234a3 57c8ad05 341010a6 0a397d9b 99796b13 b4f866f1 868d34f3 73bfa698"
/* Appendix D's nonces and addresses */
#define N1 "d5cb8454 d177733e ffffb2ec 712baeab"
#define N2 "a6e8e7cc 25a75f6e 216583f7 ff3dc4cf"
#define MACKEY "2965f176 a1084a02 fd3f6a20 ce636e20"

static void pub(uint8_t out[64], const char *x, const char *y) {
  le(x, out, 32);
  le(y, out + 32, 32);
}

static bk_smp_addr addr(uint8_t type, const char *msb) {
  bk_smp_addr a = {.type = type};
  le(msb, a.val, 6);
  return a;
}

/* FIPS-197 C.1, in e's terms (2.2.1: the key's most significant octet is
 * FIPS-197's key[0]). */
static void test_e(void **state) {
  (void)state;
  uint8_t k[16], p[16], out[16];
  LE(k, "000102030405060708090a0b0c0d0e0f");
  LE(p, "00112233445566778899aabbccddeeff");
  assert_int_equal(bk_smp_e(k, p, out), 0);
  assert_le_equal(out, "69c4e0d86a7b0430d8cdb78070b4c55a");
}

/* D.1: AES-CMAC, RFC 4493's four messages (0, 16, 40, 64 bytes). */
static void test_aes_cmac(void **state) {
  (void)state;
  static const struct {
    const char *m, *mac;
  } v[] = {
      {"", "bb1d6929 e9593728 7fa37d12 9b756746"},
      {"6bc1bee2 2e409f96 e93d7e11 7393172a", "070a16b4 6b4d4144 f79bdd9d d04a287c"},
      {"6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51 30c81c46 "
       "a35ce411",
       "dfa66747 de9ae630 30ca3261 1497c827"},
      {"6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51 30c81c46 "
       "a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710",
       "51f0bebf 7e3b9d92 fc497417 79363cfe"},
  };
  uint8_t k[16], m[64], out[16];
  LE(k, "2b7e1516 28aed2a6 abf71588 09cf4f3c");
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t b[64];
    size_t n = test_unhex(v[i].m, b, sizeof b);
    for (size_t j = 0; j < n; j++)
      m[j] = b[n - 1 - j];
    assert_int_equal(bk_smp_aes_cmac(k, m, n, out), 0);
    assert_le_equal(out, v[i].mac);
  }
  uint8_t big[BK_SMP_CMAC_MAX + 1] = {0};
  assert_int_equal(bk_smp_aes_cmac(k, big, sizeof big, out), BLEAK_ERR_TOO_LONG);
  assert_int_equal(bk_smp_aes_cmac(k, NULL, 1, out), BLEAK_ERR_INVALID_ARG);
}

/* 2.2.3: c1 with TK 0, the example's Mrand, Pairing Request and Response,
 * initiator A1A2A3A4A5A6 (random), responder B1B2B3B4B5B6 (public). The
 * request and response are written as the example prints them: as 56-bit
 * numbers, the code in the least significant byte (LE() gives the PDU). */
static void test_c1(void **state) {
  (void)state;
  uint8_t k[16] = {0}, r[16], preq[7], pres[7], out[16];
  LE(r, "5783D521 56AD6F0E 6388274E C6702EE0");
  LE(preq, "07071000000101");
  LE(pres, "05000800000302");
  assert_int_equal(preq[0], 0x01); /* a Pairing Request PDU, code first */
  assert_int_equal(pres[0], 0x02);
  bk_smp_addr ia = addr(1, "A1A2A3A4A5A6"), ra = addr(0, "B1B2B3B4B5B6");
  assert_int_equal(bk_smp_c1(k, r, preq, pres, &ia, &ra, out), 0);
  assert_le_equal(out, "1e1e3fef 878988ea d2a74dc5 bef13b86");
  ia.type = 2;
  assert_int_equal(bk_smp_c1(k, r, preq, pres, &ia, &ra, out), BLEAK_ERR_INVALID_ARG);
}

/* 2.2.4: s1(TK 0, r1, r2). */
static void test_s1(void **state) {
  (void)state;
  uint8_t k[16] = {0}, r1[16], r2[16], out[16];
  LE(r1, "000F0E0D0C0B0A091122334455667788");
  LE(r2, "010203040506070899AABBCCDDEEFF00");
  assert_int_equal(bk_smp_s1(k, r1, r2, out), 0);
  assert_le_equal(out, "9a1fe1f0 e8b0f49b 5b4216ae 796da062");
}

/* D.2: f4. (The spec's V is device B's private key, not PKbx: the
 * function does not care.) */
static void test_f4(void **state) {
  (void)state;
  uint8_t u[32], v[32], x[16], out[16];
  LE(u, PUB_AX);
  LE(v, PRIV_B);
  LE(x, N1);
  assert_int_equal(bk_smp_f4(u, v, x, 0, out), 0);
  assert_le_equal(out, "f2c916f1 07a9bd1c f1eda1be a974872d");
}

/* D.3: f5, MacKey and LTK. */
static void test_f5(void **state) {
  (void)state;
  uint8_t w[32], n1[16], n2[16], mackey[16], ltk[16];
  LE(w, DHKEY);
  LE(n1, N1);
  LE(n2, N2);
  bk_smp_addr a1 = addr(0, "561237 37bfce"), a2 = addr(0, "a71370 2dcfc1");
  assert_int_equal(bk_smp_f5(w, n1, n2, &a1, &a2, mackey, ltk), 0);
  assert_le_equal(mackey, MACKEY);
  assert_le_equal(ltk, "69867911 69d7cd23 980522b5 94750a38");
}

/* D.4: f6; IOcap 010102 is AuthReq 01, OOB 01, IO capability 02: the
 * bytes 02 01 01 of a Pairing Request. */
static void test_f6(void **state) {
  (void)state;
  uint8_t w[16], n1[16], n2[16], r[16], iocap[3], out[16];
  LE(w, MACKEY);
  LE(n1, N1);
  LE(n2, N2);
  LE(r, "12a3343b b453bb54 08da42d2 0c2d0fc8");
  LE(iocap, "010102");
  assert_int_equal(iocap[0], 0x02);
  bk_smp_addr a1 = addr(0, "561237 37bfce"), a2 = addr(0, "a71370 2dcfc1");
  assert_int_equal(bk_smp_f6(w, n1, n2, r, iocap, &a1, &a2, out), 0);
  assert_le_equal(out, "e3c47398 9cd0e8c5 d26c0b09 da958f61");
}

/* D.5: g2, and the six digits it shows. */
static void test_g2(void **state) {
  (void)state;
  uint8_t u[32], v[32], x[16], y[16];
  LE(u, PUB_AX);
  LE(v, PRIV_B);
  LE(x, N1);
  LE(y, N2);
  uint32_t g = 0;
  assert_int_equal(bk_smp_g2(u, v, x, y, &g), 0);
  assert_int_equal(g, 0x2f9ed5ba);
  assert_int_equal(g % 1000000, 938554);
}

/* D.6 and D.7: h6 (keyID "lebr") and h7 (SALT "tmp1"). */
static void test_h6_h7(void **state) {
  (void)state;
  uint8_t w[16], salt[16], out[16];
  LE(w, "ec0234a3 57c8ad05 341010a6 0a397d9b");
  assert_int_equal(bk_smp_h6(w, BK_SMP_KEYID_LEBR, out), 0);
  assert_le_equal(out, "2d9ae102 e76dc91c e8d3a9e2 80b16399");
  LE(salt, "00000000 00000000 00000000 746D7031");
  assert_int_equal(bk_smp_h7(salt, w, out), 0);
  assert_le_equal(out, "fb173597 c6a3c0ec d2998c2a 75a57011");
}

/* D.8: ah, and the resolvable private address it makes. */
static void test_ah(void **state) {
  (void)state;
  uint8_t irk[16], r[3], hash[3], rpa[6];
  LE(irk, "ec0234a3 57c8ad05 341010a6 0a397d9b");
  LE(r, "708194");
  assert_int_equal(bk_smp_ah(irk, r, hash), 0);
  assert_le_equal(hash, "0dfbaa");
  LE(rpa, "708194 0dfbaa"); /* prand || hash: 70:81:94:0D:FB:AA */
  assert_int_equal(bk_smp_rpa_matches(irk, rpa), 1);
  rpa[0] ^= 1;
  assert_int_equal(bk_smp_rpa_matches(irk, rpa), 0);
  rpa[0] ^= 1;
  rpa[5] |= 0x80; /* a static address's top bits: not resolvable */
  assert_int_equal(bk_smp_rpa_matches(irk, rpa), 0);
}

/* 2.3.5.6.1: each side's key pair from its private key, and both find
 * the sample DHKey. A's pair is the debug key pair. */
static void test_p256_sample(void **state) {
  (void)state;
  bk_smp_p256 a, b, dbg;
  uint8_t priv[32], pa[64], pb[64], dh[32];
  pub(pa, PUB_AX, PUB_AY);
  pub(pb, PUB_BX, PUB_BY);
  LE(priv, PRIV_A);
  assert_int_equal(bk_smp_p256_from_private(&a, priv), 0);
  assert_memory_equal(a.pub, pa, 64);
  assert_memory_equal(a.priv, priv, 32);
  assert_int_equal(bk_smp_p256_debug(&dbg), 0);
  assert_memory_equal(&dbg, &a, sizeof a);
  assert_true(bk_smp_p256_is_debug(a.pub));
  LE(priv, PRIV_B);
  assert_int_equal(bk_smp_p256_from_private(&b, priv), 0);
  assert_memory_equal(b.pub, pb, 64);
  assert_false(bk_smp_p256_is_debug(b.pub));
  assert_int_equal(bk_smp_p256_check(pa), 0);
  assert_int_equal(bk_smp_p256_check(pb), 0);
  assert_int_equal(bk_smp_p256_dhkey(&a, pb, dh), 0);
  assert_le_equal(dh, DHKEY);
  memset(dh, 0, sizeof dh);
  assert_int_equal(bk_smp_p256_dhkey(&b, pa, dh), 0);
  assert_le_equal(dh, DHKEY);
  bk_smp_wipe(&a, sizeof a);
  bk_smp_wipe(&b, sizeof b);
}

/* Private keys are 1..n-1. */
static void test_p256_private_range(void **state) {
  (void)state;
  bk_smp_p256 k;
  uint8_t d[32] = {0};
  assert_int_equal(bk_smp_p256_from_private(&k, d), BLEAK_ERR_OVERFLOW);
  LE(d, "ffffffff 00000000 ffffffff ffffffff bce6faad a7179e84 f3b9cac2 fc632551"); /* n */
  assert_int_equal(bk_smp_p256_from_private(&k, d), BLEAK_ERR_OVERFLOW);
  d[0]--; /* n - 1: the last valid key, -G */
  assert_int_equal(bk_smp_p256_from_private(&k, d), 0);
  assert_int_equal(bk_smp_p256_check(k.pub), 0);
  memset(d, 0xff, sizeof d);
  assert_int_equal(bk_smp_p256_from_private(&k, d), BLEAK_ERR_OVERFLOW);
}

/* Draws: the first is out of range (all ones, above n), the next ones
 * count up from 1. */
typedef struct draws {
  int n;
} draws;
static int draw(void *owner, uint8_t *buf, size_t len) {
  draws *d = owner;
  memset(buf, d->n == 0 ? 0xff : 0, len);
  buf[0] = (uint8_t)d->n;
  d->n++;
  return 0;
}
static int draw_fails(void *owner, uint8_t *buf, size_t len) {
  (void)owner;
  (void)buf;
  (void)len;
  return BLEAK_ERR_IO;
}

static void test_p256_generate(void **state) {
  (void)state;
  draws d = {0};
  bk_smp_p256 a, b;
  assert_int_equal(bk_smp_p256_generate(&a, draw, &d), 0);
  assert_int_equal(d.n, 2); /* the out-of-range draw was drawn again */
  assert_int_equal(a.priv[0], 1);
  assert_int_equal(bk_smp_p256_generate(&b, draw, &d), 0);
  assert_int_equal(b.priv[0], 2);
  uint8_t ab[32], ba[32];
  assert_int_equal(bk_smp_p256_dhkey(&a, b.pub, ab), 0);
  assert_int_equal(bk_smp_p256_dhkey(&b, a.pub, ba), 0);
  assert_memory_equal(ab, ba, 32);
  assert_int_equal(bk_smp_p256_generate(&a, draw_fails, NULL), BLEAK_ERR_IO);
}

/* CVE-2018-5383: a peer's key that is not a point of P-256 is refused,
 * and no DHKey comes out of it. */
static void test_p256_invalid_keys(void **state) {
  (void)state;
  bk_smp_p256 a;
  assert_int_equal(bk_smp_p256_debug(&a), 0);
  uint8_t pk[64], dh[32];
  /* the attack's key: B's X with Y zeroed */
  pub(pk, PUB_BX, PUB_BY);
  memset(pk + 32, 0, 32);
  assert_int_equal(bk_smp_p256_check(pk), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "not a point on the curve"));
  memset(dh, 0xee, sizeof dh);
  assert_int_equal(bk_smp_p256_dhkey(&a, pk, dh), BLEAK_ERR_PROTOCOL);
  assert_int_equal(dh[0], 0xee);
  assert_int_equal(dh[31], 0xee);
  /* one bit off */
  pub(pk, PUB_BX, PUB_BY);
  pk[40] ^= 0x10;
  assert_int_equal(bk_smp_p256_check(pk), BLEAK_ERR_PROTOCOL);
  /* (0, 0), how a point at infinity would be written */
  memset(pk, 0, sizeof pk);
  assert_int_equal(bk_smp_p256_check(pk), BLEAK_ERR_PROTOCOL);
  /* (5, y) is on the curve; (5 + p, y) is the same point mod p, but a
   * coordinate of p or more is not a field element */
  static const char y5[] =
      "459243b9 aa581806 fe913bce 99817ade 11ca503c 64d9a3c5 33415c08 3248fbcc";
  pub(pk, "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000005", y5);
  assert_int_equal(bk_smp_p256_check(pk), 0);
  pub(pk, "ffffffff 00000001 00000000 00000000 00000001 00000000 00000000 00000004", y5);
  assert_int_equal(bk_smp_p256_check(pk), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "not below p"));
  assert_int_equal(bk_smp_p256_dhkey(&a, pk, dh), BLEAK_ERR_PROTOCOL);
  /* X = p itself; Y of all ones */
  pub(pk, "ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff ffffffff", y5);
  assert_int_equal(bk_smp_p256_check(pk), BLEAK_ERR_PROTOCOL);
  pub(pk, PUB_BX, PUB_BY);
  memset(pk + 32, 0xff, 32);
  assert_int_equal(bk_smp_p256_check(pk), BLEAK_ERR_PROTOCOL);
  assert_non_null(strstr(bleak_error_detail(), "not below p"));
  bk_smp_wipe(&a, sizeof a);
}

static void test_arguments(void **state) {
  (void)state;
  uint8_t k[16] = {0}, x32[32] = {0}, pk[64] = {0}, out[16], dh[32];
  bk_smp_addr a = {0};
  assert_int_equal(bk_smp_e(NULL, k, out), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_f4(x32, x32, NULL, 0, out), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_f5(x32, k, k, &a, NULL, out, out), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_g2(x32, x32, k, k, NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_p256_check(NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_p256_dhkey(NULL, pk, dh), BLEAK_ERR_INVALID_ARG);
  assert_false(bk_smp_p256_is_debug(NULL));
  uint8_t x[4] = {1, 2, 3, 4};
  bk_smp_wipe(x, sizeof x);
  assert_int_equal(x[0] | x[1] | x[2] | x[3], 0);
  assert_true(bk_smp_equal(x, (uint8_t[4]){0}, 4));
  assert_false(bk_smp_equal(x, (uint8_t[4]){0, 0, 0, 1}, 4));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_e),
      cmocka_unit_test(test_aes_cmac),
      cmocka_unit_test(test_c1),
      cmocka_unit_test(test_s1),
      cmocka_unit_test(test_f4),
      cmocka_unit_test(test_f5),
      cmocka_unit_test(test_f6),
      cmocka_unit_test(test_g2),
      cmocka_unit_test(test_h6_h7),
      cmocka_unit_test(test_ah),
      cmocka_unit_test(test_p256_sample),
      cmocka_unit_test(test_p256_private_range),
      cmocka_unit_test(test_p256_generate),
      cmocka_unit_test(test_p256_invalid_keys),
      cmocka_unit_test(test_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
