/* SPDX-License-Identifier: MIT */
/*
 * SMP: the refusal used while pairing is off, then the pairing engine
 * (central) in PDU replay tests. Most cases pair with the fake peripheral
 * of tests/support/smp_peer.c, which computes its side from the spec's
 * functions; the transcript (">" what we sent, "<" what we received, by
 * code) is checked against the spec's sequence for each association
 * model. One legacy case replays the spec's own c1 example byte for byte.
 * Each known attack has its own case. After every case: no pairing runs,
 * done() came once per Pairing Request, no deadline, every PDU was
 * delivered or checked, and the engine's secrets are wiped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "backend/hci/smp.h"
#include "bleak/error.h"
#include "bleak/log.h"
#include "hex.h"
#include "smp_peer.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

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

static void test_wrong_lengths_refused(void **state) {
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

/* ---- The pairing engine ---- */

#define MAX_SENT 128

typedef struct rig {
  bk_smp smp;
  bk_smp_config cfg;
  bk_smp_ops ops;
  smp_peer peer;
  /* the peer's PDUs on their way to the engine: tamper may change them
   * (*len 0: dropped) */
  void (*tamper)(uint8_t *pdu, size_t *len);
  /* what the engine sent */
  uint8_t sent[MAX_SENT][65];
  size_t sent_len[MAX_SENT];
  int n_sent, delivered, checked;
  char transcript[2048];
  /* random bytes: the script first, then xorshift */
  uint8_t script[64];
  size_t script_len, script_pos;
  uint32_t rng;
  int rand_err, send_err, encrypt_err;
  int send_fail_at; /* the send that fails (1 is the first), 0: none */
  int sends;
  /* questions */
  int asks;
  bk_smp_question q;
  uint32_t number;
  /* encryption */
  int encrypts;
  uint8_t enc_key[16], enc_rand[8];
  uint16_t enc_ediv;
  /* the result */
  int requests, dones, status;
  bool keys_given;
  bk_smp_keys keys;
  char detail[256];
  int sec_reqs;
  bool sec_req_pairs;
  uint64_t now;
} rig;

static rig R;

static void note(char dir, uint8_t code) {
  size_t n = strlen(R.transcript);
  assert_true(n + 5 < sizeof R.transcript);
  snprintf(R.transcript + n, sizeof R.transcript - n, "%s%c%02x", n ? " " : "", dir, code);
}

static int op_send(void *owner, const uint8_t *pdu, size_t len) {
  assert_ptr_equal(owner, &R);
  if (R.send_err)
    return R.send_err;
  if (++R.sends == R.send_fail_at)
    return BLEAK_ERR_NOT_CONNECTED;
  assert_true(R.n_sent < MAX_SENT);
  assert_true(len >= 1 && len <= 65);
  memcpy(R.sent[R.n_sent], pdu, len);
  R.sent_len[R.n_sent++] = len;
  if (pdu[0] == BK_SMP_PAIRING_REQUEST)
    R.requests++;
  note('>', pdu[0]);
  return 0;
}

static int op_random(void *owner, uint8_t *buf, size_t len) {
  (void)owner;
  if (R.rand_err)
    return R.rand_err;
  for (size_t i = 0; i < len; i++) {
    if (R.script_pos < R.script_len) {
      buf[i] = R.script[R.script_pos++];
      continue;
    }
    R.rng ^= R.rng << 13;
    R.rng ^= R.rng >> 17;
    R.rng ^= R.rng << 5;
    buf[i] = (uint8_t)(R.rng >> 8);
  }
  return 0;
}

static void op_ask(void *owner, bk_smp_question q, uint32_t number) {
  (void)owner;
  R.asks++;
  R.q = q;
  R.number = number;
  if (q == BK_SMP_ASK_DISPLAY)
    R.peer.passkey = number; /* the peer's user types what we show */
}

static int op_encrypt(void *owner, const uint8_t key[16], uint16_t ediv, const uint8_t rand[8]) {
  (void)owner;
  R.encrypts++;
  memcpy(R.enc_key, key, 16);
  R.enc_ediv = ediv;
  memcpy(R.enc_rand, rand, 8);
  return R.encrypt_err;
}

static void op_done(void *owner, int status, const bk_smp_keys *keys) {
  (void)owner;
  R.dones++;
  R.status = status;
  R.keys_given = keys != NULL;
  assert_true((status == 0) == (keys != NULL));
  if (keys)
    R.keys = *keys;
  snprintf(R.detail, sizeof R.detail, "%s", bleak_error_detail());
  assert_false(bk_smp_running(&R.smp)); /* the engine's state is final */
}

static bool op_security_request(void *owner, uint8_t auth_req) {
  (void)owner;
  (void)auth_req;
  R.sec_reqs++;
  return R.sec_req_pairs;
}

/* Deliver the engine's PDUs to the peer and the peer's back, one at a
 * time, until both are quiet. */
static void pump(void) {
  for (int guard = 0; guard < 2000; guard++) {
    if (R.delivered < R.n_sent) {
      smp_peer_recv(&R.peer, R.sent[R.delivered], R.sent_len[R.delivered]);
      R.delivered++;
      continue;
    }
    uint8_t b[80];
    size_t n = smp_peer_take(&R.peer, b);
    if (!n)
      return;
    if (R.tamper)
      R.tamper(b, &n);
    if (n) {
      note('<', b[0]);
      bk_smp_recv(&R.smp, b, n, R.now);
    }
  }
  fail_msg("the peers talk forever");
}

static void init_engine(void) {
  assert_int_equal(bk_smp_init(&R.smp, &R.cfg, &R.ops, &R), 0);
}

static void start(void) {
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  pump();
}

/* The link is encrypted with what was asked for: keys flow both ways. */
static void encrypted(void) {
  assert_int_equal(R.encrypts, 1);
  assert_true(bk_smp_running(&R.smp));
  bk_smp_encrypted(&R.smp, 0, 0, R.now);
  smp_peer_send_keys(&R.peer);
  pump();
}

static const char *transcript(void) { return R.transcript; }

/* The direct replay helpers (no peer). */
#define EXPECT(hex) expect_pdu(hex, __LINE__)
static void expect_pdu(const char *hex, int line) {
  if (R.checked >= R.n_sent)
    fail_msg("line %d: nothing sent, expected %s", line, hex);
  test_expect_bytes(R.sent[R.checked], R.sent_len[R.checked], hex, line);
  R.checked++;
  R.delivered = R.checked;
}
static void INJECT(const char *hex) {
  uint8_t b[80];
  size_t n = test_unhex(hex, b, sizeof b);
  note('<', b[0]);
  bk_smp_recv(&R.smp, b, n, R.now);
}
static void inject_bytes(uint8_t code, const uint8_t *d, size_t n) {
  uint8_t b[80];
  b[0] = code;
  memcpy(b + 1, d, n);
  note('<', code);
  bk_smp_recv(&R.smp, b, n + 1, R.now);
}

/* The spec's MSB-first hex, little-endian. */
static void le(const char *msb, uint8_t *dst, size_t n) {
  uint8_t b[64];
  assert_int_equal(test_unhex(msb, b, sizeof b), n);
  for (size_t i = 0; i < n; i++)
    dst[i] = b[n - 1 - i];
}

/* The last PDU we sent was Pairing Failed with @p reason, and done() had
 * BLEAK_ERR_SMP(@p reason). */
static void assert_failed_with(uint8_t reason) {
  assert_int_equal(R.dones, 1);
  assert_int_equal(R.status, BLEAK_ERR_SMP(reason));
  assert_true(R.n_sent > 0);
  assert_int_equal(R.sent_len[R.n_sent - 1], 2);
  assert_int_equal(R.sent[R.n_sent - 1][0], BK_SMP_PAIRING_FAILED);
  assert_int_equal(R.sent[R.n_sent - 1][1], reason);
  assert_int_equal(R.encrypts, 0);
}

static int setup(void **state) {
  (void)state;
  memset(&R, 0, sizeof R);
  R.now = 1000;
  R.rng = 0x2545f491u;
  R.ops = (bk_smp_ops){op_send, op_random, op_ask, op_encrypt, op_done, NULL};
  smp_peer_init(&R.peer);
  R.cfg = (bk_smp_config){
      .io_cap = BK_SMP_IO_NO_INPUT_NO_OUTPUT,
      .bonding = true,
      .min_key_size = 7,
      .local_dist = BK_SMP_DIST_ID | BK_SMP_DIST_SIGN,
      .remote_dist = BK_SMP_DIST_ENC | BK_SMP_DIST_ID | BK_SMP_DIST_SIGN,
      .local = R.peer.central,
      .peer = R.peer.self,
      .local_identity = {1, {0x31, 0x32, 0x33, 0x34, 0x35, 0xf6}},
  };
  for (int i = 0; i < 16; i++)
    R.cfg.local_irk[i] = (uint8_t)(0x40 + i);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  static const bk_smp_secrets no_secrets;
  static const bk_smp_keys no_keys;
  assert_false(bk_smp_running(&R.smp));
  assert_int_equal(bk_smp_deadline(&R.smp), 0);
  assert_int_equal(R.dones, R.requests);
  assert_memory_equal(&R.smp.secret, &no_secrets, sizeof no_secrets);
  assert_memory_equal(&R.smp.keys, &no_keys, sizeof no_keys);
  assert_int_equal(R.smp.passkey, 0);
  assert_true(R.delivered == R.n_sent || R.checked == R.n_sent);
  assert_int_equal(R.peer.n_out, 0);
  bk_smp_close(&R.smp);
  return 0;
}

/* What both sides hold at the end of a good pairing. */
static void assert_paired(bk_smp_method method, bool sc) {
  assert_int_equal(R.dones, 1);
  assert_int_equal(R.status, 0);
  assert_true(R.keys_given);
  const bk_smp_keys *k = &R.keys;
  assert_int_equal(k->method, method);
  assert_int_equal(k->sc, sc);
  assert_int_equal(k->authenticated, method != BK_SMP_JUST_WORKS);
  assert_int_equal(k->key_size, R.peer.key_size);
  assert_false(k->debug_key);
  /* the link was encrypted with what the peer computed */
  assert_memory_equal(R.enc_key, sc ? R.peer.sc_ltk : R.peer.stk, 16);
  assert_int_equal(R.enc_ediv, 0);
  assert_memory_equal(R.enc_rand, (uint8_t[8]){0}, 8);
  assert_int_equal(R.peer.failed, 0);
  assert_int_equal(R.peer.got_failed, 0);
  if (sc) {
    assert_true(k->has_ltk);
    assert_memory_equal(k->ltk, R.peer.sc_ltk, 16);
    assert_int_equal(k->ediv, 0);
  }
}

/* The key distribution of the default config with a bonding peer: its
 * LTK (legacy), IRK, identity and CSRK to us; our IRK, identity and CSRK
 * to it. */
static void assert_keys_exchanged(bool sc) {
  const bk_smp_keys *k = &R.keys;
  assert_true(k->bonded);
  assert_int_equal(k->peer_dist, sc ? 0x06 : 0x07);
  assert_int_equal(k->local_dist, 0x06);
  if (!sc) {
    assert_true(k->has_ltk);
    assert_memory_equal(k->ltk, R.peer.ltk, 16);
    assert_int_equal(k->ediv, R.peer.ediv);
    assert_memory_equal(k->rand, R.peer.rand, 8);
  }
  assert_true(k->has_irk);
  assert_memory_equal(k->irk, R.peer.irk, 16);
  assert_memory_equal(&k->identity, &R.peer.identity, sizeof k->identity);
  assert_true(k->has_csrk);
  assert_memory_equal(k->csrk, R.peer.csrk, 16);
  assert_false(k->has_local_ltk);
  assert_true(k->has_local_csrk);
  /* the peer got ours */
  assert_int_equal(R.peer.keys_received, 3);
  assert_true(R.peer.got_irk);
  assert_memory_equal(R.peer.central_irk, R.cfg.local_irk, 16);
  assert_memory_equal(&R.peer.central_identity, &R.cfg.local_identity,
                      sizeof R.cfg.local_identity);
  assert_true(R.peer.got_csrk);
  assert_memory_equal(R.peer.central_csrk, k->local_csrk, 16);
}

#define LEGACY_KEYS "<06 <07 <08 <09 <0a >08 >09 >0a"
#define SC_KEYS "<08 <09 <0a >08 >09 >0a"

/* Our Pairing Request says what the config says: IO capability, OOB,
 * AuthReq (bonding, MITM, SC), 16, the distributions. */
static void test_request(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_DISPLAY;
  R.cfg.mitm = true;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  EXPECT("01 04 00 0d 10 06 07");
  assert_true(bk_smp_running(&R.smp));
  assert_int_equal(bk_smp_deadline(&R.smp), R.now + BK_SMP_TIMEOUT_MS);
  assert_int_equal(bk_smp_start(&R.smp, R.now), BLEAK_ERR_ALREADY);
  assert_int_equal(bk_smp_cancel(&R.smp, R.now), 0);
  EXPECT("05 08");
  assert_int_equal(R.status, BLEAK_ERR_CANCELED);
  assert_int_equal(bk_smp_cancel(&R.smp, R.now), BLEAK_ERR_STATE);
  /* legacy only, no bonding, an OOB TK */
  R.cfg.legacy_only = true;
  R.cfg.bonding = R.cfg.mitm = false;
  R.cfg.has_oob_tk = true;
  R.cfg.local_dist = 0;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  EXPECT("01 04 01 00 10 00 07");
  bk_smp_close(&R.smp);
  assert_int_equal(R.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(R.dones, 2);
  assert_int_equal(R.n_sent, R.checked); /* nothing sent on close */
  bk_smp_close(&R.smp);
  assert_int_equal(R.dones, 2);
  assert_int_equal(bk_smp_start(&R.smp, R.now), BLEAK_ERR_STATE);
}

/* LE legacy Just Works, replayed with the spec's c1 example (2.2.3):
 * our Pairing Request and the peer's Response are the example's, our
 * Mrand its r, so our Pairing Confirm must be the example's value. The
 * peer's key of 8 bytes: the STK is masked to it, and so is its LTK. */
static void test_legacy_just_works_spec_example(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_YES_NO;
  R.cfg.legacy_only = true;
  R.cfg.bonding = false;
  R.cfg.local_dist = R.cfg.remote_dist = 0x07;
  R.cfg.local = (bk_smp_addr){1, {0}};
  le("A1A2A3A4A5A6", R.cfg.local.val, 6);
  R.cfg.peer = (bk_smp_addr){0, {0}};
  le("B1B2B3B4B5B6", R.cfg.peer.val, 6);
  uint8_t mrand[16], srand[16], mconfirm[16], sconfirm[16], stk[16], tk[16] = {0};
  le("5783D521 56AD6F0E 6388274E C6702EE0", mrand, 16);
  le("000F0E0D0C0B0A09 1122334455667788", srand, 16);
  le("1e1e3fef 878988ea d2a74dc5 bef13b86", mconfirm, 16);
  memcpy(R.script, mrand, 16);
  R.script_len = 16;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  EXPECT("01 01 00 00 10 07 07");
  INJECT("02 03 00 00 08 00 05");
  uint8_t want[17] = {BK_SMP_PAIRING_CONFIRM};
  memcpy(want + 1, mconfirm, 16);
  assert_int_equal(R.sent_len[R.checked], 17);
  assert_memory_equal(R.sent[R.checked], want, 17);
  R.checked++;
  assert_int_equal(bk_smp_c1(tk, srand, R.smp.preq, R.smp.pres, &R.cfg.local, &R.cfg.peer,
                             sconfirm),
                   0);
  inject_bytes(BK_SMP_PAIRING_CONFIRM, sconfirm, 16);
  want[0] = BK_SMP_PAIRING_RANDOM;
  memcpy(want + 1, mrand, 16);
  assert_memory_equal(R.sent[R.checked], want, 17);
  R.checked++;
  assert_int_equal(R.encrypts, 0);
  inject_bytes(BK_SMP_PAIRING_RANDOM, srand, 16);
  assert_int_equal(R.encrypts, 1);
  assert_int_equal(bk_smp_s1(tk, srand, mrand, stk), 0);
  assert_memory_equal(R.enc_key, stk, 8);
  assert_memory_equal(R.enc_key + 8, (uint8_t[8]){0}, 8); /* masked to 8 bytes */
  bk_smp_encrypted(&R.smp, 0, 0, R.now);
  /* the peer distributes EncKey and SignKey (05), we nothing (00) */
  INJECT("06 a0a1a2a3a4a5a6a7 a8a9aaabacadaeaf");
  INJECT("07 3412 d0d1d2d3d4d5d6d7");
  assert_int_equal(R.dones, 0);
  INJECT("0a c0c1c2c3c4c5c6c7 c8c9cacbcccdcecf");
  assert_int_equal(R.n_sent, R.checked);
  assert_int_equal(R.dones, 1);
  assert_int_equal(R.status, 0);
  const bk_smp_keys *k = &R.keys;
  assert_int_equal(k->method, BK_SMP_JUST_WORKS);
  assert_false(k->sc);
  assert_false(k->authenticated);
  assert_false(k->bonded);
  assert_int_equal(k->key_size, 8);
  assert_true(k->has_ltk);
  assert_memory_equal(k->ltk, ((uint8_t[16]){0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7}), 16);
  assert_int_equal(k->ediv, 0x1234);
  assert_int_equal(k->rand[7], 0xd7);
  assert_false(k->has_irk);
  assert_true(k->has_csrk);
  assert_int_equal(k->csrk[15], 0xcf);
  assert_int_equal(k->local_dist, 0);
  assert_string_equal(transcript(), ">01 <02 >03 <03 >04 <04 <06 <07 <0a");
}

/* Legacy Just Works with the fake peer, keys both ways. */
static void test_legacy_just_works(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  start();
  encrypted();
  assert_paired(BK_SMP_JUST_WORKS, false);
  assert_keys_exchanged(false);
  assert_int_equal(R.asks, 0);
  assert_string_equal(transcript(), ">01 <02 >03 <03 >04 <04 " LEGACY_KEYS);
}

/* Legacy Passkey Entry, we type: KeyboardOnly and a DisplayOnly peer
 * that shows 000042 (leading zeros: a passkey is a number). */
static void test_legacy_passkey_we_type(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  R.cfg.mitm = true;
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_ONLY;
  R.peer.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.auth_req = BK_SMP_AUTH_BONDING | BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  R.peer.passkey = 42;
  start();
  assert_int_equal(R.asks, 1);
  assert_int_equal(R.q, BK_SMP_ASK_PASSKEY);
  assert_string_equal(transcript(), ">01 <02"); /* nothing sent before the answer */
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 1000000, R.now), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 42, R.now), 0);
  pump();
  encrypted();
  assert_paired(BK_SMP_PASSKEY_INPUT, false);
  assert_keys_exchanged(false);
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 42, R.now), BLEAK_ERR_STATE);
}

/* Legacy Passkey Entry, we show: DisplayOnly and a KeyboardDisplay peer
 * (whose user types what we show: op_ask hands it over). */
static void test_legacy_passkey_we_display(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.io_cap = BK_SMP_IO_KEYBOARD_DISPLAY;
  R.peer.auth_req = BK_SMP_AUTH_BONDING | BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  R.peer.passkey = 999999; /* overwritten by what we show */
  start();
  assert_int_equal(R.asks, 1);
  assert_int_equal(R.q, BK_SMP_ASK_DISPLAY);
  assert_true(R.number <= 999999);
  encrypted();
  assert_paired(BK_SMP_PASSKEY_DISPLAY, false);
  assert_keys_exchanged(false);
}

/* Legacy OOB: both have the TK. */
static void test_legacy_oob(void **state) {
  (void)state;
  R.cfg.has_oob_tk = true;
  for (int i = 0; i < 16; i++)
    R.cfg.oob_tk[i] = R.peer.oob_tk[i] = (uint8_t)(0x70 ^ i);
  R.peer.oob_flag = 1;
  R.peer.method = PEER_OOB;
  start();
  encrypted();
  assert_paired(BK_SMP_OOB, false);
  assert_int_equal(R.asks, 0);
}

/* Legacy: we distribute an LTK too (masked to the key size of 12), with
 * EDIV and Rand, for when the peer is central; the peer gives nothing. */
static void test_legacy_local_keys(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  R.cfg.local_dist = BK_SMP_DIST_ENC | BK_SMP_DIST_ID | BK_SMP_DIST_SIGN;
  R.cfg.remote_dist = 0;
  R.peer.max_key_size = 12;
  start();
  encrypted();
  assert_paired(BK_SMP_JUST_WORKS, false);
  const bk_smp_keys *k = &R.keys;
  assert_int_equal(k->key_size, 12);
  assert_int_equal(k->peer_dist, 0);
  assert_int_equal(k->local_dist, 0x07);
  assert_false(k->has_ltk); /* the STK was for this connection only */
  assert_true(k->has_local_ltk);
  assert_memory_equal(k->local_ltk + 12, (uint8_t[4]){0}, 4);
  assert_true(R.peer.got_ltk);
  assert_memory_equal(R.peer.central_ltk, k->local_ltk, 16);
  assert_int_equal(R.peer.central_ediv, k->local_ediv);
  assert_memory_equal(R.peer.central_rand, k->local_rand, 8);
  assert_int_equal(R.peer.keys_received, 5);
  assert_string_equal(transcript(), ">01 <02 >03 <03 >04 <04 >06 >07 >08 >09 >0a");
}

/* The peer pairs with the debug key pair: it works, and says so. */
static void test_peer_debug_key(void **state) {
  (void)state;
  assert_int_equal(bk_smp_p256_debug(&R.peer.key), 0);
  start();
  encrypted();
  assert_int_equal(R.status, 0);
  assert_true(R.keys.debug_key);
}

/* LE Secure Connections Just Works, with the debug key pair on our side:
 * our Pairing Public Key is the spec's debug public key. */
static void test_sc_just_works(void **state) {
  (void)state;
  R.cfg.sc_debug_key = true;
  start();
  assert_int_equal(R.sent_len[1], 65);
  uint8_t dbg[64];
  le("20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6", dbg, 32);
  le("dc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28b", dbg + 32, 32);
  assert_memory_equal(R.sent[1] + 1, dbg, 64);
  encrypted();
  assert_paired(BK_SMP_JUST_WORKS, true);
  assert_keys_exchanged(true);
  assert_string_equal(transcript(), ">01 <02 >0c <0c <03 >04 <04 >0d <0d " SC_KEYS);
}

/* SC Just Works with a fresh key pair, and the user asked first. */
static void test_sc_just_works_authorized(void **state) {
  (void)state;
  R.cfg.authorize_just_works = true;
  start();
  assert_int_equal(R.q, BK_SMP_ASK_AUTHORIZE);
  assert_string_equal(transcript(), ">01 <02");
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 0, R.now), 0);
  pump();
  encrypted();
  assert_paired(BK_SMP_JUST_WORKS, true);
  assert_false(bk_smp_p256_is_debug(R.peer.pka));
}

/* SC Numeric Comparison: both DisplayYesNo; we show what the peer shows. */
static void test_sc_numeric_comparison(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_YES_NO;
  R.peer.io_cap = BK_SMP_IO_KEYBOARD_DISPLAY;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.peer.method = PEER_NUMERIC;
  start();
  assert_int_equal(R.asks, 1);
  assert_int_equal(R.q, BK_SMP_ASK_CONFIRM);
  assert_int_equal(R.number, R.peer.shown);
  assert_string_equal(transcript(), ">01 <02 >0c <0c <03 >04 <04");
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 0, R.now), 0);
  pump();
  encrypted();
  assert_paired(BK_SMP_NUMERIC_COMPARISON, true);
  assert_keys_exchanged(true);
}

/* SC Passkey Entry, we show: 20 rounds of confirm and random. */
static void test_sc_passkey_we_display(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.cfg.mitm = true;
  R.peer.io_cap = BK_SMP_IO_KEYBOARD_ONLY;
  R.peer.method = PEER_PASSKEY;
  start();
  assert_int_equal(R.q, BK_SMP_ASK_DISPLAY);
  assert_int_equal(R.peer.round, 20);
  encrypted();
  assert_paired(BK_SMP_PASSKEY_DISPLAY, true);
  assert_keys_exchanged(true);
  char want[1024] = ">01 <02 >0c";
  for (int i = 0; i < 20; i++)
    strcat(want, i ? " >03 <03 >04 <04" : " <0c >03 <03 >04 <04");
  strcat(want, " >0d <0d " SC_KEYS);
  assert_string_equal(transcript(), want);
}

/* SC Passkey Entry, we type: KeyboardDisplay and a DisplayOnly peer. */
static void test_sc_passkey_we_type(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_DISPLAY;
  R.peer.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  R.peer.passkey = 765432;
  start();
  assert_int_equal(R.q, BK_SMP_ASK_PASSKEY);
  /* Asked while the public keys go both ways: the peer shows its passkey
   * once it has ours (Linux's SMP does); the first round waits for it. */
  assert_string_equal(transcript(), ">01 <02 >0c <0c");
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 765432, R.now), 0);
  pump();
  assert_int_equal(R.peer.round, 20);
  encrypted();
  assert_paired(BK_SMP_PASSKEY_INPUT, true);
}

/* The same, the user quicker than the peer: the passkey is typed before
 * the peer's public key comes (held back here); the first round starts
 * when it does. */
static uint8_t held_key[65];
static size_t held_key_len;
static void hold_public_key(uint8_t *pdu, size_t *len) {
  if (pdu[0] == BK_SMP_PAIRING_PUBLIC_KEY && !held_key_len) {
    memcpy(held_key, pdu, *len);
    held_key_len = *len;
    *len = 0;
  }
}

static void test_sc_passkey_typed_before_peer_key(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_DISPLAY;
  R.peer.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  R.peer.passkey = 123456;
  held_key_len = 0;
  R.tamper = hold_public_key;
  start();
  assert_int_equal(R.q, BK_SMP_ASK_PASSKEY);
  assert_int_equal(held_key_len, 65);
  assert_string_equal(transcript(), ">01 <02 >0c");
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 123456, R.now), 0);
  assert_string_equal(transcript(), ">01 <02 >0c"); /* nothing until the key */
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 123456, R.now), BLEAK_ERR_STATE);
  R.tamper = NULL;
  note('<', held_key[0]);
  bk_smp_recv(&R.smp, held_key, held_key_len, R.now);
  pump();
  assert_int_equal(R.peer.round, 20);
  encrypted();
  assert_paired(BK_SMP_PASSKEY_INPUT, true);
}

/* SC OOB both ways: we have the peer's r and C, it has ours. */
static void test_sc_oob(void **state) {
  (void)state;
  for (int i = 0; i < 16; i++)
    R.peer.own_r[i] = (uint8_t)(0x5a ^ i);
  R.cfg.has_peer_oob = true;
  memcpy(R.cfg.peer_oob_r, R.peer.own_r, 16);
  assert_int_equal(bk_smp_f4(R.peer.key.pub, R.peer.key.pub, R.peer.own_r, 0, R.cfg.peer_oob_c),
                   0);
  init_engine();
  uint8_t r[16], c[16];
  assert_int_equal(bk_smp_sc_local_oob(&R.smp, r, c), 0);
  R.peer.has_central_oob = true;
  memcpy(R.peer.central_r, r, 16);
  memcpy(R.peer.central_c, c, 16);
  R.peer.oob_flag = 1;
  R.peer.method = PEER_OOB;
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  pump();
  encrypted();
  assert_paired(BK_SMP_OOB, true);
  assert_string_equal(transcript(), ">01 <02 >0c <0c >04 <04 >0d <0d " SC_KEYS);
  assert_int_equal(R.sent[0][2], 1); /* our OOB flag */
  /* the peer checked Ca = f4(PKax, PKax, ra, 0) against the public key we
   * sent: the key pair of our OOB data was the one used */
}

/* SC OOB one way: only we have the peer's data (the peer's flag is 0). A
 * wrong C for the peer's key is the attack on OOB: refused. */
static void test_sc_oob_wrong_confirm(void **state) {
  (void)state;
  R.cfg.has_peer_oob = true;
  memset(R.cfg.peer_oob_r, 0x11, 16);
  memset(R.cfg.peer_oob_c, 0x22, 16);
  R.peer.method = PEER_OOB;
  start();
  assert_failed_with(BK_SMP_CONFIRM_VALUE_FAILED);
  assert_string_equal(transcript(), ">01 <02 >0c <0c >05");
}

/* The peer says it has our OOB data, but we made none. */
static void test_sc_oob_not_available(void **state) {
  (void)state;
  R.peer.oob_flag = 1;
  start();
  assert_failed_with(BK_SMP_OOB_NOT_AVAILABLE);
}

/* A peripheral's Security Request starts pairing (or not, if the owner
 * says so); while one runs, it is ignored. */
static void test_security_request(void **state) {
  (void)state;
  R.ops.security_request = op_security_request;
  init_engine();
  INJECT("0b 01");
  assert_int_equal(R.sec_reqs, 1);
  assert_int_equal(R.n_sent, 0); /* the owner encrypts with its bond */
  R.sec_req_pairs = true;
  INJECT("0b 2d");
  assert_int_equal(R.sec_reqs, 2);
  assert_true(bk_smp_running(&R.smp));
  INJECT("0b 01"); /* a pairing runs: ignored */
  assert_int_equal(R.sec_reqs, 2);
  pump();
  encrypted();
  assert_paired(BK_SMP_JUST_WORKS, true);
  /* without the op: pairs */
  R.ops.security_request = NULL;
  memset(R.transcript, 0, sizeof R.transcript);
  R.encrypts = 0;
  smp_peer_init(&R.peer);
  R.dones = R.requests = 0;
  init_engine();
  R.delivered = R.n_sent;
  INJECT("0b 00");
  pump();
  encrypted();
  assert_paired(BK_SMP_JUST_WORKS, true);
  assert_string_equal(transcript(), "<0b >01 <02 >0c <0c <03 >04 <04 >0d <0d " SC_KEYS);
}

/* ---- attacks and failures ---- */

static uint8_t tamper_code;
static int tamper_nth, tamper_seen;
static void (*tamper_with)(uint8_t *pdu, size_t *len);

/* tamper_with() the tamper_nth PDU of code tamper_code from the peer. */
static void tamper_filter(uint8_t *pdu, size_t *len) {
  if (pdu[0] == tamper_code && ++tamper_seen == tamper_nth)
    tamper_with(pdu, len);
}
static void tamper(uint8_t code, int nth, void (*fn)(uint8_t *, size_t *)) {
  tamper_code = code;
  tamper_nth = nth;
  tamper_seen = 0;
  tamper_with = fn;
  R.tamper = tamper_filter;
}

static void flip_last(uint8_t *pdu, size_t *len) { pdu[*len - 1] ^= 0x01; }
static void zero_y(uint8_t *pdu, size_t *len) {
  (void)len;
  memset(pdu + 33, 0, 32);
}
static void x_plus_p(uint8_t *pdu, size_t *len) { /* X = 5 + p, Y of (5, y) */
  (void)len;
  le("ffffffff 00000001 00000000 00000000 00000001 00000000 00000000 00000004", pdu + 1, 32);
  le("459243b9 aa581806 fe913bce 99817ade 11ca503c 64d9a3c5 33415c08 3248fbcc", pdu + 33, 32);
}
static void reflect_key(uint8_t *pdu, size_t *len) {
  (void)len;
  memcpy(pdu + 1, R.sent[1] + 1, 64); /* our own Pairing Public Key */
}
static void reflect_x_only(uint8_t *pdu, size_t *len) { /* (x, -y): ours negated */
  (void)len;
  memcpy(pdu + 1, R.sent[1] + 1, 32);
}
static void reflect_confirm(uint8_t *pdu, size_t *len) {
  (void)len;
  for (int i = R.n_sent - 1; i >= 0; i--)
    if (R.sent[i][0] == BK_SMP_PAIRING_CONFIRM) {
      memcpy(pdu + 1, R.sent[i] + 1, 16);
      return;
    }
}
static void cut_one(uint8_t *pdu, size_t *len) {
  (void)pdu;
  (*len)--;
}
static void set_byte(uint8_t *pdu, size_t *len, size_t at, uint8_t v) {
  assert_true(at < *len);
  pdu[at] = v;
}
static void io_cap_5(uint8_t *pdu, size_t *len) { set_byte(pdu, len, 1, 5); }
static void key_size_17(uint8_t *pdu, size_t *len) { set_byte(pdu, len, 4, 17); }
static void dist_link_key(uint8_t *pdu, size_t *len) { set_byte(pdu, len, 6, 0x0f); }
static void random_nonstatic(uint8_t *pdu, size_t *len) { set_byte(pdu, len, 7, 0x46); }
static void id_type_2(uint8_t *pdu, size_t *len) { set_byte(pdu, len, 1, 2); }

/* CVE-2018-5383: the peer's public key with Y zeroed (a point of a weak
 * curve) is refused with DHKey Check Failed before any use. */
static void test_invalid_curve_key(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_PUBLIC_KEY, 1, zero_y);
  start();
  assert_failed_with(BK_SMP_DHKEY_CHECK_FAILED);
  assert_non_null(strstr(R.detail, "CVE-2018-5383"));
  /* the peer's Cb was on its way: ignored, no pairing runs */
  assert_string_equal(transcript(), ">01 <02 >0c <0c >05 <03");
  assert_int_equal(R.peer.got_failed, BK_SMP_DHKEY_CHECK_FAILED);
}

/* A coordinate of p or more is not a field element, even when it is a
 * point mod p. */
static void test_key_coordinate_past_p(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_PUBLIC_KEY, 1, x_plus_p);
  start();
  assert_failed_with(BK_SMP_DHKEY_CHECK_FAILED);
  assert_non_null(strstr(R.detail, "not below p"));
}

/* CVE-2020-26558: our own public key reflected (or its X: the negated
 * point) is refused. */
static void test_reflected_public_key(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_PUBLIC_KEY, 1, reflect_key);
  start();
  assert_failed_with(BK_SMP_INVALID_PARAMETERS);
  assert_non_null(strstr(R.detail, "CVE-2020-26558"));
}
static void test_reflected_public_key_x(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_ONLY;
  R.cfg.mitm = true;
  R.peer.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  tamper(BK_SMP_PAIRING_PUBLIC_KEY, 1, reflect_x_only);
  start(); /* the keys are exchanged before the passkey is typed */
  assert_failed_with(BK_SMP_INVALID_PARAMETERS);
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 123, R.now), BLEAK_ERR_STATE);
}

/* Legacy: a wrong Sconfirm, and our own Mconfirm reflected. */
static void test_legacy_wrong_confirm(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  tamper(BK_SMP_PAIRING_CONFIRM, 1, flip_last);
  start();
  assert_failed_with(BK_SMP_CONFIRM_VALUE_FAILED);
  assert_string_equal(transcript(), ">01 <02 >03 <03 >04 <04 >05");
}
static void test_legacy_reflected_confirm(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  tamper(BK_SMP_PAIRING_CONFIRM, 1, reflect_confirm);
  start();
  assert_failed_with(BK_SMP_CONFIRM_VALUE_FAILED);
  assert_string_equal(transcript(), ">01 <02 >03 <03 >05"); /* our Mrand stays ours */
}

/* SC: a wrong Cb (Just Works), a wrong Cbi in passkey round 7, a
 * reflected Cai. */
static void test_sc_wrong_confirm(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_CONFIRM, 1, flip_last);
  start();
  assert_failed_with(BK_SMP_CONFIRM_VALUE_FAILED);
  assert_string_equal(transcript(), ">01 <02 >0c <0c <03 >04 <04 >05");
}
static void test_sc_passkey_wrong_round(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.io_cap = BK_SMP_IO_KEYBOARD_ONLY;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  tamper(BK_SMP_PAIRING_CONFIRM, 7, flip_last);
  start();
  assert_failed_with(BK_SMP_CONFIRM_VALUE_FAILED);
  assert_non_null(strstr(R.detail, "passkey round 7"));
  assert_int_equal(R.peer.round, 7);
}
static void test_sc_passkey_reflected_confirm(void **state) {
  (void)state;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.io_cap = BK_SMP_IO_KEYBOARD_ONLY;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  tamper(BK_SMP_PAIRING_CONFIRM, 1, reflect_confirm);
  start();
  assert_failed_with(BK_SMP_CONFIRM_VALUE_FAILED);
  assert_non_null(strstr(R.detail, "reflected"));
}

/* A wrong DHKey check from the peer. */
static void test_wrong_dhkey_check(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_DHKEY_CHECK, 1, flip_last);
  start();
  assert_failed_with(BK_SMP_DHKEY_CHECK_FAILED);
  assert_string_equal(transcript(), ">01 <02 >0c <0c <03 >04 <04 >0d <0d >05");
}

/* KNOB-style: a key shorter than our minimum, negotiated or in use. */
static void test_key_size_below_minimum(void **state) {
  (void)state;
  R.cfg.min_key_size = 16;
  R.peer.max_key_size = 7;
  start();
  assert_failed_with(BK_SMP_ENCRYPTION_KEY_SIZE);
  assert_string_equal(transcript(), ">01 <02 >05");
}
static void test_key_size_in_use_below_minimum(void **state) {
  (void)state;
  R.cfg.min_key_size = 16;
  start();
  assert_int_equal(R.encrypts, 1);
  bk_smp_encrypted(&R.smp, 0, 7, R.now);
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE));
  assert_int_equal(R.sent[R.n_sent - 1][1], BK_SMP_ENCRYPTION_KEY_SIZE);
  pump();
  assert_int_equal(R.peer.got_failed, BK_SMP_ENCRYPTION_KEY_SIZE);
}

/* Secure Connections only, and a legacy peer. */
static void test_sc_only_legacy_peer(void **state) {
  (void)state;
  R.cfg.sc_only = true;
  R.peer.auth_req = BK_SMP_AUTH_BONDING;
  start();
  assert_failed_with(BK_SMP_AUTHENTICATION_REQUIREMENTS);
}

/* MITM required, and IO capabilities that allow Just Works only. */
static void test_mitm_impossible(void **state) {
  (void)state;
  R.cfg.mitm = true;
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_DISPLAY;
  start(); /* the peer is NoInputNoOutput */
  assert_failed_with(BK_SMP_AUTHENTICATION_REQUIREMENTS);
}

/* 3.4: 30 s without a PDU sent ends SMP on the link: nothing more is sent
 * or accepted, and no pairing starts again. */
static void test_timeout(void **state) {
  (void)state;
  R.peer.method = PEER_NUMERIC;
  R.peer.io_cap = BK_SMP_IO_DISPLAY_YES_NO;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.cfg.io_cap = BK_SMP_IO_DISPLAY_YES_NO;
  R.now = 5000;
  start(); /* the question waits: the user is away */
  assert_int_equal(R.q, BK_SMP_ASK_CONFIRM);
  uint64_t d = bk_smp_deadline(&R.smp);
  assert_int_equal(d, 5000 + BK_SMP_TIMEOUT_MS);
  int sent = R.n_sent;
  bk_smp_tick(&R.smp, d - 1);
  assert_int_equal(R.dones, 0);
  bk_smp_tick(&R.smp, d);
  assert_int_equal(R.dones, 1);
  assert_int_equal(R.status, BLEAK_ERR_TIMEOUT);
  assert_int_equal(R.n_sent, sent); /* no Pairing Failed */
  assert_int_equal(bk_smp_deadline(&R.smp), 0);
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 0, d), BLEAK_ERR_STATE);
  INJECT("0b 01");
  INJECT("01 03 00 01 10 07 07");
  assert_int_equal(R.n_sent, sent);
  assert_int_equal(bk_smp_start(&R.smp, d), BLEAK_ERR_STATE);
  R.delivered = R.n_sent;
}

/* PDUs out of order: a Pairing Random before any confirm; a key before
 * the link is encrypted (it could be injected in the clear); keys in the
 * wrong order; a PDU while we wait for the user. */
static void test_out_of_order(void **state) {
  (void)state;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  EXPECT("01 03 00 09 10 06 07");
  INJECT("04 00112233445566778899aabbccddeeff");
  EXPECT("05 08");
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_UNSPECIFIED_REASON));
  assert_non_null(strstr(R.detail, "Pairing Random out of order"));
}
static void test_key_before_encryption(void **state) {
  (void)state;
  start();
  assert_int_equal(R.encrypts, 1);
  INJECT("08 000102030405060708090a0b0c0d0e0f");
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_UNSPECIFIED_REASON));
  assert_int_equal(R.sent[R.n_sent - 1][1], BK_SMP_UNSPECIFIED_REASON);
  bk_smp_encrypted(&R.smp, 0, 16, R.now); /* late: ignored */
  assert_int_equal(R.dones, 1);
  R.delivered = R.n_sent;
}
static void as_address(uint8_t *pdu, size_t *len) { /* Identity Information's 17 bytes */
  (void)len;
  pdu[0] = BK_SMP_IDENTITY_ADDRESS_INFORMATION;
}
static void test_key_wrong_length(void **state) {
  (void)state;
  start();
  tamper(BK_SMP_IDENTITY_INFORMATION, 1, as_address);
  encrypted();
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS));
  assert_int_equal(R.sent[R.n_sent - 1][1], BK_SMP_INVALID_PARAMETERS);
  assert_int_equal(R.peer.keys_received, 0);
}
static void test_keys_wrong_order(void **state) {
  (void)state;
  start();
  bk_smp_encrypted(&R.smp, 0, 0, R.now);
  INJECT("09 00 212223242526"); /* the address before the IRK */
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_UNSPECIFIED_REASON));
  assert_non_null(strstr(R.detail, "Identity Address Information out of order"));
  R.delivered = R.n_sent;
}
static void test_pdu_while_asking(void **state) {
  (void)state;
  R.cfg.authorize_just_works = true;
  start();
  assert_int_equal(R.q, BK_SMP_ASK_AUTHORIZE);
  INJECT("0c 0000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000");
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_UNSPECIFIED_REASON));
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 0, R.now), BLEAK_ERR_STATE);
  R.delivered = R.n_sent;
}

/* PDUs of the wrong length, and values out of range. */
static void test_wrong_lengths(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_RESPONSE, 1, cut_one);
  start();
  assert_failed_with(BK_SMP_INVALID_PARAMETERS);
  assert_non_null(strstr(R.detail, "Pairing Response of 6 bytes, not 7"));
}
static void test_public_key_short(void **state) {
  (void)state;
  tamper(BK_SMP_PAIRING_PUBLIC_KEY, 1, cut_one);
  start();
  assert_failed_with(BK_SMP_INVALID_PARAMETERS);
}
static void test_pairing_failed_wrong_length(void **state) {
  (void)state;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  INJECT("05 08 00");
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS));
  assert_int_equal(R.n_sent, 1); /* a Pairing Failed is never answered */
  R.delivered = R.n_sent;
}
static void test_response_out_of_range(void **state) {
  void (*bad[])(uint8_t *, size_t *) = {io_cap_5, key_size_17, dist_link_key};
  for (size_t i = 0; i < N_OF(bad); i++) {
    setup(state);
    tamper(BK_SMP_PAIRING_RESPONSE, 1, bad[i]);
    start();
    assert_failed_with(BK_SMP_INVALID_PARAMETERS);
    teardown(state);
  }
}
static void test_identity_address_invalid(void **state) {
  void (*bad[])(uint8_t *, size_t *) = {random_nonstatic, id_type_2};
  for (size_t i = 0; i < N_OF(bad); i++) {
    setup(state);
    R.peer.identity.type = 1;
    start();
    tamper(BK_SMP_IDENTITY_ADDRESS_INFORMATION, 1, bad[i]);
    encrypted();
    assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS));
    assert_int_equal(R.peer.got_failed, BK_SMP_INVALID_PARAMETERS);
    assert_int_equal(R.peer.keys_received, 0);
    teardown(state);
  }
}

/* The peer's Pairing Failed ends the pairing, unanswered; its Repeated
 * Attempts hold a new one off, longer each time. */
static void test_peer_fails(void **state) {
  (void)state;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  INJECT("05 05");
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_PAIRING_NOT_SUPPORTED));
  assert_int_equal(R.n_sent, 1);
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  INJECT("05 00"); /* reason 0 is reserved: unspecified */
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_UNSPECIFIED_REASON));
  R.delivered = R.n_sent;
}
static void test_repeated_attempts(void **state) {
  (void)state;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  INJECT("05 09");
  assert_int_equal(R.status, BLEAK_ERR_SMP(BK_SMP_REPEATED_ATTEMPTS));
  assert_int_equal(bk_smp_start(&R.smp, R.now + BK_SMP_HOLD_MS - 1), BLEAK_ERR_BUSY);
  R.now += BK_SMP_HOLD_MS - 1;
  INJECT("0b 01"); /* the peripheral asks: still holding off */
  assert_int_equal(R.n_sent, 1);
  R.now += 1;
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  INJECT("05 09");
  assert_int_equal(bk_smp_start(&R.smp, R.now + 2 * BK_SMP_HOLD_MS - 1), BLEAK_ERR_BUSY);
  R.now += 2 * BK_SMP_HOLD_MS;
  INJECT("0b 01");
  assert_true(bk_smp_running(&R.smp));
  /* the wait doubles up to its cap */
  for (int i = 0; i < 10; i++) {
    INJECT("05 09");
    R.now += BK_SMP_HOLD_MAX_MS;
    assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  }
  assert_int_equal(R.smp.hold_ms, BK_SMP_HOLD_MAX_MS);
  bk_smp_close(&R.smp);
  assert_int_equal(R.status, BLEAK_ERR_DISCONNECTED);
  R.delivered = R.n_sent;
}

/* The user says no: Numeric Comparison, passkey, Just Works, and a shown
 * passkey canceled. */
static void test_user_declines(void **state) {
  static const struct {
    bk_smp_io_cap ours, peers;
    bool authorize;
    bk_smp_question q;
    uint8_t reason;
  } v[] = {
      {BK_SMP_IO_DISPLAY_YES_NO, BK_SMP_IO_DISPLAY_YES_NO, false, BK_SMP_ASK_CONFIRM,
       BK_SMP_NUMERIC_COMPARISON_FAILED},
      {BK_SMP_IO_KEYBOARD_ONLY, BK_SMP_IO_DISPLAY_ONLY, false, BK_SMP_ASK_PASSKEY,
       BK_SMP_PASSKEY_ENTRY_FAILED},
      {BK_SMP_IO_NO_INPUT_NO_OUTPUT, BK_SMP_IO_NO_INPUT_NO_OUTPUT, true, BK_SMP_ASK_AUTHORIZE,
       BK_SMP_UNSPECIFIED_REASON},
      {BK_SMP_IO_DISPLAY_ONLY, BK_SMP_IO_KEYBOARD_ONLY, false, BK_SMP_ASK_DISPLAY,
       BK_SMP_PASSKEY_ENTRY_FAILED},
  };
  for (size_t i = 0; i < N_OF(v); i++) {
    setup(state);
    R.cfg.io_cap = v[i].ours;
    R.cfg.authorize_just_works = v[i].authorize;
    R.peer.io_cap = v[i].peers;
    R.peer.auth_req |= BK_SMP_AUTH_MITM;
    R.peer.method = v[i].q == BK_SMP_ASK_CONFIRM ? PEER_NUMERIC : PEER_PASSKEY;
    R.tamper = NULL;
    init_engine();
    assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
    /* the peer's Response only: the user answers before anything more */
    R.delivered = R.n_sent;
    smp_peer_recv(&R.peer, R.sent[0], R.sent_len[0]);
    uint8_t b[80];
    size_t n = smp_peer_take(&R.peer, b);
    bk_smp_recv(&R.smp, b, n, R.now);
    if (v[i].q == BK_SMP_ASK_CONFIRM)
      pump();
    assert_int_equal(R.q, v[i].q);
    assert_int_equal(bk_smp_user_reply(&R.smp, false, 0, R.now), 0);
    assert_int_equal(R.status, BLEAK_ERR_AUTH);
    assert_int_equal(R.sent[R.n_sent - 1][0], BK_SMP_PAIRING_FAILED);
    assert_int_equal(R.sent[R.n_sent - 1][1], v[i].reason);
    R.delivered = R.n_sent;
    teardown(state);
  }
}

/* The link's encryption with the new key fails. */
static void test_encryption_fails(void **state) {
  (void)state;
  R.cfg.legacy_only = true;
  start();
  bk_smp_encrypted(&R.smp, 0x06, 0, R.now); /* PIN or Key Missing */
  assert_int_equal(R.status, BLEAK_ERR_AUTH);
  assert_non_null(strstr(R.detail, "0x06"));
  R.delivered = R.n_sent;
}

/* The owner's ops fail: send, random, encrypt. */
static void test_ops_fail(void **state) {
  (void)state;
  init_engine();
  R.send_err = BLEAK_ERR_NOT_CONNECTED;
  assert_int_equal(bk_smp_start(&R.smp, R.now), BLEAK_ERR_NOT_CONNECTED);
  assert_int_equal(R.dones, 0);
  assert_false(bk_smp_running(&R.smp));
  R.send_err = 0;
  R.rand_err = BLEAK_ERR_IO;
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  pump();
  assert_int_equal(R.status, BLEAK_ERR_IO);
  R.rand_err = 0;
  R.encrypt_err = BLEAK_ERR_NO_MEMORY;
  smp_peer_init(&R.peer);
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  pump();
  assert_int_equal(R.status, BLEAK_ERR_NO_MEMORY);
  assert_int_equal(R.dones, 2);
  R.delivered = R.n_sent;
}

/* A send fails midway (the link is going): the pairing ends with its
 * error, and nothing more is tried. */
static void test_send_fails_midway(void **state) {
  (void)state;
  R.send_fail_at = 3; /* Pairing Request, Public Key, then Pairing Random */
  start();
  assert_int_equal(R.dones, 1);
  assert_int_equal(R.status, BLEAK_ERR_NOT_CONNECTED);
  assert_string_equal(transcript(), ">01 <02 >0c <0c <03");
}

/* While no pairing runs: a peripheral's Pairing Request is not for it to
 * send; other PDUs, unknown codes and empty PDUs are ignored. During one:
 * unknown codes and Keypress Notifications are ignored. */
static void test_idle_and_ignored(void **state) {
  (void)state;
  init_engine();
  INJECT("01 03 00 01 10 07 07");
  EXPECT("05 07");
  INJECT("0b");
  EXPECT("05 0a");
  INJECT("02 03 00 01 10 07 07");
  INJECT("03 00112233445566778899aabbccddeeff");
  INJECT("05 08");
  INJECT("ff 01");
  bk_smp_recv(&R.smp, NULL, 0, R.now);
  bk_smp_recv(&R.smp, (const uint8_t[]){0}, 0, R.now);
  bk_smp_encrypted(&R.smp, 0, 16, R.now);
  bk_smp_tick(&R.smp, R.now + 100000);
  assert_int_equal(R.n_sent, R.checked);
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 0, R.now), BLEAK_ERR_STATE);
  R.delivered = R.n_sent;
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  R.checked++;
  INJECT("0e 00");
  INJECT("10 0102");
  assert_true(bk_smp_running(&R.smp));
  INJECT("0e 00 00");
  EXPECT("05 0a");
  R.delivered = R.n_sent;
}

static void test_config_checked(void **state) {
  (void)state;
  bk_smp s;
  bk_smp_config c = R.cfg;
  c.min_key_size = 6;
  assert_int_equal(bk_smp_init(&s, &c, &R.ops, &R), BLEAK_ERR_INVALID_ARG);
  c.min_key_size = 17;
  assert_int_equal(bk_smp_init(&s, &c, &R.ops, &R), BLEAK_ERR_INVALID_ARG);
  c = R.cfg;
  c.io_cap = 5;
  assert_int_equal(bk_smp_init(&s, &c, &R.ops, &R), BLEAK_ERR_INVALID_ARG);
  c = R.cfg;
  c.peer.type = 2;
  assert_int_equal(bk_smp_init(&s, &c, &R.ops, &R), BLEAK_ERR_INVALID_ARG);
  c = R.cfg;
  c.sc_only = c.legacy_only = true;
  assert_int_equal(bk_smp_init(&s, &c, &R.ops, &R), BLEAK_ERR_INVALID_ARG);
  bk_smp_ops o = R.ops;
  o.encrypt = NULL;
  assert_int_equal(bk_smp_init(&s, &R.cfg, &o, &R), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_start(NULL, 0), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_user_reply(NULL, true, 0, 0), BLEAK_ERR_INVALID_ARG);
  bk_smp_recv(NULL, NULL, 0, 0);
  bk_smp_tick(NULL, 0);
  bk_smp_close(NULL);
  assert_int_equal(bk_smp_deadline(NULL), 0);
  init_engine();
  uint8_t r[16], c16[16];
  assert_int_equal(bk_smp_sc_local_oob(&R.smp, NULL, c16), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  assert_int_equal(bk_smp_sc_local_oob(&R.smp, r, c16), BLEAK_ERR_ALREADY);
  bk_smp_close(&R.smp);
  assert_int_equal(bk_smp_sc_local_oob(&R.smp, r, c16), BLEAK_ERR_STATE);
  R.delivered = R.n_sent;
}

/* done() may start the next pairing at once, ask() may answer at once. */
static void restart_on_failure(void *owner, int status, const bk_smp_keys *keys) {
  op_done(owner, status, keys);
  if (R.dones == 1)
    assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
}
static void answer_at_once(void *owner, bk_smp_question q, uint32_t number) {
  op_ask(owner, q, number);
  assert_int_equal(bk_smp_user_reply(&R.smp, true, 0, R.now), 0);
}
static void test_reentry(void **state) {
  (void)state;
  R.ops.done = restart_on_failure;
  R.ops.ask = answer_at_once;
  R.cfg.authorize_just_works = true;
  init_engine();
  assert_int_equal(bk_smp_start(&R.smp, R.now), 0);
  INJECT("05 08");
  assert_int_equal(R.dones, 1);
  assert_true(bk_smp_running(&R.smp)); /* the second one */
  R.delivered = 1;                     /* the peer sees its request only */
  pump();
  encrypted();
  assert_int_equal(R.dones, 2);
  assert_int_equal(R.status, 0);
  assert_int_equal(R.asks, 1);
}

/* Keys never reach the log: a whole pairing logged at DEBUG shows none
 * of them, in either byte order, nor the passkey. */
static char logged[16384];
static void capture(bleak_log_level level, const char *module, const char *msg, void *user) {
  (void)level;
  (void)user;
  size_t n = strlen(logged);
  snprintf(logged + n, sizeof logged - n, "%s: %s\n", module, msg);
}
static bool logged_hex(const uint8_t *v, size_t n) {
  char fwd[40] = "", rev[40] = "", FWD[40] = "";
  for (size_t i = 0; i < n; i++) {
    sprintf(fwd + 2 * i, "%02x", v[i]);
    sprintf(FWD + 2 * i, "%02X", v[i]);
    sprintf(rev + 2 * i, "%02x", v[n - 1 - i]);
  }
  return strstr(logged, fwd) || strstr(logged, FWD) || strstr(logged, rev);
}
static void test_keys_never_logged(void **state) {
  (void)state;
  logged[0] = 0;
  bleak_log_set_handler(capture, NULL);
  bleak_log_set_level(BLEAK_LOG_DEBUG);
  R.cfg.io_cap = BK_SMP_IO_KEYBOARD_ONLY;
  R.peer.io_cap = BK_SMP_IO_DISPLAY_ONLY;
  R.peer.auth_req |= BK_SMP_AUTH_MITM;
  R.peer.method = PEER_PASSKEY;
  R.peer.passkey = 918273;
  R.peer.identity.type = 1;
  R.peer.identity.val[5] = 0xc6;
  start();
  bk_smp_user_reply(&R.smp, true, 918273, R.now);
  pump();
  encrypted();
  bleak_log_set_level(BLEAK_LOG_NONE);
  bleak_log_set_handler(NULL, NULL);
  assert_int_equal(R.status, 0);
  assert_non_null(strstr(logged, "paired"));
  assert_false(logged_hex(R.keys.ltk, 16));
  assert_false(logged_hex(R.keys.irk, 16));
  assert_false(logged_hex(R.keys.csrk, 16));
  assert_false(logged_hex(R.keys.local_csrk, 16));
  assert_false(logged_hex(R.peer.dhkey, 8));
  assert_false(logged_hex(R.peer.na, 8));
  assert_null(strstr(logged, "918273"));
}
int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pairing_refused),
      cmocka_unit_test(test_wrong_lengths_refused),
      cmocka_unit_test(test_others_ignored),
      cmocka_unit_test(test_arguments),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_request),
      T(test_legacy_just_works_spec_example),
      T(test_legacy_just_works),
      T(test_legacy_passkey_we_type),
      T(test_legacy_passkey_we_display),
      T(test_legacy_oob),
      T(test_legacy_local_keys),
      T(test_peer_debug_key),
      T(test_sc_just_works),
      T(test_sc_just_works_authorized),
      T(test_sc_numeric_comparison),
      T(test_sc_passkey_we_display),
      T(test_sc_passkey_we_type),
      T(test_sc_passkey_typed_before_peer_key),
      T(test_sc_oob),
      T(test_sc_oob_wrong_confirm),
      T(test_sc_oob_not_available),
      T(test_security_request),
      T(test_invalid_curve_key),
      T(test_key_coordinate_past_p),
      T(test_reflected_public_key),
      T(test_reflected_public_key_x),
      T(test_legacy_wrong_confirm),
      T(test_legacy_reflected_confirm),
      T(test_sc_wrong_confirm),
      T(test_sc_passkey_wrong_round),
      T(test_sc_passkey_reflected_confirm),
      T(test_wrong_dhkey_check),
      T(test_key_size_below_minimum),
      T(test_key_size_in_use_below_minimum),
      T(test_sc_only_legacy_peer),
      T(test_mitm_impossible),
      T(test_timeout),
      T(test_out_of_order),
      T(test_key_before_encryption),
      T(test_key_wrong_length),
      T(test_keys_wrong_order),
      T(test_pdu_while_asking),
      T(test_wrong_lengths),
      T(test_public_key_short),
      T(test_pairing_failed_wrong_length),
      T(test_response_out_of_range),
      T(test_identity_address_invalid),
      T(test_peer_fails),
      T(test_repeated_attempts),
      T(test_user_declines),
      T(test_encryption_fails),
      T(test_ops_fail),
      T(test_send_fails_midway),
      T(test_idle_and_ignored),
      T(test_config_checked),
      T(test_reentry),
      T(test_keys_never_logged),
#undef T
  };
  bleak_log_set_level(BLEAK_LOG_NONE);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
