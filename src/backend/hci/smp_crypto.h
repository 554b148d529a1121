/* SPDX-License-Identifier: MIT */
/*
 * The security functions of the Security Manager (Core Vol 3 Part H 2.2)
 * and the P-256 key agreement of LE Secure Connections, on OpenSSL's
 * libcrypto (AES-128, AES-CMAC, the P-256 group arithmetic). No crypto of
 * our own: only the spec's functions built on those.
 *
 * Byte order: every value in and out of this API is LITTLE-ENDIAN, the
 * order SMP PDUs and HCI carry it: a Pairing Confirm value, a Pairing
 * Random, an LTK, an IRK, a P-256 coordinate, a BD_ADDR are passed as the
 * bytes of their PDU field, copied as they are. The spec defines its
 * functions MSB-first (and prints its sample data so); the conversion is
 * done inside, once. Tests write the spec's sample data as printed and
 * reverse it. Even AES-CMAC follows the rule: its message is a number of
 * @p len bytes, least significant byte first (the RFC 4493 byte string
 * reversed), and so are its key and its result.
 *
 * Every function returns 0 or a negative bleak error: BLEAK_ERR_INVALID_ARG
 * (a NULL pointer, an address type other than 0 or 1), BLEAK_ERR_NO_MEMORY
 * (libcrypto failed: it fails only when it cannot allocate, or on a broken
 * install; the detail names the call), BLEAK_ERR_PROTOCOL (a peer's public
 * key that is not a point of P-256). Outputs may alias no input.
 *
 * Keys never reach the log: failures name the function, never a value.
 * Stack copies of keys are wiped before returning (bk_smp_wipe()).
 */
#ifndef BLEAK_HCI_SMP_CRYPTO_H
#define BLEAK_HCI_SMP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A device address as the SMP functions take it (c1's ia/iat and ra/rat,
 * f5's and f6's A1/A2 = type || address): the address used on the air for
 * this connection, type 0 (public) or 1 (random), @p val little-endian as
 * in HCI events and the Identity Address Information PDU. */
typedef struct bk_smp_addr {
  uint8_t type;
  uint8_t val[6];
} bk_smp_addr;

/* The key IDs of h6 (Vol 3 Part H 2.4.2.3/2.4.2.4 and 2.2.10), as the
 * 32-bit numbers the spec writes: "tmp1", "tmp2", "lebr", "brle". */
#define BK_SMP_KEYID_TMP1 0x746d7031u
#define BK_SMP_KEYID_TMP2 0x746d7032u
#define BK_SMP_KEYID_LEBR 0x6c656272u
#define BK_SMP_KEYID_BRLE 0x62726c65u

/* Zero @p n bytes of key material in a way the compiler keeps. */
void bk_smp_wipe(void *p, size_t n);

/* Compare @p n bytes in time independent of where they differ: true when
 * equal. For confirm and check values. */
bool bk_smp_equal(const void *a, const void *b, size_t n);

/* e (2.2.1): AES-128 of @p plain with @p key. */
int bk_smp_e(const uint8_t key[16], const uint8_t plain[16], uint8_t out[16]);

/* AES-CMAC (2.2.5, RFC 4493) of the @p len byte number @p m (at most
 * BK_SMP_CMAC_MAX bytes; more: BLEAK_ERR_TOO_LONG) with @p key. */
#define BK_SMP_CMAC_MAX 128
int bk_smp_aes_cmac(const uint8_t key[16], const uint8_t *m, size_t len, uint8_t out[16]);

/* ah (2.2.2), the random address hash: @p r is prand, the upper three
 * bytes of a resolvable private address (addr[3..5]), @p hash its lower
 * three (addr[0..2]) when the address is @p irk's. */
int bk_smp_ah(const uint8_t irk[16], const uint8_t r[3], uint8_t hash[3]);

/* Whether @p addr (6 bytes, little-endian, a random address) is a
 * resolvable private address made with @p irk (its two top bits 01, its
 * hash ah(irk, prand)). @return 1 (it is), 0 (it is not), or an error. */
int bk_smp_rpa_matches(const uint8_t irk[16], const uint8_t addr[6]);

/* c1 (2.2.3), LE legacy pairing's confirm value: @p k the TK, @p r the
 * random (Mrand or Srand), @p preq and @p pres the Pairing Request and
 * Response PDUs as sent (7 bytes each, code first), @p ia the initiator's
 * address, @p ra the responder's. */
int bk_smp_c1(const uint8_t k[16], const uint8_t r[16], const uint8_t preq[7],
              const uint8_t pres[7], const bk_smp_addr *ia, const bk_smp_addr *ra,
              uint8_t out[16]);

/* s1 (2.2.4), the STK of legacy pairing: s1(TK, Srand, Mrand) takes the
 * lower 64 bits of @p r1 (Srand) and @p r2 (Mrand). */
int bk_smp_s1(const uint8_t k[16], const uint8_t r1[16], const uint8_t r2[16], uint8_t out[16]);

/* f4 (2.2.6), the LE Secure Connections confirm value: @p u and @p v are
 * P-256 X coordinates (32 bytes), @p x the nonce, @p z 0 (Just Works,
 * Numeric Comparison, OOB) or 0x80 | passkey bit (Passkey Entry). */
int bk_smp_f4(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], uint8_t z,
              uint8_t out[16]);

/* f5 (2.2.7), MacKey and LTK from the DHKey @p w (32 bytes), the nonces
 * @p n1 (Na) and @p n2 (Nb), and the initiator's (@p a1) and responder's
 * (@p a2) addresses. */
int bk_smp_f5(const uint8_t w[32], const uint8_t n1[16], const uint8_t n2[16],
              const bk_smp_addr *a1, const bk_smp_addr *a2, uint8_t mackey[16], uint8_t ltk[16]);

/* f6 (2.2.8), the DHKey check value: @p w is MacKey, @p r the OOB random or
 * the passkey (or 0), @p iocap the three bytes IO Capability, OOB data
 * flag, AuthReq: bytes 1..3 of the sender's Pairing Request or Response
 * (the spec's AuthReq || OOB || IOcap, little-endian). */
int bk_smp_f6(const uint8_t w[16], const uint8_t n1[16], const uint8_t n2[16],
              const uint8_t r[16], const uint8_t iocap[3], const bk_smp_addr *a1,
              const bk_smp_addr *a2, uint8_t out[16]);

/* g2 (2.2.9), Numeric Comparison: @p u = PKax, @p v = PKbx, @p x = Na,
 * @p y = Nb. *out is the 32-bit g2; the six digits the users compare are
 * *out % 1000000. */
int bk_smp_g2(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], const uint8_t y[16],
              uint32_t *out);

/* h6 (2.2.10): AES-CMAC_w(keyID), @p key_id one of BK_SMP_KEYID_*. */
int bk_smp_h6(const uint8_t w[16], uint32_t key_id, uint8_t out[16]);

/* h7 (2.2.11): AES-CMAC_salt(w). */
int bk_smp_h7(const uint8_t salt[16], const uint8_t w[16], uint8_t out[16]);

/*
 * P-256 (2.3.5.6.1). A key pair: the private key d (32 bytes, a number
 * 1..n-1) and the public key d·G as the Pairing Public Key PDU carries it:
 * X (32 bytes) then Y (32 bytes). The struct holds a secret: wipe it
 * (bk_smp_wipe) when done.
 */
typedef struct bk_smp_p256 {
  uint8_t priv[32];
  uint8_t pub[64];
} bk_smp_p256;

/* Random bytes: fill @p buf with @p len bytes from a cryptographically
 * secure source. @return 0 or a negative error. */
typedef int (*bk_smp_random_fn)(void *owner, uint8_t *buf, size_t len);

/* The key pair of private key @p priv. @return 0, BLEAK_ERR_OVERFLOW
 * (@p priv is 0 or not below the group order n: draw again). */
int bk_smp_p256_from_private(bk_smp_p256 *key, const uint8_t priv[32]);

/* A new key pair from @p draw's bytes (drawn again when out of range,
 * at most 8 times: the chance to need a second draw is below 2^-32). */
int bk_smp_p256_generate(bk_smp_p256 *key, bk_smp_random_fn draw, void *owner);

/* The spec's debug key pair (2.3.5.6.1): for tests and air sniffers
 * only. A link paired with it is readable by anyone. */
int bk_smp_p256_debug(bk_smp_p256 *key);

/* True when @p pub is the debug public key. */
bool bk_smp_p256_is_debug(const uint8_t pub[64]);

/*
 * Validate a peer's public key @p pub: both coordinates below the field
 * prime p, the point on the curve (y^2 = x^3 - 3x + b mod p), not the
 * point at infinity. A key that fails is the invalid-curve attack of
 * CVE-2018-5383 (a point of a weaker curve, e.g. its Y set to 0, leaks
 * the DHKey): @return 0 (valid) or BLEAK_ERR_PROTOCOL, the detail saying
 * which check failed.
 */
int bk_smp_p256_check(const uint8_t pub[64]);

/* The DHKey (2.3.5.6.1): the X coordinate of our private key times the
 * peer's public key @p peer_pub, which is validated first
 * (bk_smp_p256_check: BLEAK_ERR_PROTOCOL). */
int bk_smp_p256_dhkey(const bk_smp_p256 *key, const uint8_t peer_pub[64], uint8_t dhkey[32]);

#endif
