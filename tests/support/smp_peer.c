/* SPDX-License-Identifier: MIT */
/* The fake SMP peripheral: see smp_peer.h. Names follow the spec: A is
 * the initiator (the central under test), B this responder. */
#include "smp_peer.h"

#include <string.h>

#include "backend/hci/smp.h"

static void put(smp_peer *p, uint8_t code, const void *data, size_t n) {
  if (p->n_out >= SMP_PEER_MAX_OUT)
    return;
  p->out[p->n_out][0] = code;
  memcpy(p->out[p->n_out] + 1, data, n);
  p->out_len[p->n_out++] = n + 1;
}

static void failed(smp_peer *p, uint8_t reason) {
  p->failed = reason;
  put(p, BK_SMP_PAIRING_FAILED, &reason, 1);
}

static void rnd(smp_peer *p, uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    p->rng ^= p->rng << 13;
    p->rng ^= p->rng >> 17;
    p->rng ^= p->rng << 5;
    b[i] = (uint8_t)p->rng;
  }
}

void smp_peer_init(smp_peer *p) {
  memset(p, 0, sizeof *p);
  p->io_cap = BK_SMP_IO_NO_INPUT_NO_OUTPUT;
  p->auth_req = BK_SMP_AUTH_BONDING | BK_SMP_AUTH_SC;
  p->max_key_size = 16;
  p->init_dist_mask = p->resp_dist_mask = 0x07;
  p->central = (bk_smp_addr){0, {0x01, 0x02, 0x03, 0x04, 0x05, 0x06}};
  p->self = (bk_smp_addr){1, {0x11, 0x12, 0x13, 0x14, 0x15, 0xd6}};
  p->rng = 0x9e3779b9u;
  /* private key B of the sample data (2.3.5.6.1), little-endian */
  static const uint8_t priv_b[32] = {
      0xfd, 0xc5, 0x7f, 0xf4, 0x49, 0xdd, 0x4f, 0x6b, 0xfb, 0x7c, 0x9d, 0xf1, 0xc2, 0x9a, 0xcb, 0x59,
      0x2a, 0xe7, 0xd4, 0xee, 0xfb, 0xfc, 0x0a, 0x90, 0x9a, 0xbb, 0xf6, 0x32, 0x3d, 0x8b, 0x18, 0x55};
  (void)bk_smp_p256_from_private(&p->key, priv_b);
  for (int i = 0; i < 16; i++) {
    p->ltk[i] = (uint8_t)(0xa0 + i);
    p->irk[i] = (uint8_t)(0xb0 + i);
    p->csrk[i] = (uint8_t)(0xc0 + i);
  }
  for (int i = 0; i < 8; i++)
    p->rand[i] = (uint8_t)(0xd0 + i);
  p->ediv = 0x1234;
  p->identity = (bk_smp_addr){0, {0x21, 0x22, 0x23, 0x24, 0x25, 0x26}};
}

static uint8_t passkey_bit(const smp_peer *p) {
  return (uint8_t)(0x80 | ((p->passkey >> p->round) & 1));
}

/* The 128-bit passkey (legacy TK, SC ra = rb). */
static void passkey_value(const smp_peer *p, uint8_t v[16]) {
  memset(v, 0, 16);
  v[0] = (uint8_t)p->passkey;
  v[1] = (uint8_t)(p->passkey >> 8);
  v[2] = (uint8_t)(p->passkey >> 16);
  v[3] = (uint8_t)(p->passkey >> 24);
}

static void legacy_tk(const smp_peer *p, uint8_t tk[16]) {
  memset(tk, 0, 16);
  if (p->method == PEER_PASSKEY)
    passkey_value(p, tk);
  else if (p->method == PEER_OOB)
    memcpy(tk, p->oob_tk, 16);
}

static void on_request(smp_peer *p, const uint8_t *d) {
  memcpy(p->preq, d - 1, 7);
  uint8_t r[6] = {p->io_cap,
                  p->oob_flag,
                  p->auth_req,
                  p->max_key_size,
                  (uint8_t)(p->preq[5] & p->init_dist_mask),
                  (uint8_t)(p->preq[6] & p->resp_dist_mask)};
  p->pres[0] = BK_SMP_PAIRING_RESPONSE;
  memcpy(p->pres + 1, r, 6);
  p->sc = (p->preq[3] & BK_SMP_AUTH_SC) && (p->auth_req & BK_SMP_AUTH_SC);
  p->key_size = p->preq[4] < p->max_key_size ? p->preq[4] : p->max_key_size;
  put(p, BK_SMP_PAIRING_RESPONSE, r, 6);
}

static void legacy_confirm(smp_peer *p, const uint8_t *d) {
  uint8_t tk[16];
  memcpy(p->ca, d, 16);
  legacy_tk(p, tk);
  rnd(p, p->nb, 16); /* Srand */
  bk_smp_c1(tk, p->nb, p->preq, p->pres, &p->central, &p->self, p->cb);
  put(p, BK_SMP_PAIRING_CONFIRM, p->cb, 16);
}

static void legacy_random(smp_peer *p, const uint8_t *d) {
  uint8_t tk[16], c[16];
  memcpy(p->na, d, 16);
  legacy_tk(p, tk);
  bk_smp_c1(tk, p->na, p->preq, p->pres, &p->central, &p->self, c);
  if (memcmp(c, p->ca, 16)) {
    failed(p, BK_SMP_CONFIRM_VALUE_FAILED);
    return;
  }
  put(p, BK_SMP_PAIRING_RANDOM, p->nb, 16);
  bk_smp_s1(tk, p->nb, p->na, p->stk); /* s1(TK, Srand, Mrand) */
  memset(p->stk + p->key_size, 0, 16 - (size_t)p->key_size);
}

static void sc_public_key(smp_peer *p, const uint8_t *d) {
  memcpy(p->pka, d, 64);
  put(p, BK_SMP_PAIRING_PUBLIC_KEY, p->key.pub, 64);
  if (bk_smp_p256_dhkey(&p->key, p->pka, p->dhkey)) {
    failed(p, BK_SMP_DHKEY_CHECK_FAILED);
    return;
  }
  p->round = 0;
  if (p->method == PEER_JUST_WORKS || p->method == PEER_NUMERIC) {
    rnd(p, p->nb, 16);
    bk_smp_f4(p->key.pub, p->pka, p->nb, 0, p->cb); /* Cb = f4(PKbx, PKax, Nb, 0) */
    put(p, BK_SMP_PAIRING_CONFIRM, p->cb, 16);
  } else if (p->method == PEER_OOB) {
    rnd(p, p->nb, 16);
  }
}

static void sc_confirm(smp_peer *p, const uint8_t *d) { /* passkey round: Cai, then Cbi */
  memcpy(p->ca, d, 16);
  rnd(p, p->nb, 16);
  bk_smp_f4(p->key.pub, p->pka, p->nb, passkey_bit(p), p->cb);
  put(p, BK_SMP_PAIRING_CONFIRM, p->cb, 16);
}

static void sc_random(smp_peer *p, const uint8_t *d) {
  uint8_t c[16];
  memcpy(p->na, d, 16);
  if (p->method == PEER_PASSKEY) { /* Cai = f4(PKax, PKbx, Nai, rai) */
    bk_smp_f4(p->pka, p->key.pub, p->na, passkey_bit(p), c);
    if (memcmp(c, p->ca, 16)) {
      failed(p, BK_SMP_CONFIRM_VALUE_FAILED);
      return;
    }
    p->round++;
  } else if (p->method == PEER_OOB && p->has_central_oob) { /* Ca = f4(PKax, PKax, ra, 0) */
    bk_smp_f4(p->pka, p->pka, p->central_r, 0, c);
    if (memcmp(c, p->central_c, 16)) {
      failed(p, BK_SMP_CONFIRM_VALUE_FAILED);
      return;
    }
  }
  if (p->method == PEER_NUMERIC) {
    uint32_t g;
    bk_smp_g2(p->pka, p->key.pub, p->na, p->nb, &g);
    p->shown = g % 1000000;
  }
  put(p, BK_SMP_PAIRING_RANDOM, p->nb, 16);
}

static void sc_check(smp_peer *p, const uint8_t *d) {
  uint8_t mackey[16], ltk[16], ra[16] = {0}, rb[16] = {0}, e[16];
  if (p->method == PEER_PASSKEY) {
    passkey_value(p, ra);
    passkey_value(p, rb);
  } else if (p->method == PEER_OOB) {
    if (p->preq[2]) /* the central has our OOB data */
      memcpy(rb, p->own_r, 16);
    if (p->pres[2])
      memcpy(ra, p->central_r, 16);
  }
  bk_smp_f5(p->dhkey, p->na, p->nb, &p->central, &p->self, mackey, ltk);
  /* Ea = f6(MacKey, Na, Nb, rb, IOcapA, A, B) */
  bk_smp_f6(mackey, p->na, p->nb, rb, p->preq + 1, &p->central, &p->self, e);
  if (memcmp(e, d, 16)) {
    failed(p, BK_SMP_DHKEY_CHECK_FAILED);
    return;
  }
  /* Eb = f6(MacKey, Nb, Na, ra, IOcapB, B, A) */
  bk_smp_f6(mackey, p->nb, p->na, ra, p->pres + 1, &p->self, &p->central, e);
  put(p, BK_SMP_PAIRING_DHKEY_CHECK, e, 16);
  memcpy(p->sc_ltk, ltk, 16);
  memset(p->sc_ltk + p->key_size, 0, 16 - (size_t)p->key_size);
}

static void central_key(smp_peer *p, uint8_t code, const uint8_t *d) {
  switch (code) {
  case BK_SMP_ENCRYPTION_INFORMATION:
    memcpy(p->central_ltk, d, 16);
    break;
  case BK_SMP_CENTRAL_IDENTIFICATION:
    p->central_ediv = (uint16_t)(d[0] | d[1] << 8);
    memcpy(p->central_rand, d + 2, 8);
    p->got_ltk = true;
    break;
  case BK_SMP_IDENTITY_INFORMATION:
    memcpy(p->central_irk, d, 16);
    break;
  case BK_SMP_IDENTITY_ADDRESS_INFORMATION:
    p->central_identity.type = d[0];
    memcpy(p->central_identity.val, d + 1, 6);
    p->got_irk = true;
    break;
  default: /* BK_SMP_SIGNING_INFORMATION */
    memcpy(p->central_csrk, d, 16);
    p->got_csrk = true;
    break;
  }
  p->keys_received++;
}

int smp_peer_recv(smp_peer *p, const uint8_t *pdu, size_t len) {
  if (len < 2)
    return -1;
  const uint8_t *d = pdu + 1;
  switch (pdu[0]) {
  case BK_SMP_PAIRING_REQUEST:
    on_request(p, d);
    return 0;
  case BK_SMP_PAIRING_CONFIRM:
    if (p->sc)
      sc_confirm(p, d);
    else
      legacy_confirm(p, d);
    return 0;
  case BK_SMP_PAIRING_RANDOM:
    if (p->sc)
      sc_random(p, d);
    else
      legacy_random(p, d);
    return 0;
  case BK_SMP_PAIRING_PUBLIC_KEY:
    sc_public_key(p, d);
    return 0;
  case BK_SMP_PAIRING_DHKEY_CHECK:
    sc_check(p, d);
    return 0;
  case BK_SMP_PAIRING_FAILED:
    p->got_failed = d[0];
    return 0;
  case BK_SMP_ENCRYPTION_INFORMATION:
  case BK_SMP_CENTRAL_IDENTIFICATION:
  case BK_SMP_IDENTITY_INFORMATION:
  case BK_SMP_IDENTITY_ADDRESS_INFORMATION:
  case BK_SMP_SIGNING_INFORMATION:
    central_key(p, pdu[0], d);
    return 0;
  default:
    return -1;
  }
}

void smp_peer_send_keys(smp_peer *p) {
  uint8_t dist = p->pres[6], b[10];
  if ((dist & BK_SMP_DIST_ENC) && !p->sc) {
    put(p, BK_SMP_ENCRYPTION_INFORMATION, p->ltk, 16);
    b[0] = (uint8_t)p->ediv;
    b[1] = (uint8_t)(p->ediv >> 8);
    memcpy(b + 2, p->rand, 8);
    put(p, BK_SMP_CENTRAL_IDENTIFICATION, b, 10);
  }
  if (dist & BK_SMP_DIST_ID) {
    put(p, BK_SMP_IDENTITY_INFORMATION, p->irk, 16);
    b[0] = p->identity.type;
    memcpy(b + 1, p->identity.val, 6);
    put(p, BK_SMP_IDENTITY_ADDRESS_INFORMATION, b, 7);
  }
  if (dist & BK_SMP_DIST_SIGN)
    put(p, BK_SMP_SIGNING_INFORMATION, p->csrk, 16);
}

size_t smp_peer_take(smp_peer *p, uint8_t *buf) {
  if (p->n_out == 0)
    return 0;
  size_t n = p->out_len[0];
  memcpy(buf, p->out[0], n);
  memmove(p->out[0], p->out[1], sizeof p->out[0] * (size_t)(p->n_out - 1));
  memmove(p->out_len, p->out_len + 1, sizeof p->out_len[0] * (size_t)(p->n_out - 1));
  p->n_out--;
  return n;
}
