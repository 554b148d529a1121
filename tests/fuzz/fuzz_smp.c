/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the SMP pairing engine (src/backend/hci/smp.c) through
 * every state. Random PDUs alone would never pass a confirm check, so the
 * engine pairs with the honest fake peripheral of tests/support/smp_peer.c
 * and the fuzzer's bytes are a script that steers, corrupts and
 * interrupts it:
 *   bytes 0..4  the configuration of both sides (IO capabilities, flags,
 *               key sizes, distributions, OOB data);
 *   then ops    deliver the peer's next PDU as it is, with a byte changed,
 *               cut or stretched; inject a PDU of the fuzzer's own; answer
 *               the user's question; report the encryption's outcome; let
 *               time pass; start, cancel, close, a Security Request;
 *               reflect our own last PDU; fail the next send or random.
 * When the script ends the two sides finish honestly. Checked throughout:
 * every PDU sent has its code's length; no Pairing Request while one
 * runs; nothing sent once SMP timed out or was closed; done() at most
 * once per Pairing Request (exactly once in the end), with the engine's
 * secrets already wiped; a deadline exactly while a pairing runs; a
 * success meets the config (key size, MITM, SC only) and its keys are
 * masked to the key size.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/smp.h"
#include "bleak/error.h"
#include "bleak/log.h"
#include "smp_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_QUEUE 64

typedef struct fz {
  const uint8_t *d;
  size_t n, i;
  bk_smp smp;
  bk_smp_config cfg;
  smp_peer peer;
  uint8_t q[MAX_QUEUE][65]; /* our PDUs on their way to the peer */
  size_t q_len[MAX_QUEUE];
  int q_n;
  int requests, dones;
  bool over; /* timed out or closed */
  bool asked, encrypting;
  bk_smp_question question;
  uint32_t number;
  bool fail_send, fail_random; /* the next one fails */
  uint32_t rng;
  uint64_t now;
} fz;

static fz F;

static uint8_t byte(void) { return F.i < F.n ? F.d[F.i++] : 0; }

/* The length of each PDU, by the spec's table (3.3), apart from smp.c's. */
static size_t spec_len(uint8_t code) {
  static const uint8_t len[] = {0, 7, 7, 17, 17, 2, 17, 11, 17, 8, 17, 2, 65, 17, 2};
  return code < sizeof len ? len[code] : 0;
}

static int op_send(void *owner, const uint8_t *pdu, size_t len) {
  (void)owner;
  if (F.over || len == 0 || len != spec_len(pdu[0]))
    abort();
  if (bk_smp_running(&F.smp) && pdu[0] == BK_SMP_PAIRING_REQUEST)
    abort(); /* begin() sends it while idle */
  if (!bk_smp_running(&F.smp) && pdu[0] != BK_SMP_PAIRING_REQUEST &&
      pdu[0] != BK_SMP_PAIRING_FAILED)
    abort();
  if (F.fail_send) {
    F.fail_send = false;
    return BLEAK_ERR_NOT_CONNECTED;
  }
  if (pdu[0] == BK_SMP_PAIRING_REQUEST)
    F.requests++;
  if (F.q_n < MAX_QUEUE) {
    memcpy(F.q[F.q_n], pdu, len);
    F.q_len[F.q_n++] = len;
  }
  return 0;
}

static int op_random(void *owner, uint8_t *buf, size_t len) {
  (void)owner;
  if (F.fail_random) {
    F.fail_random = false;
    return BLEAK_ERR_IO;
  }
  for (size_t i = 0; i < len; i++) {
    F.rng ^= F.rng << 13;
    F.rng ^= F.rng >> 17;
    F.rng ^= F.rng << 5;
    buf[i] = (uint8_t)(F.rng >> 11);
  }
  return 0;
}

static void op_ask(void *owner, bk_smp_question q, uint32_t number) {
  (void)owner;
  if (number > 999999 || (q == BK_SMP_ASK_AUTHORIZE && !F.cfg.authorize_just_works))
    abort();
  F.asked = true;
  F.question = q;
  F.number = number;
  if (q == BK_SMP_ASK_DISPLAY)
    F.peer.passkey = number;
}

static int op_encrypt(void *owner, const uint8_t key[16], uint16_t ediv, const uint8_t rand[8]) {
  (void)owner;
  uint8_t size = F.smp.key_size;
  if (ediv || memcmp(rand, (uint8_t[8]){0}, 8) || size < F.cfg.min_key_size || size > 16)
    abort();
  for (int i = size; i < 16; i++)
    if (key[i])
      abort(); /* masked to the key size */
  F.encrypting = true;
  return 0;
}

static void op_done(void *owner, int status, const bk_smp_keys *keys) {
  (void)owner;
  static const bk_smp_secrets none;
  if (++F.dones > F.requests || bk_smp_running(&F.smp) || (status == 0) != (keys != NULL) ||
      memcmp(&F.smp.secret, &none, sizeof none))
    abort();
  F.asked = F.encrypting = false;
  if (status == BLEAK_ERR_TIMEOUT)
    F.over = true; /* 3.4: no more SMP on the link */
  if (!keys)
    return;
  if (keys->key_size < F.cfg.min_key_size || keys->key_size > 16 ||
      (F.cfg.mitm && !keys->authenticated) || (F.cfg.sc_only && !keys->sc) ||
      (F.cfg.legacy_only && keys->sc))
    abort();
  for (int i = keys->key_size; i < 16; i++)
    if ((keys->has_ltk && keys->ltk[i]) || (keys->has_local_ltk && keys->local_ltk[i]))
      abort();
}

static bool op_security_request(void *owner, uint8_t auth_req) {
  (void)owner;
  (void)auth_req;
  return byte() % 4 != 0;
}

static const bk_smp_ops ops = {op_send, op_random, op_ask, op_encrypt, op_done,
                               op_security_request};

/* Tell the peer the model the engine chose (the tables are not under
 * test here: a peer that disagrees would only fail early). */
static void follow_model(void) {
  if (!bk_smp_running(&F.smp))
    return;
  switch (F.smp.method) {
  case BK_SMP_JUST_WORKS: F.peer.method = PEER_JUST_WORKS; break;
  case BK_SMP_NUMERIC_COMPARISON: F.peer.method = PEER_NUMERIC; break;
  case BK_SMP_OOB: F.peer.method = PEER_OOB; break;
  default: F.peer.method = PEER_PASSKEY; break;
  }
}

static void to_engine(const uint8_t *pdu, size_t len) {
  bk_smp_recv(&F.smp, pdu, len, F.now);
  follow_model();
}

/* Our queued PDUs to the peer. */
static void flush(void) {
  for (int k = 0; k < F.q_n; k++)
    smp_peer_recv(&F.peer, F.q[k], F.q_len[k]);
  F.q_n = 0;
}

static void check(void) {
  bool running = bk_smp_running(&F.smp);
  uint64_t d = bk_smp_deadline(&F.smp);
  if (running != (d != 0) || (running && d > F.now + BK_SMP_TIMEOUT_MS) ||
      F.dones > F.requests || (F.over && running))
    abort();
}

static void answer(bool accept, uint32_t passkey) {
  if (!F.asked)
    return;
  F.asked = false;
  bk_smp_user_reply(&F.smp, accept, passkey, F.now);
}

static void encrypted(uint8_t status, uint8_t key_size) {
  if (!F.encrypting)
    return;
  F.encrypting = false;
  bk_smp_encrypted(&F.smp, status, key_size, F.now);
  if (status == 0)
    smp_peer_send_keys(&F.peer);
}

static void step(uint8_t op) {
  uint8_t pdu[80];
  size_t len;
  switch (op % 10) {
  case 0:
  case 1:
  case 2: /* the peer's next PDU, as it is */
    flush();
    if ((len = smp_peer_take(&F.peer, pdu)))
      to_engine(pdu, len);
    break;
  case 3: /* ... with a byte changed */
    flush();
    if ((len = smp_peer_take(&F.peer, pdu))) {
      size_t at = byte() % len; /* one byte() a statement: in order */
      pdu[at] ^= (uint8_t)(byte() | 1);
      to_engine(pdu, len);
    }
    break;
  case 4: /* ... cut or stretched */
    flush();
    if ((len = smp_peer_take(&F.peer, pdu))) {
      size_t n = byte() % 70;
      for (size_t k = len; k < n; k++)
        pdu[k] = byte();
      to_engine(pdu, n);
    }
    break;
  case 5: /* a PDU of the fuzzer's own */
    len = byte() % 70;
    for (size_t k = 0; k < len; k++)
      pdu[k] = byte();
    to_engine(pdu, len);
    break;
  case 6: { /* the user answers */
    uint8_t b = byte();
    uint32_t pk = F.peer.passkey;
    if (b & 0x80) {
      pk = (uint32_t)byte() << 12;
      pk |= byte();
    }
    answer(b % 4 != 0, pk);
    follow_model();
    break;
  }
  case 7: { /* the encryption's outcome */
    uint8_t b = byte();
    uint8_t status = b % 8 ? 0 : byte();
    encrypted(status, b & 0x10 ? byte() % 18 : 0);
    break;
  }
  case 8: /* time passes */
    F.now += (uint64_t)byte() * 500;
    bk_smp_tick(&F.smp, F.now);
    break;
  default:
    switch (byte() % 8) {
    case 0:
      bk_smp_start(&F.smp, F.now);
      break;
    case 1:
      bk_smp_cancel(&F.smp, F.now);
      break;
    case 2:
      bk_smp_close(&F.smp);
      F.over = true;
      break;
    case 3:
      to_engine((const uint8_t[]){BK_SMP_SECURITY_REQUEST, byte()}, 2);
      break;
    case 4: {
      uint8_t r[16], c[16];
      bk_smp_sc_local_oob(&F.smp, r, c);
      break;
    }
    case 5: /* our own last PDU reflected */
      if (F.q_n)
        to_engine(F.q[F.q_n - 1], F.q_len[F.q_n - 1]);
      break;
    case 6:
      F.fail_send = true;
      break;
    default:
      F.fail_random = true;
      break;
    }
    break;
  }
  check();
}

/* Both sides honest to the end (bounded). */
static void finish_honestly(void) {
  uint8_t pdu[80];
  size_t len;
  for (int k = 0; k < 300 && bk_smp_running(&F.smp); k++) {
    flush();
    if ((len = smp_peer_take(&F.peer, pdu)))
      to_engine(pdu, len);
    else if (F.asked)
      answer(true, F.peer.passkey);
    else if (F.encrypting)
      encrypted(0, 0);
    else
      break; /* stuck: the close below ends it */
    check();
  }
}

static void configure(void) {
  uint8_t c0 = byte(), c1 = byte(), c2 = byte(), c3 = byte(), c4 = byte();
  smp_peer_init(&F.peer);
  bk_smp_config *c = &F.cfg;
  c->io_cap = (bk_smp_io_cap)(c0 % 5);
  F.peer.io_cap = (uint8_t)(c0 / 5 % 5);
  c->bonding = c1 & 0x01;
  c->mitm = c1 & 0x02;
  c->sc_only = c1 & 0x04;
  c->legacy_only = (c1 & 0x08) && !c->sc_only;
  c->authorize_just_works = c1 & 0x10;
  c->sc_debug_key = c1 & 0x20;
  F.peer.auth_req = (uint8_t)((c2 & 0x01 ? BK_SMP_AUTH_SC : 0) | (c2 & 0x02 ? BK_SMP_AUTH_MITM : 0) |
                              (c2 & 0x04 ? BK_SMP_AUTH_BONDING : 0));
  F.peer.oob_flag = (c2 & 0x08) != 0;
  c->min_key_size = (uint8_t)(7 + (c2 >> 5));
  F.peer.max_key_size = c3 & 0x80 ? (c3 & 0x1f) : (uint8_t)(7 + c3 % 10);
  c->local_dist = c4 & 0x07;
  c->remote_dist = (c4 >> 3) & 0x07;
  c->local = F.peer.central;
  c->peer = F.peer.self;
  c->local_identity = (bk_smp_addr){0, {1, 2, 3, 4, 5, 6}};
  if (c1 & 0x40) { /* the peer's SC OOB data, right unless c4's top bit */
    c->has_peer_oob = true;
    memset(F.peer.own_r, 0x3c, 16);
    memcpy(c->peer_oob_r, F.peer.own_r, 16);
    bk_smp_f4(F.peer.key.pub, F.peer.key.pub, F.peer.own_r, 0, c->peer_oob_c);
    if (c4 & 0x80)
      c->peer_oob_c[0] ^= 1;
  }
  if ((c2 & 0x10) && !c->sc_only) { /* a legacy OOB TK, both sides */
    c->has_oob_tk = true;
    memset(c->oob_tk, 0x77, 16);
    memset(F.peer.oob_tk, 0x77, 16);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  memset(&F, 0, sizeof F);
  F.d = data;
  F.n = size;
  F.rng = 0x1234567u;
  F.now = 1;
  configure();
  if (bk_smp_init(&F.smp, &F.cfg, &ops, NULL) != 0)
    abort();
  uint8_t start = byte();
  if (start & 0x01) { /* our OOB data for the peer first */
    uint8_t r[16], c[16];
    if (bk_smp_sc_local_oob(&F.smp, r, c) == 0) {
      F.peer.has_central_oob = true;
      memcpy(F.peer.central_r, r, 16);
      memcpy(F.peer.central_c, c, 16);
    }
  }
  if (start & 0x02)
    to_engine((const uint8_t[]){BK_SMP_SECURITY_REQUEST, start}, 2);
  else
    bk_smp_start(&F.smp, F.now);
  check();
  while (F.i < F.n)
    step(byte());
  finish_honestly();
  bk_smp_close(&F.smp);
  F.over = true;
  check();
  static const bk_smp_secrets none;
  if (F.dones != F.requests || memcmp(&F.smp.secret, &none, sizeof none))
    abort();
  return 0;
}
