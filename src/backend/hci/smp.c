/* SPDX-License-Identifier: MIT */
/* The Security Manager Protocol: see smp.h. */
#include "backend/hci/smp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

/* Pairing Request: code, IO capability, OOB flag, AuthReq, maximum key
 * size, initiator and responder key distribution (3.5.1). Security
 * Request: code, AuthReq (3.6.7). */
#define PAIRING_REQUEST_LEN 7
#define SECURITY_REQUEST_LEN 2

int bk_smp_refuse(const uint8_t *pdu, size_t len, uint8_t *out, size_t cap) {
  if ((!pdu && len) || !out)
    return BLEAK_ERR_INVALID_ARG;
  if (cap < BK_SMP_MAX_ANSWER)
    return BLEAK_ERR_BUFFER_TOO_SMALL;
  if (len == 0)
    return 0;
  size_t want;
  if (pdu[0] == BK_SMP_PAIRING_REQUEST)
    want = PAIRING_REQUEST_LEN;
  else if (pdu[0] == BK_SMP_SECURITY_REQUEST)
    want = SECURITY_REQUEST_LEN;
  else
    return 0;
  out[0] = BK_SMP_PAIRING_FAILED;
  out[1] = len == want ? BK_SMP_PAIRING_NOT_SUPPORTED : BK_SMP_INVALID_PARAMETERS;
  return 2;
}

/* ---- The pairing engine ---- */

#define MOD "smp"
#define PAIRING_FAILED_LEN 2
#define MAX_PDU 65 /* Pairing Public Key */

enum state {
  ST_IDLE,     /* no pairing runs */
  ST_FEATURES, /* Pairing Request sent: the Response next */
  ST_USER,     /* a question asked (s->question): its answer next */
  ST_PUBKEY,   /* SC: our public key sent: the peer's next */
  ST_CONFIRM,  /* the peer's Pairing Confirm next */
  ST_RANDOM,   /* our Pairing Random sent: the peer's next */
  ST_CHECK,    /* SC: our DHKey Check sent: the peer's next */
  ST_ENCRYPT,  /* encryption asked for: bk_smp_encrypted() next */
  ST_KEYS,     /* the peer's keys next, in order */
  ST_DEAD,     /* timed out or closed: no more SMP on this link */
};

/* The length of each PDU (its code included); 0: a reserved code. */
static size_t pdu_len(uint8_t code) {
  switch (code) {
  case BK_SMP_PAIRING_REQUEST:
  case BK_SMP_PAIRING_RESPONSE:
    return PAIRING_REQUEST_LEN;
  case BK_SMP_PAIRING_CONFIRM:
  case BK_SMP_PAIRING_RANDOM:
  case BK_SMP_ENCRYPTION_INFORMATION:
  case BK_SMP_IDENTITY_INFORMATION:
  case BK_SMP_SIGNING_INFORMATION:
  case BK_SMP_PAIRING_DHKEY_CHECK:
    return 17;
  case BK_SMP_PAIRING_FAILED:
  case BK_SMP_SECURITY_REQUEST:
  case BK_SMP_PAIRING_KEYPRESS_NOTIFICATION:
    return 2;
  case BK_SMP_CENTRAL_IDENTIFICATION:
    return 11;
  case BK_SMP_IDENTITY_ADDRESS_INFORMATION:
    return 8;
  case BK_SMP_PAIRING_PUBLIC_KEY:
    return 65;
  default:
    return 0;
  }
}

static const char *pdu_name(uint8_t code) {
  static const char *const names[] = {
      "?",                    "Pairing Request",
      "Pairing Response",     "Pairing Confirm",
      "Pairing Random",       "Pairing Failed",
      "Encryption Information", "Central Identification",
      "Identity Information", "Identity Address Information",
      "Signing Information",  "Security Request",
      "Pairing Public Key",   "Pairing DHKey Check",
      "Keypress Notification"};
  return code < BK_ARRAY_SIZE(names) ? names[code] : "?";
}

static const char *method_name(bk_smp_method m) {
  switch (m) {
  case BK_SMP_JUST_WORKS:
    return "Just Works";
  case BK_SMP_PASSKEY_DISPLAY:
    return "Passkey Entry (we display)";
  case BK_SMP_PASSKEY_INPUT:
    return "Passkey Entry (we type)";
  case BK_SMP_NUMERIC_COMPARISON:
    return "Numeric Comparison";
  case BK_SMP_OOB:
    return "OOB";
  }
  return "?";
}

bool bk_smp_running(const bk_smp *s) { return s && s->state != ST_IDLE && s->state != ST_DEAD; }

static bool legacy_offered(const bk_smp_config *c) { return c->legacy_only || c->has_oob_tk; }

int bk_smp_init(bk_smp *s, const bk_smp_config *cfg, const bk_smp_ops *ops, void *owner) {
  if (!s || !cfg || !ops || !ops->send || !ops->random || !ops->ask || !ops->encrypt || !ops->done)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "SMP: a config and every op but security_request");
  if (cfg->min_key_size < 7 || cfg->min_key_size > 16 || cfg->io_cap > BK_SMP_IO_KEYBOARD_DISPLAY ||
      cfg->local.type > 1 || cfg->peer.type > 1 || cfg->local_identity.type > 1 ||
      (cfg->sc_only && legacy_offered(cfg)))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "SMP config out of range");
  memset(s, 0, sizeof *s);
  s->ops = ops;
  s->owner = owner;
  s->cfg = *cfg;
  s->state = ST_IDLE;
  return 0;
}

/* Forget the pairing (the engine idle, its secrets wiped), then tell the
 * owner: done() is the last thing, so it may start another or close. */
static void finish(bk_smp *s, int status, const char *detail) {
  bk_smp_keys k;
  if (status == 0)
    k = s->keys;
  if (s->state != ST_DEAD)
    s->state = ST_IDLE;
  s->deadline = 0;
  s->displaying = false;
  s->typing = false;
  s->has_local_oob = false;
  s->passkey = 0;
  bk_smp_wipe(&s->secret, sizeof s->secret);
  bk_smp_wipe(&s->keys, sizeof s->keys);
  if (status == 0) {
    BK_INFO(MOD, "paired: %s, %s, key size %u%s", method_name(k.method),
            k.sc ? "Secure Connections" : "legacy", k.key_size, k.bonded ? ", bonded" : "");
    bk_clear_detail();
    s->ops->done(s->owner, 0, &k);
    bk_smp_wipe(&k, sizeof k);
    return;
  }
  BK_WARN(MOD, "pairing failed: %s", detail);
  (void)bk_fail(status, "%s", detail);
  s->ops->done(s->owner, status, NULL);
}

/* End the pairing: Pairing Failed with @p reason unless 0 (a send error
 * ignored: the pairing ends either way), then done(@p status). */
BK_PRINTF(4, 5)
static void fail(bk_smp *s, uint8_t reason, int status, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap); /* before anything resets the detail it may quote */
  va_end(ap);
  if (reason) {
    uint8_t pdu[PAIRING_FAILED_LEN] = {BK_SMP_PAIRING_FAILED, reason};
    (void)s->ops->send(s->owner, pdu, sizeof pdu);
  }
  finish(s, status, msg);
}

/* Fail for a libcrypto or random error @p err in @p what. */
static void fail_internal(bk_smp *s, int err, const char *what) {
  fail(s, BK_SMP_UNSPECIFIED_REASON, err, "%s: %s", what, bleak_error_detail());
}

/* Send a PDU: @p code and @p n bytes of @p data. The SMP timer restarts
 * (3.4). @return false when the send failed (the pairing then ended). */
static bool send_pdu(bk_smp *s, uint8_t code, const uint8_t *data, size_t n, uint64_t now) {
  uint8_t pdu[MAX_PDU];
  pdu[0] = code;
  memcpy(pdu + 1, data, n);
  int err = s->ops->send(s->owner, pdu, n + 1);
  bk_smp_wipe(pdu, sizeof pdu);
  if (err) {
    fail(s, 0, err, "sending %s: %s", pdu_name(code), bleak_error_detail());
    return false;
  }
  s->deadline = now + BK_SMP_TIMEOUT_MS;
  return true;
}

static bool draw(bk_smp *s, uint8_t *buf, size_t n) {
  int err = s->ops->random(s->owner, buf, n);
  if (err)
    fail(s, BK_SMP_UNSPECIFIED_REASON, err, "no random bytes");
  return err == 0;
}

/* A six-digit passkey, uniform: draws past the last whole million of
 * 2^32 are drawn again (a broken source gets a biased one after 8). */
static bool draw_passkey(bk_smp *s, uint32_t *pk) {
  uint32_t v = 0;
  for (int i = 0; i < 8; i++) {
    uint8_t b[4];
    if (!draw(s, b, sizeof b))
      return false;
    v = bk_get_le32(b);
    if (v < 4294000000u)
      break;
  }
  *pk = v % 1000000;
  return true;
}

/* The STK or LTK shortened to the negotiated key size (2.3.4). */
static void mask_key(uint8_t k[16], uint8_t size) { memset(k + size, 0, 16 - (size_t)size); }

/* The passkey as TK (legacy) or ra = rb (SC): a 128-bit number. */
static void passkey_tk(bk_smp *s, uint32_t pk) {
  s->passkey = pk;
  memset(s->secret.tk, 0, 16);
  bk_put_le32(s->secret.tk, pk);
}

static void ask(bk_smp *s, bk_smp_question q, uint32_t number) {
  s->state = ST_USER;
  s->question = (uint8_t)q;
  s->ops->ask(s->owner, q, number);
}

/* Send the Pairing Request. */
static int begin(bk_smp *s, uint64_t now) {
  const bk_smp_config *c = &s->cfg;
  bool legacy = legacy_offered(c);
  s->keys = (bk_smp_keys){0};
  s->round = 0;
  s->keys_next = 0;
  s->displaying = false;
  s->typing = false;
  s->sc = false;
  s->key_size = 0;
  memset(s->pres, 0, sizeof s->pres);
  uint8_t *r = s->preq;
  r[0] = BK_SMP_PAIRING_REQUEST;
  r[1] = (uint8_t)c->io_cap;
  r[2] = legacy ? c->has_oob_tk : c->has_peer_oob;
  r[3] = (uint8_t)((c->bonding ? BK_SMP_AUTH_BONDING : 0) |
                   (c->mitm || c->request_mitm ? BK_SMP_AUTH_MITM : 0) |
                   (legacy ? 0 : BK_SMP_AUTH_SC));
  r[4] = 16;
  r[5] = c->local_dist & (BK_SMP_DIST_ENC | BK_SMP_DIST_ID | BK_SMP_DIST_SIGN);
  r[6] = c->remote_dist & (BK_SMP_DIST_ENC | BK_SMP_DIST_ID | BK_SMP_DIST_SIGN);
  int err = s->ops->send(s->owner, r, PAIRING_REQUEST_LEN);
  if (err)
    return err;
  s->state = ST_FEATURES;
  s->deadline = now + BK_SMP_TIMEOUT_MS;
  BK_DEBUG(MOD, "Pairing Request sent");
  return 0;
}

int bk_smp_start(bk_smp *s, uint64_t now) {
  if (!s)
    return BLEAK_ERR_INVALID_ARG;
  if (s->state == ST_DEAD)
    return bk_fail(BLEAK_ERR_STATE, "SMP is over on this link (timed out or closed)");
  if (bk_smp_running(s))
    return bk_fail(BLEAK_ERR_ALREADY, "a pairing runs");
  if (now < s->hold_until)
    return bk_fail(BLEAK_ERR_BUSY, "the peer asked us to wait (Repeated Attempts): %llu ms more",
                   (unsigned long long)(s->hold_until - now));
  return begin(s, now);
}

/* The association models of 2.3.5.1 (tables 2.8 and 2.9), from our side
 * as initiator: [the peer's IO capability][ours]. */
#define J BK_SMP_JUST_WORKS
#define D BK_SMP_PASSKEY_DISPLAY
#define I BK_SMP_PASSKEY_INPUT
#define N BK_SMP_NUMERIC_COMPARISON
static const uint8_t legacy_models[5][5] = {
    /* ours: DisplayOnly, DisplayYesNo, KeyboardOnly, NoInputNoOutput, KeyboardDisplay */
    {J, J, I, J, I}, /* peer DisplayOnly */
    {J, J, I, J, I}, /* peer DisplayYesNo */
    {D, D, I, J, D}, /* peer KeyboardOnly */
    {J, J, J, J, J}, /* peer NoInputNoOutput */
    {D, D, I, J, D}, /* peer KeyboardDisplay: the initiator displays */
};
static const uint8_t sc_models[5][5] = {
    {J, J, I, J, I}, {J, N, I, J, N}, {D, D, I, J, D}, {J, J, J, J, J}, {D, N, I, J, N},
};
#undef J
#undef D
#undef I
#undef N

static bk_smp_method choose(const bk_smp *s) {
  bool our_oob = s->preq[2], peer_oob = s->pres[2];
  if (s->sc ? (our_oob || peer_oob) : (our_oob && peer_oob))
    return BK_SMP_OOB;
  if (!((s->preq[3] | s->pres[3]) & BK_SMP_AUTH_MITM))
    return BK_SMP_JUST_WORKS;
  return (bk_smp_method)(s->sc ? sc_models : legacy_models)[s->pres[1]][s->preq[1]];
}

/* Phase 2 begins: legacy, our confirm; SC, our public key. */
static bool begin_phase2(bk_smp *s, uint64_t now) {
  bk_smp_secrets *x = &s->secret;
  if (!s->sc) {
    if (!draw(s, x->na, 16))
      return false;
    int err = bk_smp_c1(x->tk, x->na, s->preq, s->pres, &s->cfg.local, &s->cfg.peer, x->ca);
    if (err) {
      fail_internal(s, err, "c1");
      return false;
    }
    s->state = ST_CONFIRM;
    return send_pdu(s, BK_SMP_PAIRING_CONFIRM, x->ca, 16, now);
  }
  if (!s->has_local_oob) {
    int err = s->cfg.sc_debug_key ? bk_smp_p256_debug(&x->key)
                                  : bk_smp_p256_generate(&x->key, s->ops->random, s->owner);
    if (err) {
      fail_internal(s, err, "our P-256 key pair");
      return false;
    }
  }
  s->state = ST_PUBKEY;
  return send_pdu(s, BK_SMP_PAIRING_PUBLIC_KEY, x->key.pub, 64, now);
}

static void on_response(bk_smp *s, const uint8_t *p, uint64_t now) {
  const bk_smp_config *c = &s->cfg;
  uint8_t io = p[1], oob = p[2], auth = p[3], max_key = p[4], idist = p[5], rdist = p[6];
  if (io > BK_SMP_IO_KEYBOARD_DISPLAY || oob > 1 || max_key > 16) {
    fail(s, BK_SMP_INVALID_PARAMETERS, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS),
         "Pairing Response out of range (IO capability %u, OOB flag %u, key size %u)", io, oob,
         max_key);
    return;
  }
  if (max_key < c->min_key_size) {
    fail(s, BK_SMP_ENCRYPTION_KEY_SIZE, BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE),
         "the peer's key of %u bytes is below our minimum of %u", max_key, c->min_key_size);
    return;
  }
  if ((idist & ~s->preq[5]) || (rdist & ~s->preq[6])) {
    fail(s, BK_SMP_INVALID_PARAMETERS, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS),
         "Pairing Response distributes keys we did not ask for");
    return;
  }
  memcpy(s->pres, p, PAIRING_REQUEST_LEN);
  s->sc = (s->preq[3] & BK_SMP_AUTH_SC) && (auth & BK_SMP_AUTH_SC);
  if (c->sc_only && !s->sc) {
    fail(s, BK_SMP_AUTHENTICATION_REQUIREMENTS, BLEAK_ERR_SMP(BK_SMP_AUTHENTICATION_REQUIREMENTS),
         "the peer does not do LE Secure Connections (sc_only)");
    return;
  }
  s->key_size = max_key;
  s->method = choose(s);
  if (c->mitm && s->method == BK_SMP_JUST_WORKS) {
    fail(s, BK_SMP_AUTHENTICATION_REQUIREMENTS, BLEAK_ERR_SMP(BK_SMP_AUTHENTICATION_REQUIREMENTS),
         "MITM protection required, but the IO capabilities allow Just Works only");
    return;
  }
  if (s->method == BK_SMP_OOB && s->sc && oob && !s->has_local_oob) {
    fail(s, BK_SMP_OOB_NOT_AVAILABLE, BLEAK_ERR_SMP(BK_SMP_OOB_NOT_AVAILABLE),
         "the peer says it has our OOB data, but we made none");
    return;
  }
  bk_smp_keys *k = &s->keys;
  k->method = s->method;
  k->sc = s->sc;
  k->authenticated = s->method != BK_SMP_JUST_WORKS;
  k->bonded = (s->preq[3] & BK_SMP_AUTH_BONDING) && (auth & BK_SMP_AUTH_BONDING);
  k->key_size = max_key;
  /* Secure Connections derive the LTK: EncKey is ignored (3.6.1) */
  uint8_t ignored = s->sc ? BK_SMP_DIST_ENC : 0;
  k->peer_dist = rdist & (uint8_t)~ignored;
  k->local_dist = idist & (uint8_t)~ignored;
  BK_DEBUG(MOD, "Pairing Response: %s, %s, key size %u", s->sc ? "Secure Connections" : "legacy",
           method_name(s->method), max_key);
  switch (s->method) {
  case BK_SMP_JUST_WORKS:
    if (c->authorize_just_works) {
      ask(s, BK_SMP_ASK_AUTHORIZE, 0);
      return;
    }
    break;
  case BK_SMP_PASSKEY_INPUT:
    if (s->sc) {
      /* A peer shows its passkey once it has our public key (Linux's
       * SMP does): the keys are exchanged while the user types. */
      if (!begin_phase2(s, now))
        return;
      s->typing = true;
      s->question = (uint8_t)BK_SMP_ASK_PASSKEY;
      s->ops->ask(s->owner, BK_SMP_ASK_PASSKEY, 0);
      return;
    }
    ask(s, BK_SMP_ASK_PASSKEY, 0); /* legacy: the TK first */
    return;
  case BK_SMP_PASSKEY_DISPLAY: {
    uint32_t pk;
    if (!draw_passkey(s, &pk))
      return;
    passkey_tk(s, pk);
    if (!begin_phase2(s, now))
      return;
    s->displaying = true;
    s->ops->ask(s->owner, BK_SMP_ASK_DISPLAY, pk);
    return;
  }
  case BK_SMP_OOB:
    if (!s->sc)
      memcpy(s->secret.tk, c->oob_tk, 16);
    break;
  case BK_SMP_NUMERIC_COMPARISON:
    break;
  }
  (void)begin_phase2(s, now);
}

/* SC Passkey Entry, round s->round: Nai drawn, Cai = f4(PKax, PKbx, Nai,
 * 0x80 | bit i of the passkey) sent. */
static void send_round_confirm(bk_smp *s, uint64_t now) {
  bk_smp_secrets *x = &s->secret;
  if (!draw(s, x->na, 16))
    return;
  uint8_t z = (uint8_t)(0x80 | ((s->passkey >> s->round) & 1));
  int err = bk_smp_f4(x->key.pub, x->peer_pub, x->na, z, x->ca);
  if (err) {
    fail_internal(s, err, "f4");
    return;
  }
  s->state = ST_CONFIRM;
  (void)send_pdu(s, BK_SMP_PAIRING_CONFIRM, x->ca, 16, now);
}

static void send_random(bk_smp *s, uint64_t now) {
  s->state = ST_RANDOM;
  (void)send_pdu(s, BK_SMP_PAIRING_RANDOM, s->secret.na, 16, now);
}

static void on_public_key(bk_smp *s, const uint8_t *d, uint64_t now) {
  bk_smp_secrets *x = &s->secret;
  if (bk_smp_equal(d, x->key.pub, 32)) {
    fail(s, BK_SMP_INVALID_PARAMETERS, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS),
         "the peer's public key is ours (reflected: CVE-2020-26558)");
    return;
  }
  int err = bk_smp_p256_dhkey(&x->key, d, x->dhkey);
  if (err == BLEAK_ERR_PROTOCOL) {
    fail(s, BK_SMP_DHKEY_CHECK_FAILED, BLEAK_ERR_SMP(BK_SMP_DHKEY_CHECK_FAILED),
         "the peer's public key is invalid (CVE-2018-5383): %s", bleak_error_detail());
    return;
  }
  if (err) {
    fail_internal(s, err, "ECDH");
    return;
  }
  memcpy(x->peer_pub, d, 64);
  if (bk_smp_p256_is_debug(d)) {
    s->keys.debug_key = true;
    BK_WARN(MOD, "the peer uses the debug key pair: anyone can read this link");
  }
  switch (s->method) {
  case BK_SMP_JUST_WORKS:
  case BK_SMP_NUMERIC_COMPARISON:
    s->state = ST_CONFIRM; /* the peer's Cb comes first */
    return;
  case BK_SMP_PASSKEY_INPUT:
  case BK_SMP_PASSKEY_DISPLAY:
    if (s->typing) { /* the user has not typed yet: the first round waits */
      s->state = ST_USER;
      return;
    }
    s->round = 0;
    send_round_confirm(s, now);
    return;
  case BK_SMP_OOB:
    break;
  }
  if (s->preq[2]) { /* we have the peer's OOB data: Cb = f4(PKbx, PKbx, rb, 0) */
    uint8_t cb[16];
    err = bk_smp_f4(x->peer_pub, x->peer_pub, s->cfg.peer_oob_r, 0, cb);
    if (err) {
      fail_internal(s, err, "f4");
      return;
    }
    if (!bk_smp_equal(cb, s->cfg.peer_oob_c, 16)) {
      fail(s, BK_SMP_CONFIRM_VALUE_FAILED, BLEAK_ERR_SMP(BK_SMP_CONFIRM_VALUE_FAILED),
           "the peer's public key does not match its OOB confirm value");
      return;
    }
  }
  if (draw(s, x->na, 16))
    send_random(s, now);
}

static void on_confirm(bk_smp *s, const uint8_t *d, uint64_t now) {
  bk_smp_secrets *x = &s->secret;
  memcpy(x->cb, d, 16);
  bool sent_ours =
      !s->sc || s->method == BK_SMP_PASSKEY_DISPLAY || s->method == BK_SMP_PASSKEY_INPUT;
  if (sent_ours) {
    if (bk_smp_equal(x->cb, x->ca, 16)) {
      fail(s, BK_SMP_CONFIRM_VALUE_FAILED, BLEAK_ERR_SMP(BK_SMP_CONFIRM_VALUE_FAILED),
           "the peer's confirm value is ours (reflected)");
      return;
    }
  } else if (!draw(s, x->na, 16)) { /* SC Just Works / Numeric Comparison: Na after Cb */
    return;
  }
  send_random(s, now);
}

/* SC: MacKey and LTK, then our DHKey check Ea = f6(MacKey, Na, Nb, rb,
 * IOcapA, A, B). */
static void send_check(bk_smp *s, uint64_t now) {
  bk_smp_secrets *x = &s->secret;
  const bk_smp_addr *a = &s->cfg.local, *b = &s->cfg.peer;
  uint8_t rb[16] = {0}, ea[16];
  if (s->method == BK_SMP_PASSKEY_DISPLAY || s->method == BK_SMP_PASSKEY_INPUT)
    memcpy(rb, x->tk, 16);
  else if (s->method == BK_SMP_OOB && s->preq[2])
    memcpy(rb, s->cfg.peer_oob_r, 16);
  int err = bk_smp_f5(x->dhkey, x->na, x->nb, a, b, x->mackey, x->ltk);
  if (err == 0)
    err = bk_smp_f6(x->mackey, x->na, x->nb, rb, s->preq + 1, a, b, ea);
  bk_smp_wipe(rb, sizeof rb);
  if (err) {
    fail_internal(s, err, "f5/f6");
    return;
  }
  s->state = ST_CHECK;
  (void)send_pdu(s, BK_SMP_PAIRING_DHKEY_CHECK, ea, 16, now);
}

static void start_encryption(bk_smp *s, const uint8_t key[16]) {
  static const uint8_t zero[8];
  s->state = ST_ENCRYPT;
  int err = s->ops->encrypt(s->owner, key, 0, zero);
  if (err && s->state == ST_ENCRYPT)
    fail(s, BK_SMP_UNSPECIFIED_REASON, err, "could not start encryption: %s", bleak_error_detail());
}

static void on_random(bk_smp *s, const uint8_t *d, uint64_t now) {
  bk_smp_secrets *x = &s->secret;
  uint8_t c[16];
  int err;
  memcpy(x->nb, d, 16);
  if (!s->sc) { /* Sconfirm = c1(TK, Srand, ...); STK = s1(TK, Srand, Mrand) */
    err = bk_smp_c1(x->tk, x->nb, s->preq, s->pres, &s->cfg.local, &s->cfg.peer, c);
    if (err) {
      fail_internal(s, err, "c1");
      return;
    }
    if (!bk_smp_equal(c, x->cb, 16)) {
      fail(s, BK_SMP_CONFIRM_VALUE_FAILED, BLEAK_ERR_SMP(BK_SMP_CONFIRM_VALUE_FAILED),
           "the peer's confirm value does not match its random");
      return;
    }
    err = bk_smp_s1(x->tk, x->nb, x->na, x->ltk);
    if (err) {
      fail_internal(s, err, "s1");
      return;
    }
    mask_key(x->ltk, s->key_size);
    start_encryption(s, x->ltk);
    return;
  }
  bool passkey = s->method == BK_SMP_PASSKEY_DISPLAY || s->method == BK_SMP_PASSKEY_INPUT;
  if (s->method != BK_SMP_OOB) { /* Cb = f4(PKbx, PKax, Nb, z) */
    uint8_t z = passkey ? (uint8_t)(0x80 | ((s->passkey >> s->round) & 1)) : 0;
    err = bk_smp_f4(x->peer_pub, x->key.pub, x->nb, z, c);
    if (err) {
      fail_internal(s, err, "f4");
      return;
    }
    if (!bk_smp_equal(c, x->cb, 16)) {
      fail(s, BK_SMP_CONFIRM_VALUE_FAILED, BLEAK_ERR_SMP(BK_SMP_CONFIRM_VALUE_FAILED),
           "the peer's confirm value is wrong (%s %u)", passkey ? "passkey round" : "round",
           passkey ? s->round + 1u : 1u);
      return;
    }
  }
  if (passkey && ++s->round < 20) {
    send_round_confirm(s, now);
    return;
  }
  if (s->method == BK_SMP_NUMERIC_COMPARISON) {
    uint32_t v;
    err = bk_smp_g2(x->key.pub, x->peer_pub, x->na, x->nb, &v);
    if (err) {
      fail_internal(s, err, "g2");
      return;
    }
    ask(s, BK_SMP_ASK_CONFIRM, v % 1000000);
    return;
  }
  send_check(s, now);
}

static void on_check(bk_smp *s, const uint8_t *d) {
  bk_smp_secrets *x = &s->secret;
  const bk_smp_addr *a = &s->cfg.local, *b = &s->cfg.peer;
  uint8_t ra[16] = {0}, eb[16];
  if (s->method == BK_SMP_PASSKEY_DISPLAY || s->method == BK_SMP_PASSKEY_INPUT)
    memcpy(ra, x->tk, 16);
  else if (s->method == BK_SMP_OOB && s->pres[2])
    memcpy(ra, x->local_r, 16);
  /* Eb = f6(MacKey, Nb, Na, ra, IOcapB, B, A) */
  int err = bk_smp_f6(x->mackey, x->nb, x->na, ra, s->pres + 1, b, a, eb);
  bk_smp_wipe(ra, sizeof ra);
  if (err) {
    fail_internal(s, err, "f6");
    return;
  }
  if (!bk_smp_equal(eb, d, 16)) {
    fail(s, BK_SMP_DHKEY_CHECK_FAILED, BLEAK_ERR_SMP(BK_SMP_DHKEY_CHECK_FAILED),
         "the peer's DHKey check value is wrong");
    return;
  }
  mask_key(x->ltk, s->key_size);
  memcpy(s->keys.ltk, x->ltk, 16);
  s->keys.has_ltk = true; /* EDIV and Rand 0 */
  start_encryption(s, x->ltk);
}

/* The key PDUs the peer sends, in the order of 3.6.1: @return how many,
 * codes in @p out. */
static size_t expected_keys(const bk_smp *s, uint8_t out[5]) {
  size_t n = 0;
  uint8_t d = s->keys.peer_dist;
  if (d & BK_SMP_DIST_ENC) {
    out[n++] = BK_SMP_ENCRYPTION_INFORMATION;
    out[n++] = BK_SMP_CENTRAL_IDENTIFICATION;
  }
  if (d & BK_SMP_DIST_ID) {
    out[n++] = BK_SMP_IDENTITY_INFORMATION;
    out[n++] = BK_SMP_IDENTITY_ADDRESS_INFORMATION;
  }
  if (d & BK_SMP_DIST_SIGN)
    out[n++] = BK_SMP_SIGNING_INFORMATION;
  return n;
}

/* Our keys, then the end. */
static void distribute(bk_smp *s, uint64_t now) {
  bk_smp_keys *k = &s->keys;
  uint8_t b[16];
  if (k->local_dist & BK_SMP_DIST_ENC) { /* legacy only */
    if (!draw(s, k->local_ltk, 16) || !draw(s, b, 10))
      return;
    mask_key(k->local_ltk, s->key_size);
    k->local_ediv = bk_get_le16(b);
    memcpy(k->local_rand, b + 2, 8);
    k->has_local_ltk = true;
    if (!send_pdu(s, BK_SMP_ENCRYPTION_INFORMATION, k->local_ltk, 16, now) ||
        !send_pdu(s, BK_SMP_CENTRAL_IDENTIFICATION, b, 10, now))
      return;
  }
  if (k->local_dist & BK_SMP_DIST_ID) {
    b[0] = s->cfg.local_identity.type;
    memcpy(b + 1, s->cfg.local_identity.val, 6);
    if (!send_pdu(s, BK_SMP_IDENTITY_INFORMATION, s->cfg.local_irk, 16, now) ||
        !send_pdu(s, BK_SMP_IDENTITY_ADDRESS_INFORMATION, b, 7, now))
      return;
  }
  if (k->local_dist & BK_SMP_DIST_SIGN) {
    if (!draw(s, k->local_csrk, 16))
      return;
    k->has_local_csrk = true;
    if (!send_pdu(s, BK_SMP_SIGNING_INFORMATION, k->local_csrk, 16, now))
      return;
  }
  bk_smp_wipe(b, sizeof b);
  finish(s, 0, NULL);
}

static void on_key(bk_smp *s, uint8_t code, const uint8_t *d, uint64_t now) {
  bk_smp_keys *k = &s->keys;
  switch (code) {
  case BK_SMP_ENCRYPTION_INFORMATION:
    memcpy(k->ltk, d, 16);
    mask_key(k->ltk, s->key_size);
    break;
  case BK_SMP_CENTRAL_IDENTIFICATION:
    k->ediv = bk_get_le16(d);
    memcpy(k->rand, d + 2, 8);
    k->has_ltk = true;
    break;
  case BK_SMP_IDENTITY_INFORMATION:
    memcpy(k->irk, d, 16);
    break;
  case BK_SMP_IDENTITY_ADDRESS_INFORMATION:
    /* an identity address: public, or static random (top bits 11) */
    if (d[0] > 1 || (d[0] == 1 && (d[6] & 0xc0) != 0xc0)) {
      fail(s, BK_SMP_INVALID_PARAMETERS, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS),
           "Identity Address Information: not an identity address (type %u)", d[0]);
      return;
    }
    k->identity.type = d[0];
    memcpy(k->identity.val, d + 1, 6);
    k->has_irk = true;
    break;
  case BK_SMP_SIGNING_INFORMATION:
    memcpy(k->csrk, d, 16);
    k->has_csrk = true;
    break;
  default:
    break;
  }
  uint8_t want[5];
  if (++s->keys_next == expected_keys(s, want))
    distribute(s, now);
}

void bk_smp_encrypted(bk_smp *s, uint8_t status, uint8_t key_size, uint64_t now) {
  if (!s || s->state != ST_ENCRYPT)
    return;
  if (status) {
    fail(s, BK_SMP_UNSPECIFIED_REASON, BLEAK_ERR_AUTH,
         "encryption with the new key failed: HCI status 0x%02x", status);
    return;
  }
  if (key_size && key_size < s->cfg.min_key_size) {
    fail(s, BK_SMP_ENCRYPTION_KEY_SIZE, BLEAK_ERR_SMP(BK_SMP_ENCRYPTION_KEY_SIZE),
         "the link is encrypted with a key of %u bytes, below our minimum of %u", key_size,
         s->cfg.min_key_size);
    return;
  }
  s->state = ST_KEYS;
  s->keys_next = 0;
  uint8_t want[5];
  if (expected_keys(s, want) == 0)
    distribute(s, now);
}

static void peer_failed(bk_smp *s, uint8_t reason, uint64_t now) {
  uint8_t r = reason ? reason : BK_SMP_UNSPECIFIED_REASON;
  if (r == BK_SMP_REPEATED_ATTEMPTS) {
    s->hold_ms = s->hold_ms ? s->hold_ms * 2 : BK_SMP_HOLD_MS;
    if (s->hold_ms > BK_SMP_HOLD_MAX_MS)
      s->hold_ms = BK_SMP_HOLD_MAX_MS;
    s->hold_until = now + s->hold_ms;
  }
  finish(s, BLEAK_ERR_SMP(r),
         r == reason ? "the peer sent Pairing Failed" : "the peer sent Pairing Failed (reason 0)");
}

/* A PDU while no pairing runs. */
static void idle_recv(bk_smp *s, const uint8_t *pdu, size_t len, size_t want, uint64_t now) {
  uint8_t code = pdu[0];
  if (code == BK_SMP_PAIRING_REQUEST || (code == BK_SMP_SECURITY_REQUEST && len != want)) {
    /* a peripheral sends no Pairing Request */
    uint8_t reason = len != want ? BK_SMP_INVALID_PARAMETERS : BK_SMP_COMMAND_NOT_SUPPORTED;
    uint8_t ans[PAIRING_FAILED_LEN] = {BK_SMP_PAIRING_FAILED, reason};
    (void)s->ops->send(s->owner, ans, sizeof ans);
    return;
  }
  if (code != BK_SMP_SECURITY_REQUEST) {
    BK_DEBUG(MOD, "%s while no pairing runs: ignored", pdu_name(code));
    return;
  }
  if (now < s->hold_until) {
    BK_DEBUG(MOD, "Security Request ignored: the peer asked us to wait (Repeated Attempts)");
    return;
  }
  if (s->ops->security_request && !s->ops->security_request(s->owner, pdu[1]))
    return;
  if (s->state != ST_IDLE)
    return; /* the owner started one, or closed */
  int err = begin(s, now);
  if (err)
    BK_WARN(MOD, "pairing on the peer's Security Request: %s", bleak_strerror(err));
}

void bk_smp_recv(bk_smp *s, const uint8_t *pdu, size_t len, uint64_t now) {
  if (!s || !pdu || len == 0 || s->state == ST_DEAD)
    return;
  uint8_t code = pdu[0];
  size_t want = pdu_len(code);
  if (!want) { /* reserved codes are ignored (3.3) */
    BK_DEBUG(MOD, "SMP code 0x%02x ignored", code);
    return;
  }
  if (!bk_smp_running(s)) {
    idle_recv(s, pdu, len, want, now);
    return;
  }
  if (len != want) {
    if (code == BK_SMP_PAIRING_FAILED) { /* never answered */
      finish(s, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS),
             "the peer sent Pairing Failed of the wrong length");
      return;
    }
    fail(s, BK_SMP_INVALID_PARAMETERS, BLEAK_ERR_SMP(BK_SMP_INVALID_PARAMETERS),
         "%s of %zu bytes, not %zu", pdu_name(code), len, want);
    return;
  }
  const uint8_t *d = pdu + 1;
  switch (code) {
  case BK_SMP_PAIRING_FAILED:
    peer_failed(s, d[0], now);
    return;
  case BK_SMP_PAIRING_KEYPRESS_NOTIFICATION:
    return; /* we never ask for them; they carry nothing we need */
  case BK_SMP_SECURITY_REQUEST:
    return; /* a pairing runs already */
  default:
    break;
  }
  uint8_t want_keys[5];
  switch (s->state) {
  case ST_FEATURES:
    if (code == BK_SMP_PAIRING_RESPONSE) {
      on_response(s, pdu, now);
      return;
    }
    break;
  case ST_PUBKEY:
    if (code == BK_SMP_PAIRING_PUBLIC_KEY) {
      on_public_key(s, d, now);
      return;
    }
    break;
  case ST_CONFIRM:
    if (code == BK_SMP_PAIRING_CONFIRM) {
      on_confirm(s, d, now);
      return;
    }
    break;
  case ST_RANDOM:
    if (code == BK_SMP_PAIRING_RANDOM) {
      on_random(s, d, now);
      return;
    }
    break;
  case ST_CHECK:
    if (code == BK_SMP_PAIRING_DHKEY_CHECK) {
      on_check(s, d);
      return;
    }
    break;
  case ST_KEYS:
    if (s->keys_next < expected_keys(s, want_keys) && code == want_keys[s->keys_next]) {
      on_key(s, code, d, now);
      return;
    }
    break;
  default: /* ST_USER, ST_ENCRYPT: nothing is due from the peer */
    break;
  }
  fail(s, BK_SMP_UNSPECIFIED_REASON, BLEAK_ERR_SMP(BK_SMP_UNSPECIFIED_REASON), "%s out of order",
       pdu_name(code));
}

int bk_smp_user_reply(bk_smp *s, bool accept, uint32_t passkey, uint64_t now) {
  if (!s)
    return BLEAK_ERR_INVALID_ARG;
  if (s->typing && (s->state == ST_PUBKEY || s->state == ST_USER)) {
    if (!accept) {
      s->typing = false;
      fail(s, BK_SMP_PASSKEY_ENTRY_FAILED, BLEAK_ERR_AUTH, "the user declined the pairing");
      return 0;
    }
    if (passkey > 999999)
      return bk_fail(BLEAK_ERR_INVALID_ARG, "a passkey is 0..999999");
    s->typing = false;
    passkey_tk(s, passkey);
    if (s->state == ST_USER) { /* the peer's key came: the first round */
      s->round = 0;
      send_round_confirm(s, now);
    } /* else on_public_key starts it */
    return 0;
  }
  if (s->state == ST_USER) {
    bk_smp_question q = (bk_smp_question)s->question;
    if (!accept) {
      uint8_t reason = q == BK_SMP_ASK_PASSKEY   ? BK_SMP_PASSKEY_ENTRY_FAILED
                       : q == BK_SMP_ASK_CONFIRM ? BK_SMP_NUMERIC_COMPARISON_FAILED
                                                 : BK_SMP_UNSPECIFIED_REASON;
      fail(s, reason, BLEAK_ERR_AUTH, "the user declined the pairing");
      return 0;
    }
    switch (q) {
    case BK_SMP_ASK_PASSKEY:
      if (passkey > 999999)
        return bk_fail(BLEAK_ERR_INVALID_ARG, "a passkey is 0..999999");
      passkey_tk(s, passkey);
      (void)begin_phase2(s, now);
      return 0;
    case BK_SMP_ASK_CONFIRM:
      send_check(s, now);
      return 0;
    default: /* authorized */
      (void)begin_phase2(s, now);
      return 0;
    }
  }
  if (s->displaying && s->state < ST_ENCRYPT && bk_smp_running(s)) {
    if (!accept)
      fail(s, BK_SMP_PASSKEY_ENTRY_FAILED, BLEAK_ERR_AUTH, "the user canceled the passkey");
    return 0;
  }
  return bk_fail(BLEAK_ERR_STATE, "no question waits for an answer");
}

uint64_t bk_smp_deadline(const bk_smp *s) { return bk_smp_running(s) ? s->deadline : 0; }

void bk_smp_tick(bk_smp *s, uint64_t now) {
  if (!bk_smp_running(s) || now < s->deadline)
    return;
  s->state = ST_DEAD; /* 3.4: no more SMP until the link is new */
  finish(s, BLEAK_ERR_TIMEOUT, "no SMP progress in 30 s: SMP is over on this link");
}

int bk_smp_cancel(bk_smp *s, uint64_t now) {
  (void)now;
  if (!bk_smp_running(s))
    return bk_fail(BLEAK_ERR_STATE, "no pairing runs");
  fail(s, BK_SMP_UNSPECIFIED_REASON, BLEAK_ERR_CANCELED, "pairing canceled");
  return 0;
}

void bk_smp_close(bk_smp *s) {
  if (!s || !s->ops)
    return;
  bool running = bk_smp_running(s);
  s->state = ST_DEAD;
  if (running) {
    finish(s, BLEAK_ERR_DISCONNECTED, "the link went down during pairing");
    return;
  }
  s->has_local_oob = false;
  bk_smp_wipe(&s->secret, sizeof s->secret);
  bk_smp_wipe(&s->keys, sizeof s->keys);
}

int bk_smp_sc_local_oob(bk_smp *s, uint8_t r[16], uint8_t c[16]) {
  if (!s || !r || !c)
    return BLEAK_ERR_INVALID_ARG;
  if (s->state == ST_DEAD)
    return bk_fail(BLEAK_ERR_STATE, "SMP is over on this link");
  if (bk_smp_running(s))
    return bk_fail(BLEAK_ERR_ALREADY, "a pairing runs");
  bk_smp_secrets *x = &s->secret;
  int err = s->cfg.sc_debug_key ? bk_smp_p256_debug(&x->key)
                                : bk_smp_p256_generate(&x->key, s->ops->random, s->owner);
  if (err == 0)
    err = s->ops->random(s->owner, x->local_r, 16);
  if (err == 0)
    err = bk_smp_f4(x->key.pub, x->key.pub, x->local_r, 0, c);
  if (err) {
    bk_smp_wipe(x, sizeof *x);
    s->has_local_oob = false;
    return err;
  }
  memcpy(r, x->local_r, 16);
  s->has_local_oob = true;
  return 0;
}
