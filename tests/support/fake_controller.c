/* SPDX-License-Identifier: MIT */
/* A fake LE controller on a unix socket: see fake_controller.h. */
#include "fake_controller.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/hci/smp.h"
#include "core/internal.h"

static void flush(fake_controller *f) {
  while (f->fd >= 0 && f->out_off < f->out_len) {
    ssize_t n = send(f->fd, f->out + f->out_off, f->out_len - f->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      f->out_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      f->out_off = f->out_len; /* the host is gone: drop it */
      break;
    }
    break; /* EAGAIN: the writable watch goes on */
  }
  if (f->out_off == f->out_len)
    f->out_off = f->out_len = 0;
  if (f->src)
    bleak_source_set_io_events(f->src, BLEAK_IO_READ | (f->out_len ? BLEAK_IO_WRITE : 0));
}

/* > 0 while the fake's own code runs: the allocation-failure test fails
 * only the library's allocations, not the fake's (test_oom.c). */
int fake_controller_busy;

static void out(fake_controller *f, const uint8_t *b, size_t n) {
  if (f->fd < 0)
    return;
  if (f->out_len + n > f->out_cap) {
    size_t cap = f->out_cap ? f->out_cap : 4096;
    while (cap < f->out_len + n)
      cap *= 2;
    uint8_t *m = realloc(f->out, cap);
    if (!m)
      abort();
    f->out = m;
    f->out_cap = cap;
  }
  memcpy(f->out + f->out_len, b, n);
  f->out_len += n;
  flush(f);
}

size_t fake_controller_pending(const fake_controller *f) { return f->out_len - f->out_off; }

static void cmd_complete(fake_controller *f, uint16_t op, const uint8_t *ret, size_t n) {
  uint8_t b[64] = {4, 0x0e, (uint8_t)(3 + n), 1, (uint8_t)op, (uint8_t)(op >> 8)};
  memcpy(b + 6, ret, n);
  out(f, b, 6 + n);
}

static void cmd_status(fake_controller *f, uint16_t op) {
  uint8_t b[7] = {4, 0x0f, 4, 0, 1, (uint8_t)op, (uint8_t)(op >> 8)};
  out(f, b, sizeof b);
}

static void l2cap_out(fake_controller *f, uint16_t cid, const uint8_t *pdu, size_t n) {
  uint8_t b[9 + 600] = {2, 0x40, 0x20, (uint8_t)(n + 4), (uint8_t)((n + 4) >> 8),
                        (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)cid, (uint8_t)(cid >> 8)};
  memcpy(b + 9, pdu, n);
  out(f, b, 9 + n);
}

static void att_out(fake_controller *f, const uint8_t *pdu, size_t n) { l2cap_out(f, 4, pdu, n); }

void fake_controller_send_l2cap(fake_controller *f, uint16_t cid, const uint8_t *pdu,
                                size_t len) {
  l2cap_out(f, cid, pdu, len);
}

/* What the host sent on a fixed channel other than ATT: the last PDU. */
static void keep_last(uint8_t *buf, size_t cap, size_t *len, const uint8_t *pdu, size_t n) {
  *len = n < cap ? n : cap;
  memcpy(buf, pdu, *len);
}

void fake_controller_notify(fake_controller *f, uint16_t handle, const uint8_t *v, size_t len) {
  uint8_t pdu[3 + 600] = {0x1b, (uint8_t)handle, (uint8_t)(handle >> 8)};
  memcpy(pdu + 3, v, len);
  att_out(f, pdu, 3 + len);
}

static void att_error(fake_controller *f, uint8_t op, const uint8_t *h, uint8_t code) {
  uint8_t e[5] = {1, op, h[0], h[1], code};
  att_out(f, e, 5);
}

/* The ATT error a read of the Battery Level gets for want of security,
 * or 0: the link has what f->protect asks. */
static uint8_t refusal(const fake_controller *f) {
  switch (f->protect) {
  case FAKE_NEED_ENCRYPTION:
    return f->encrypted ? 0 : 0x0f;
  case FAKE_NEED_AUTHENTICATION:
    return f->encrypted && f->authenticated ? 0 : 0x05;
  case FAKE_OPEN:
    break;
  }
  return 0;
}

static void on_att(fake_controller *f, const uint8_t *p, size_t n) {
  uint16_t start = n >= 3 ? bk_get_le16(p + 1) : 0;
  switch (p[0]) {
  case 0x02: {
    uint8_t r[] = {0x03, (uint8_t)f->mtu, (uint8_t)(f->mtu >> 8)};
    att_out(f, r, sizeof r);
    break;
  }
  case 0x10:
    f->discovery_requests++;
    if (start <= 1) { /* Battery 0x0001-0x0004, GATT 0x0005-0x0007 */
      static const uint8_t r[] = {0x11, 6, 1, 0, 4, 0, 0x0f, 0x18, 5, 0, 7, 0, 0x01, 0x18};
      att_out(f, r, sizeof r);
    } else {
      att_error(f, 0x10, p + 1, 0x0a);
    }
    break;
  case 0x08: {
    uint16_t type = n == 7 ? bk_get_le16(p + 5) : 0;
    if (type == 0x2803 && start <= 2) {
      f->discovery_requests++;
      static const uint8_t r[] = {0x09, 7, 2, 0, 0x16, 3, 0, 0x19, 0x2a,
                                  6, 0, 0x02, 7, 0, 0x2a, 0x2b};
      att_out(f, r, sizeof r);
    } else if (type == 0x2803 && start <= 6) {
      f->discovery_requests++;
      static const uint8_t r[] = {0x09, 7, 6, 0, 0x02, 7, 0, 0x2a, 0x2b};
      att_out(f, r, sizeof r);
    } else if (type == 0x2b2a && start <= 7) { /* Database Hash, by UUID */
      uint8_t r[2 + 2 + 16] = {0x09, 18, 7, 0};
      memset(r + 4, f->hash_version, 16);
      att_out(f, r, sizeof r);
    } else {
      if (type == 0x2803)
        f->discovery_requests++;
      att_error(f, 0x08, p + 1, 0x0a);
    }
    break;
  }
  case 0x04:
    f->discovery_requests++;
    if (start <= 4 && bk_get_le16(p + 3) >= 4) {
      static const uint8_t r[] = {0x05, 1, 4, 0, 0x02, 0x29};
      att_out(f, r, sizeof r);
    } else {
      att_error(f, 0x04, p + 1, 0x0a);
    }
    break;
  case 0x0a:
    if (start == 3)
      f->reads_seen++;
    if (start == 3 && f->silent_reads)
      break;
    if (start == 3 && refusal(f)) {
      f->protected_refusals++;
      att_error(f, 0x0a, p + 1, refusal(f));
    } else if (start == 3) {
      static const uint8_t r[] = {0x0b, 0x57};
      att_out(f, r, sizeof r);
    } else if (start == 7) {
      uint8_t r[17] = {0x0b};
      memset(r + 1, f->hash_version, 16);
      att_out(f, r, sizeof r);
    } else {
      att_error(f, 0x0a, p + 1, 0x01);
    }
    break;
  case 0x12:
    if (start == 4) {
      static const uint8_t r[] = {0x13};
      att_out(f, r, 1);
      if (n == 5 && p[3] == 1) { /* subscribed: one notification */
        static const uint8_t v[] = {0x58};
        fake_controller_notify(f, 3, v, 1);
      }
    } else {
      att_error(f, 0x12, p + 1, 0x03);
    }
    break;
  case 0x52: /* Write Command: kept, in order, no answer */
    if (n == 4 && start == 3 && f->writes_seen < (int)sizeof f->written)
      f->written[f->writes_seen++] = p[3];
    break;
  default:
    if (!(p[0] & 0x40) && p[0] != 0x1e && !(p[0] & 1)) {
      static const uint8_t z[2] = {0, 0};
      att_error(f, p[0], z, 0x06);
    }
    break;
  }
}

/* ---- security ---- */

static void smp_out(fake_controller *f) {
  uint8_t b[80];
  size_t n;
  while ((n = smp_peer_take(&f->peer, b)) > 0)
    l2cap_out(f, 6, b, n);
}

/* No pairing half done. */
static void pairing_reset(fake_controller *f) {
  f->pair_key.valid = false;
  f->passkey_typed = f->keys_pending = false;
  f->held_len = 0;
}

/* A new link (or none): not encrypted. */
static void link_reset(fake_controller *f) {
  f->encrypted = f->authenticated = false;
  f->link_key_size = 0;
  pairing_reset(f);
}

/* A Pairing Request: a new pairing with the test's settings (the rest of
 * the peer's state, and its nonces, new). */
static void new_pairing(fake_controller *f) {
  smp_peer keep = f->peer;
  smp_peer *p = &f->peer;
  smp_peer_init(p);
  p->io_cap = keep.io_cap;
  p->oob_flag = keep.oob_flag;
  p->auth_req = keep.auth_req;
  p->max_key_size = keep.max_key_size;
  p->init_dist_mask = keep.init_dist_mask;
  p->resp_dist_mask = keep.resp_dist_mask;
  p->method = keep.method;
  p->passkey = keep.passkey;
  p->central = keep.central;
  p->self = keep.self;
  p->identity = keep.identity;
  memcpy(p->irk, keep.irk, 16);
  memcpy(p->own_r, keep.own_r, 16);
  memcpy(p->oob_tk, keep.oob_tk, 16);
  p->rng = keep.rng ^ (0x9e3779b9u * (uint32_t)++f->pairings);
  if (!p->rng)
    p->rng = 1;
  pairing_reset(f);
}

/* What the peer's last answer made of the pairing: its key, when phase 2
 * is done (legacy: the STK after the randoms; SC: the LTK after the
 * DHKey checks). */
static void pairing_progress(fake_controller *f, uint8_t code) {
  smp_peer *p = &f->peer;
  if (p->failed)
    return;
  const uint8_t *key = NULL;
  if (!p->sc && code == BK_SMP_PAIRING_RANDOM)
    key = p->stk;
  else if (p->sc && code == BK_SMP_PAIRING_DHKEY_CHECK)
    key = p->sc_ltk;
  if (!key)
    return;
  f->pair_key = (fake_key){.valid = true, .size = p->key_size,
                           .authenticated = p->method != PEER_JUST_WORKS};
  memcpy(f->pair_key.ltk, key, 16);
}

static void on_smp(fake_controller *f, const uint8_t *pdu, size_t n) {
  f->smp_seen++;
  if (n && pdu[0] == BK_SMP_PAIRING_REQUEST) {
    f->pairing_requests++;
    if (f->smp_enabled)
      new_pairing(f);
  }
  if (!f->smp_enabled || n == 0)
    return;
  if (pdu[0] == BK_SMP_PAIRING_CONFIRM && f->passkey_wait && !f->passkey_typed &&
      n <= sizeof f->held) { /* its user has not typed the passkey yet */
    memcpy(f->held, pdu, n);
    f->held_len = n;
    return;
  }
  (void)smp_peer_recv(&f->peer, pdu, n);
  pairing_progress(f, pdu[0]);
  smp_out(f);
}

void fake_controller_type_passkey(fake_controller *f, uint32_t passkey) {
  fake_controller_busy++;
  f->peer.passkey = passkey;
  f->passkey_typed = true;
  if (f->held_len) {
    size_t n = f->held_len;
    f->held_len = 0;
    (void)smp_peer_recv(&f->peer, f->held, n);
    pairing_progress(f, f->held[0]);
    smp_out(f);
  }
  fake_controller_busy--;
}

void fake_controller_security_request(fake_controller *f, uint8_t auth_req) {
  fake_controller_busy++;
  uint8_t pdu[2] = {BK_SMP_SECURITY_REQUEST, auth_req};
  l2cap_out(f, 6, pdu, sizeof pdu);
  fake_controller_busy--;
}

/* The pairing's encryption is on: the peer's keys, and its bond. */
static void send_keys(fake_controller *f) {
  smp_peer *p = &f->peer;
  f->keys_pending = false;
  smp_peer_send_keys(p);
  smp_out(f);
  bool bonding = (p->preq[3] & BK_SMP_AUTH_BONDING) && (p->pres[3] & BK_SMP_AUTH_BONDING);
  if (!bonding)
    return;
  if (p->sc) {
    f->bond = f->pair_key; /* EDIV and Rand 0 */
    f->bond.valid = true;
  } else if (p->pres[6] & BK_SMP_DIST_ENC) {
    f->bond = (fake_key){.valid = true, .size = p->key_size,
                         .authenticated = f->pair_key.authenticated, .ediv = p->ediv};
    memcpy(f->bond.ltk, p->ltk, 16);
    memset(f->bond.ltk + p->key_size, 0, 16 - (size_t)p->key_size);
    memcpy(f->bond.rand, p->rand, 8);
  }
}

static bool key_is(const fake_key *k, const uint8_t *ltk, uint16_t ediv, const uint8_t *rand) {
  return k->valid && !memcmp(k->ltk, ltk, 16) && k->ediv == ediv && !memcmp(k->rand, rand, 8);
}

/* LE Enable Encryption: Connection_Handle, Random_Number, EDIV, LTK. */
static void on_start_encryption(fake_controller *f, const uint8_t *par, size_t n) {
  cmd_status(f, 0x2019);
  if (n < 28)
    return;
  f->encryptions++;
  memcpy(f->enc_rand, par + 2, 8);
  f->enc_ediv = bk_get_le16(par + 10);
  memcpy(f->enc_ltk, par + 12, 16);
  static const uint8_t zero[8];
  const fake_key *k = NULL;
  bool pairing = false;
  if (f->pair_key.valid && key_is(&f->pair_key, f->enc_ltk, f->enc_ediv, f->enc_rand) &&
      !memcmp(f->enc_rand, zero, 8)) {
    k = &f->pair_key;
    pairing = true;
  } else if (key_is(&f->bond, f->enc_ltk, f->enc_ediv, f->enc_rand)) {
    k = &f->bond;
  }
  if (!k) { /* the peer's host has no such key: LTK Request Negative Reply */
    f->encryption_failures++;
    uint8_t ev[7] = {4, 0x08, 4, 0x06, 0x40, 0x00, 0x00};
    out(f, ev, sizeof ev);
    return;
  }
  bool refresh = f->encrypted;
  f->encrypted = true;
  f->authenticated = k->authenticated;
  f->link_key_size = k->size;
  if (refresh) { /* Encryption Key Refresh Complete */
    uint8_t ev[6] = {4, 0x30, 3, 0x00, 0x40, 0x00};
    out(f, ev, sizeof ev);
  } else {
    uint8_t ev[7] = {4, 0x08, 4, 0x00, 0x40, 0x00, 0x01};
    out(f, ev, sizeof ev);
  }
  if (pairing) {
    f->pair_key.valid = false;
    f->keys_pending = true;
    if (f->keys_early)
      send_keys(f);
  }
}

/* Read Encryption Key Size: Connection_Handle. */
static void on_read_key_size(fake_controller *f, const uint8_t *par, size_t n) {
  uint8_t r[4] = {0, n >= 2 ? par[0] : 0, n >= 2 ? par[1] : 0, 0};
  if (!f->encrypted)
    r[0] = 0x06; /* not encrypted: no key */
  else
    r[3] = f->key_size ? f->key_size : f->link_key_size;
  cmd_complete(f, 0x1408, r, sizeof r);
  if (f->keys_pending)
    send_keys(f);
}

static void on_later_body(bleak_source *src, void *u) {
  (void)src;
  fake_controller *f = u;
  out(f, f->later, f->later_len);
}

static void on_later(bleak_source *src, void *u) {
  fake_controller_busy++;
  on_later_body(src, u);
  fake_controller_busy--;
}

/* An LE Advertising Report's address: FAKE_PEER, or its private address. */
static void advertiser(const fake_controller *f, uint8_t *report) {
  if (!f->privacy)
    return;
  report[6] = 1; /* random */
  memcpy(report + 7, f->rpa, 6);
}

static void on_command(fake_controller *f, uint16_t op, const uint8_t *par, size_t n) {
  static const uint8_t ok[1] = {0};
  switch (op) {
  case 0x1001: {
    static const uint8_t r[9] = {0, 9};
    cmd_complete(f, op, r, sizeof r);
    break;
  }
  case 0x1009: {
    static const uint8_t r[7] = {0, 1, 2, 3, 4, 5, 6};
    cmd_complete(f, op, r, sizeof r);
    break;
  }
  case 0x2002: { /* 8 buffers of 251 bytes */
    static const uint8_t r[4] = {0, 251, 0, 8};
    cmd_complete(f, op, r, sizeof r);
    break;
  }
  case 0x2003: {
    static const uint8_t r[9] = {0};
    cmd_complete(f, op, r, sizeof r);
    break;
  }
  case 0x200c:
    cmd_complete(f, op, ok, 1);
    if (n >= 1 && par[0] == 1 && !f->split_name) { /* scanning: the peer advertises, named */
      uint8_t adv[] = {4, 0x3e, 22, 0x02, 1, 0x00, 0x00, 0x66, 0x55, 0x44, 0x33,
                       0x22, 0x11, 10, 2, 1, 6, 5, 9, 'f', 'a', 'k', 'e', 0, 0xc4};
      advertiser(f, adv);
      out(f, adv, sizeof adv);
    } else if (n >= 1 && par[0] == 1) { /* ADV_IND with flags, then SCAN_RSP with the name */
      uint8_t adv[] = {4, 0x3e, 15, 0x02, 1, 0x00, 0x00, 0x66, 0x55, 0x44, 0x33,
                       0x22, 0x11, 3, 2, 1, 6, 0xc4};
      uint8_t rsp[] = {4, 0x3e, 18, 0x02, 1, 0x04, 0x00, 0x66, 0x55, 0x44, 0x33,
                       0x22, 0x11, 6, 5, 9, 'f', 'a', 'k', 'e', 0xc4};
      advertiser(f, adv);
      advertiser(f, rsp);
      out(f, adv, sizeof adv);
      /* The response a moment later, in a read of its own. */
      memcpy(f->later, rsp, sizeof rsp);
      f->later_len = sizeof rsp;
      if (!f->later_timer)
        bleak_loop_add_timer(f->loop, 30, on_later, f, &f->later_timer);
      else
        bleak_source_set_timer(f->later_timer, 30);
    }
    break;
  case 0x200d: {
    cmd_status(f, op);
    f->connects++;
    if (f->fail_connects > 0) { /* Connection Failed to be Established */
      f->fail_connects--;
      uint8_t ev[22] = {4, 0x3e, 19, 0x01, 0x3e};
      out(f, ev, sizeof ev);
      break;
    }
    uint8_t ev[22] = {4, 0x3e, 19, 0x01, 0, 0x40, 0, 0, par[5]};
    memcpy(ev + 9, par + 6, 6);
    ev[15] = 0x18;
    ev[19] = 0xf4;
    ev[20] = 0x01;
    out(f, ev, sizeof ev);
    f->linked = true;
    bk_l2cap_rx_init(&f->rx, BK_L2CAP_MAX_PDU);
    link_reset(f);
    /* The SMP peer's addresses: ours (Read BD_ADDR) and the one asked for. */
    f->peer.central = (bk_smp_addr){0, {1, 2, 3, 4, 5, 6}};
    f->peer.self.type = par[5];
    memcpy(f->peer.self.val, par + 6, 6);
    if (f->security_request)
      fake_controller_security_request(f, f->security_request);
    break;
  }
  case 0x2019:
    on_start_encryption(f, par, n);
    break;
  case 0x1408:
    on_read_key_size(f, par, n);
    break;
  case 0x2013: /* LE Connection Update: the update itself is the air's */
    cmd_status(f, op);
    keep_last(f->conn_update, sizeof f->conn_update, &f->conn_update_len, par, n);
    break;
  case 0x0406: {
    cmd_status(f, op);
    static const uint8_t ev[] = {4, 0x05, 4, 0, 0x40, 0, 0x16};
    out(f, ev, sizeof ev);
    f->linked = false;
    link_reset(f);
    break;
  }
  default:
    cmd_complete(f, op, ok, 1); /* every other command just works */
    break;
  }
}

static void on_packet(void *user, uint8_t type, const uint8_t *pkt, size_t len) {
  fake_controller *f = user;
  if (type == BK_H4_COMMAND && len >= 3) {
    on_command(f, bk_get_le16(pkt), pkt + 3, pkt[2]);
  } else if (type == BK_H4_ACL && f->linked) {
    uint16_t h, cid;
    uint8_t pb;
    const uint8_t *d, *pdu;
    size_t dl, pl;
    if (bk_acl_parse(pkt, len, &h, &pb, &d, &dl) != 0)
      abort();
    static const uint8_t nocp[] = {4, 0x13, 5, 1, 0x40, 0, 1, 0}; /* the buffer is free */
    out(f, nocp, sizeof nocp);
    if (bk_l2cap_rx_feed(&f->rx, pb == 0 ? BK_ACL_PB_START : pb, d, dl, &cid, &pdu, &pl) != 1)
      return;
    if (cid == 4)
      on_att(f, pdu, pl);
    else if (cid == 5)
      keep_last(f->sig_rx, sizeof f->sig_rx, &f->sig_rx_len, pdu, pl);
    else if (cid == 6) {
      keep_last(f->smp_rx, sizeof f->smp_rx, &f->smp_rx_len, pdu, pl);
      on_smp(f, pdu, pl);
    }
  }
}

static void on_io_body(bleak_source *s, int fd, uint32_t ev, void *u) {
  (void)s;
  fake_controller *f = u;
  if (ev & BLEAK_IO_WRITE)
    flush(f);
  if (ev & BLEAK_IO_READ) {
    uint8_t buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0)
      bk_h4_feed(&f->h4, buf, (size_t)n);
    else if (n == 0) /* the host closed its controller: ready for the next */
      fake_controller_unplug(f);
  }
}

static void on_io(bleak_source *s, int fd, uint32_t ev, void *u) {
  fake_controller_busy++;
  on_io_body(s, fd, ev, u);
  fake_controller_busy--;
}

static void on_accept_body(bleak_source *s, int fd, uint32_t ev, void *u) {
  (void)s;
  (void)ev;
  fake_controller *f = u;
  /* One controller per connection: a new one replaces the old (whose end
   * of file may not have been read yet). */
  if (f->fd >= 0)
    fake_controller_unplug(f);
  f->fd = accept(fd, NULL, NULL);
  if (f->fd < 0)
    abort();
  fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK);
  bk_h4_init(&f->h4, on_packet, f);
  if (bleak_loop_add_io(f->loop, f->fd, BLEAK_IO_READ, on_io, f, &f->src) != 0)
    abort();
}

static void on_accept(bleak_source *s, int fd, uint32_t ev, void *u) {
  fake_controller_busy++;
  on_accept_body(s, fd, ev, u);
  fake_controller_busy--;
}

int fake_controller_start(fake_controller *f, bleak_loop *loop) {
  memset(f, 0, sizeof *f);
  f->loop = loop;
  f->fd = -1;
  f->mtu = 64;
  smp_peer_init(&f->peer);
  static int serial;
  snprintf(f->path, sizeof f->path, "/tmp/bleak-fake-hci-%d-%d.sock", (int)getpid(), serial++);
  snprintf(f->transport, sizeof f->transport, "unix:%s", f->path);
  unlink(f->path);
  f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (f->lfd < 0)
    return -1;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, f->path);
  if (bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(f->lfd, 4) < 0 ||
      bleak_loop_add_io(loop, f->lfd, BLEAK_IO_READ, on_accept, f, &f->lsrc) != 0) {
    close(f->lfd);
    return -1;
  }
  return 0;
}

void fake_controller_unplug(fake_controller *f) {
  bleak_source_free(f->src);
  f->src = NULL;
  if (f->fd >= 0)
    close(f->fd);
  f->fd = -1;
  f->linked = false;
  f->out_len = f->out_off = 0;
  link_reset(f);
}

void fake_controller_stop(fake_controller *f) {
  fake_controller_unplug(f);
  bleak_source_free(f->lsrc);
  f->lsrc = NULL;
  bleak_source_free(f->later_timer);
  f->later_timer = NULL;
  close(f->lfd);
  unlink(f->path);
  free(f->out);
  f->out = NULL;
}

int fake_controller_restart(fake_controller *f, bleak_loop *loop) {
  fake_controller keep = *f;
  fake_controller_stop(f);
  if (fake_controller_start(f, loop) != 0)
    return -1;
  f->silent_reads = keep.silent_reads;
  f->mtu = keep.mtu;
  f->hash_version = keep.hash_version;
  f->split_name = keep.split_name;
  f->privacy = keep.privacy;
  memcpy(f->rpa, keep.rpa, sizeof f->rpa);
  f->smp_enabled = keep.smp_enabled;
  f->peer = keep.peer;
  f->protect = keep.protect;
  f->key_size = keep.key_size;
  f->keys_early = keep.keys_early;
  f->passkey_wait = keep.passkey_wait;
  f->security_request = keep.security_request;
  f->bond = keep.bond;
  f->pairings = keep.pairings;
  return 0;
}

void fake_controller_scanner_options(const fake_controller *f, bleak_loop *loop,
                                     bleak_scanner_options *so) {
  bleak_scanner_options_init(so);
  so->loop = loop;
  so->backend = BLEAK_BACKEND_HCI;
  so->hci_transport = f->transport;
}
