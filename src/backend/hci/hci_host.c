/* SPDX-License-Identifier: MIT */
/* The HCI side of the LE host: see hci_host.h. */
#include "backend/hci/hci_host.h"

#include <stdlib.h>
#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"
#include "transport/h4.h"

#define MOD "hci"

struct bk_hci_cmd {
  bk_qnode node; /* in bk_hci.cmds while it waits */
  uint16_t opcode;
  bk_hci_cmd_fn cb;
  void *user;
  size_t len;
  uint8_t pkt[3 + 255]; /* opcode, length, parameters */
};

struct bk_hci_acl {
  bk_qnode node; /* in bk_hci.acl while it waits for a credit */
  uint16_t handle;
  size_t len;
  uint8_t pkt[]; /* ACL header + data */
};

void bk_hci_init(bk_hci *h, const bk_hci_ops *ops, void *owner) {
  memset(h, 0, sizeof *h);
  bk_queue_init(&h->cmds);
  bk_queue_init(&h->acl);
  h->ops = ops;
  h->owner = owner;
  h->ncmd = 1; /* one command may go before the controller says more */
}

static void write_packet(bk_hci *h, uint8_t type, const uint8_t *pkt, size_t len) {
  uint8_t buf[1 + BK_H4_MAX_PACKET];
  int n = bk_h4_encode(type, pkt, len, buf, sizeof buf);
  if (n > 0)
    h->ops->write(h->owner, buf, (size_t)n);
}

static void cmd_kick(bk_hci *h) {
  while (!h->lost && h->ncmd > 0 && !h->cmd_sent && !bk_queue_empty(&h->cmds)) {
    bk_hci_cmd *c = BK_QUEUE_ENTRY(bk_queue_pop(&h->cmds), bk_hci_cmd, node);
    h->cmd_sent = c;
    h->ncmd--;
    h->cmd_deadline = h->now + BK_HCI_CMD_TIMEOUT_MS;
    write_packet(h, BK_H4_COMMAND, c->pkt, c->len);
  }
}

/* The clock only moves forward: an entry point called with an older time
 * than the last one seen (two clocks a few ms apart) changes nothing. */
static void advance(bk_hci *h, uint64_t now) {
  if (now > h->now)
    h->now = now;
}

int bk_hci_command(bk_hci *h, uint16_t opcode, const uint8_t *params, size_t len,
                   bk_hci_cmd_fn cb, void *user, uint64_t now) {
  if (!h || len > 255 || (len && !params))
    return BLEAK_ERR_INVALID_ARG;
  if (h->lost)
    return bk_fail(BLEAK_ERR_IO, "the controller is gone");
  advance(h, now);
  bk_hci_cmd *c = calloc(1, sizeof *c);
  if (!c)
    return BLEAK_ERR_NO_MEMORY;
  c->opcode = opcode;
  c->cb = cb;
  c->user = user;
  bk_put_le16(c->pkt, opcode);
  c->pkt[2] = (uint8_t)len;
  if (len)
    memcpy(c->pkt + 3, params, len);
  c->len = 3 + len;
  bk_queue_push(&h->cmds, &c->node);
  cmd_kick(h);
  return 0;
}

void bk_hci_forget(bk_hci *h, void *user) {
  if (h->cmd_sent && h->cmd_sent->user == user)
    h->cmd_sent->cb = NULL;
  for (bk_qnode *n = bk_queue_head(&h->cmds); n; n = bk_qnode_next(n)) {
    bk_hci_cmd *c = BK_QUEUE_ENTRY(n, bk_hci_cmd, node);
    if (c->user == user)
      c->cb = NULL;
  }
}

/* The answer to the sent command (@p opcode from the event). */
static void cmd_answered(bk_hci *h, uint16_t opcode, uint8_t ncmd, int status,
                         const uint8_t *ret, size_t len) {
  h->ncmd = ncmd;
  bk_hci_cmd *c = h->cmd_sent;
  if (opcode == 0x0000) { /* a credit update (NOP) */
    cmd_kick(h);
    return;
  }
  if (!c || c->opcode != opcode) {
    h->dropped++;
    BK_WARN(MOD, "answer to command 0x%04x, which is not outstanding", opcode);
    cmd_kick(h);
    return;
  }
  h->cmd_sent = NULL;
  h->cmd_deadline = 0;
  if (c->cb)
    c->cb(c->user, status, ret, len);
  free(c);
  cmd_kick(h);
}

static void fail_command(bk_hci_cmd *c, int err) {
  if (c->cb)
    c->cb(c->user, err, NULL, 0);
  free(c);
}

static void fail_commands(bk_hci *h, int err) {
  bk_hci_cmd *c = h->cmd_sent;
  h->cmd_sent = NULL;
  if (c)
    fail_command(c, err);
  while ((c = BK_QUEUE_ENTRY(bk_queue_pop(&h->cmds), bk_hci_cmd, node)) != NULL)
    fail_command(c, err);
}

static void set_lost(bk_hci *h, int err) {
  if (h->lost)
    return;
  h->lost = true;
  fail_commands(h, err);
  h->ops->lost(h->owner, err);
}

/* ---- ACL ----------------------------------------------------------------- */

static bk_hci_link *link_of(bk_hci *h, uint16_t handle) {
  for (size_t i = 0; i < BK_HCI_MAX_LINKS; i++)
    if (h->links[i].used && h->links[i].handle == handle)
      return &h->links[i];
  return NULL;
}

static void acl_kick(bk_hci *h) {
  while (!h->lost && h->acl_credits > 0 && !bk_queue_empty(&h->acl)) {
    bk_hci_acl *a = BK_QUEUE_ENTRY(bk_queue_pop(&h->acl), bk_hci_acl, node);
    bk_hci_link *l = link_of(h, a->handle);
    if (l) {
      h->acl_credits--;
      l->in_flight++;
      write_packet(h, BK_H4_ACL, a->pkt, a->len);
    }
    free(a);
  }
}

static void free_chain(bk_queue *q) {
  bk_qnode *n;
  while ((n = bk_queue_pop(q)) != NULL)
    free(BK_QUEUE_ENTRY(n, bk_hci_acl, node));
}

int bk_hci_send_l2cap(bk_hci *h, uint16_t handle, uint16_t cid, const uint8_t *pdu, size_t len) {
  if (h->lost)
    return bk_fail(BLEAK_ERR_IO, "the controller is gone");
  if (!link_of(h, handle))
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "no link 0x%03x", handle);
  if (len + 4 > BK_L2CAP_MAX_PDU + 0u)
    return bk_fail(BLEAK_ERR_TOO_LONG, "L2CAP PDU of %zu bytes", len);
  size_t off = 0;
  bk_queue frags;
  bk_queue_init(&frags);
  for (;;) {
    uint8_t pkt[4 + BK_H4_MAX_ACL];
    int r = bk_l2cap_fragment(handle, cid, pdu, len, h->acl_mtu ? h->acl_mtu : 27, &off, pkt,
                              sizeof pkt);
    if (r == 0)
      break;
    bk_hci_acl *a = r > 0 ? malloc(sizeof *a + (size_t)r) : NULL;
    if (!a) {
      free_chain(&frags);
      return r < 0 ? r : BLEAK_ERR_NO_MEMORY;
    }
    a->handle = handle;
    a->len = (size_t)r;
    memcpy(a->pkt, pkt, (size_t)r);
    bk_queue_push(&frags, &a->node);
  }
  /* All fragments queued together: a PDU is never cut by a failure. */
  bk_queue_splice(&h->acl, &frags);
  acl_kick(h);
  return 0;
}

size_t bk_hci_acl_backlog(const bk_hci *h) { return bk_queue_len(&h->acl); }

static void drop_link(bk_hci *h, bk_hci_link *l) {
  /* Its queued packets go; the buffers it held are free again (Vol 4
   * Part E 4.3: the controller flushes them on disconnection). */
  for (bk_qnode *n = bk_queue_head(&h->acl), *next; n; n = next) {
    next = bk_qnode_next(n);
    bk_hci_acl *a = BK_QUEUE_ENTRY(n, bk_hci_acl, node);
    if (a->handle == l->handle) {
      bk_queue_remove(&h->acl, n);
      free(a);
    }
  }
  h->acl_credits += l->in_flight;
  if (h->acl_credits > h->acl_max)
    h->acl_credits = h->acl_max;
  memset(l, 0, sizeof *l);
}

static void on_acl(bk_hci *h, const uint8_t *pkt, size_t len) {
  uint16_t handle, cid;
  uint8_t pb;
  const uint8_t *data, *pdu;
  size_t dlen, plen;
  if (bk_acl_parse(pkt, len, &handle, &pb, &data, &dlen) != 0) {
    h->dropped++;
    return;
  }
  bk_hci_link *l = link_of(h, handle);
  if (!l) {
    h->dropped++;
    BK_DEBUG(MOD, "ACL data for unknown handle 0x%03x dropped", handle);
    return;
  }
  int r = bk_l2cap_rx_feed(&l->rx, pb, data, dlen, &cid, &pdu, &plen);
  if (r != 1)
    return;
  if (cid == BK_L2CAP_CID_SMP && l->reading_key_size) { /* see smp_held */
    if (plen > 255 || l->smp_held_len + 1 + plen > sizeof l->smp_held) {
      h->dropped++;
      BK_WARN(MOD, "SMP PDU of link 0x%03x dropped: too many while its key size is read",
              handle);
      return;
    }
    l->smp_held[l->smp_held_len++] = (uint8_t)plen;
    memcpy(l->smp_held + l->smp_held_len, pdu, plen);
    l->smp_held_len += plen;
    return;
  }
  h->ops->l2cap(h->owner, handle, cid, pdu, plen);
}

/* ---- init ---------------------------------------------------------------- */

static void init_next(bk_hci *h);

static void init_cb(void *user, int status, const uint8_t *ret, size_t len) {
  bk_hci *h = user;
  int step = h->init_step;
  /* Optional steps may fail (old or minimal controllers). */
  bool optional = step == 1 || step == 6 || step == 7;
  if (status && !optional) {
    BK_ERROR(MOD, "controller init step %d failed: %s", step, bleak_strerror(status));
    h->ops->ready(h->owner, status);
    return;
  }
  if (!status) {
    switch (step) {
    case 1: /* Read Local Version */
      if (len >= 1)
        h->hci_version = ret[0];
      break;
    case 2: /* Read BD_ADDR */
      if (len >= 6)
        memcpy(h->bdaddr, ret, 6);
      break;
    case 5: /* LE Read Buffer Size: length(2), packets(1) */
      if (len >= 3) {
        h->acl_mtu = bk_get_le16(ret);
        h->acl_max = ret[2];
      }
      break;
    case 6: /* Read Buffer Size: ACL length(2), SCO(1), ACL packets(2), SCO(2) */
      if (len >= 5 && h->acl_max == 0) {
        h->acl_mtu = bk_get_le16(ret);
        h->acl_max = bk_get_le16(ret + 3);
      }
      break;
    case 7: /* LE Read Local Supported Features */
      if (len >= 8)
        h->le_features = (uint64_t)bk_get_le32(ret) | (uint64_t)bk_get_le32(ret + 4) << 32;
      {
        const char *legacy = getenv("BLEAK_HCI_LEGACY");
        h->extended = (h->le_features & BK_HCI_LE_FEAT_EXT_ADV) && !(legacy && *legacy == '1');
      }
      break;
    default:
      break;
    }
  }
  h->init_step++;
  init_next(h);
}

static void init_next(bk_hci *h) {
  uint8_t p[8];
  int err = 0;
  switch (h->init_step) {
  case 0:
    err = bk_hci_command(h, BK_HCI_OP_RESET, NULL, 0, init_cb, h, h->now);
    break;
  case 1:
    err = bk_hci_command(h, BK_HCI_OP_READ_LOCAL_VERSION, NULL, 0, init_cb, h, h->now);
    break;
  case 2:
    err = bk_hci_command(h, BK_HCI_OP_READ_BD_ADDR, NULL, 0, init_cb, h, h->now);
    break;
  case 3: /* Disconnection Complete, Encryption Change, Hardware Error,
           * Encryption Key Refresh, LE Meta */
    bk_put_le32(p, (1u << 4) | (1u << 7) | (1u << 15));
    bk_put_le32(p + 4, (1u << (47 - 32)) | (1u << (61 - 32)));
    err = bk_hci_command(h, BK_HCI_OP_SET_EVENT_MASK, p, 8, init_cb, h, h->now);
    break;
  case 4: /* LE: Connection Complete, Advertising Report, Connection Update,
           * Remote Features, LTK Request, Data Length Change, PHY Update,
           * Extended Advertising Report */
    memset(p, 0, 8);
    bk_put_le32(p, 0x1u | 0x2u | 0x4u | 0x8u | 0x10u | 0x40u | 0x800u | 0x1000u);
    err = bk_hci_command(h, BK_HCI_OP_LE_SET_EVENT_MASK, p, 8, init_cb, h, h->now);
    break;
  case 5:
    err = bk_hci_command(h, BK_HCI_OP_LE_READ_BUFFER_SIZE, NULL, 0, init_cb, h, h->now);
    break;
  case 6:
    if (h->acl_max) { /* LE has its own buffers */
      h->init_step++;
      init_next(h);
      return;
    }
    err = bk_hci_command(h, BK_HCI_OP_READ_BUFFER_SIZE, NULL, 0, init_cb, h, h->now);
    break;
  case 7:
    err = bk_hci_command(h, BK_HCI_OP_LE_READ_LOCAL_FEATURES, NULL, 0, init_cb, h, h->now);
    break;
  default:
    if (h->acl_max == 0 || h->acl_mtu < 27) {
      BK_ERROR(MOD, "controller reports no usable ACL buffers (%u x %u)", h->acl_max,
               h->acl_mtu);
      h->ops->ready(h->owner, bk_fail(BLEAK_ERR_NOT_SUPPORTED, "controller has no LE buffers"));
      return;
    }
    if (h->acl_mtu > BK_H4_MAX_ACL)
      h->acl_mtu = BK_H4_MAX_ACL;
    h->acl_credits = h->acl_max;
    h->ready = true;
    BK_INFO(MOD, "controller ready: %u ACL buffers of %u bytes", h->acl_max, h->acl_mtu);
    h->ops->ready(h->owner, 0);
    return;
  }
  if (err)
    h->ops->ready(h->owner, err);
}

int bk_hci_start(bk_hci *h, uint64_t now) {
  h->now = now;
  h->init_step = 0;
  init_next(h);
  return 0;
}

/* ---- events -------------------------------------------------------------- */

static int hci_status(uint8_t s) { return s ? BLEAK_ERR_HCI(s) : 0; }

/* ---- encryption ---- */

static void report_encryption(bk_hci *h, uint16_t handle, int status, uint8_t key_size) {
  if (h->ops->encryption)
    h->ops->encryption(h->owner, handle, status, key_size);
}

/* The answer to Read Encryption Key Size: the key's size, for the link
 * that asked (the answer names its handle; on a failure it may not). */
static void key_size_read(void *user, int status, const uint8_t *ret, size_t len) {
  bk_hci *h = user;
  uint16_t handle = len >= 2 ? (uint16_t)(bk_get_le16(ret) & 0x0fff) : 0xffff;
  bk_hci_link *l = NULL;
  for (size_t i = 0; i < BK_HCI_MAX_LINKS && !l; i++)
    if (h->links[i].used && h->links[i].reading_key_size &&
        (handle == 0xffff || h->links[i].handle == handle))
      l = &h->links[i];
  if (!l)
    return; /* the link went meanwhile */
  l->reading_key_size = false;
  if (status == 0 && len < 3)
    status = bk_fail(BLEAK_ERR_PROTOCOL, "Read Encryption Key Size: %zu bytes", len);
  /* What SMP sent meanwhile goes up after the report (it may carry keys:
   * wiped after). */
  uint8_t held[BK_HCI_SMP_HELD];
  size_t n = l->smp_held_len;
  uint16_t link = l->handle;
  memcpy(held, l->smp_held, n);
  explicit_bzero(l->smp_held, n);
  l->smp_held_len = 0;
  /* A controller that does not know the command (BlueZ 5.66's emulated
   * ones: Unknown HCI Command) encrypted all the same: the size is then
   * unknown (0), and the owner goes by what the pairing negotiated. Any
   * other failure is reported as one. */
  uint8_t size = status == 0 ? ret[2] : 0;
  if (status == BLEAK_ERR_HCI(0x01))
    status = 0;
  report_encryption(h, link, status, size);
  for (size_t i = 0; i < n && link_of(h, link); i += 1 + (size_t)held[i])
    h->ops->l2cap(h->owner, link, BK_L2CAP_CID_SMP, held + i + 1, held[i]);
  explicit_bzero(held, n);
}

static void encryption_changed(bk_hci *h, uint16_t handle, uint8_t status, uint8_t enabled) {
  bk_hci_link *l = link_of(h, handle);
  if (!l)
    return;
  if (status || !enabled) {
    report_encryption(h, handle, hci_status(status), 0);
    return;
  }
  /* Encrypted: with how long a key? (Core Vol 4 Part E 7.5.7) */
  uint8_t p[2];
  bk_put_le16(p, handle);
  l->reading_key_size = true;
  if (bk_hci_command(h, BK_HCI_OP_READ_ENCRYPTION_KEY_SIZE, p, sizeof p, key_size_read, h,
                     h->now) < 0) {
    l->reading_key_size = false;
    report_encryption(h, handle, BLEAK_ERR_NO_MEMORY, 0);
  }
}

/* LE Enable Encryption's Command Status: only a refusal is news (the
 * outcome comes as Encryption Change); it goes to the link that asked. */
static void start_encryption_status(void *user, int status, const uint8_t *ret, size_t len) {
  (void)ret;
  (void)len;
  bk_hci *h = user;
  for (size_t i = 0; i < BK_HCI_MAX_LINKS; i++) {
    bk_hci_link *l = &h->links[i];
    if (!l->used || !l->starting_encryption)
      continue;
    l->starting_encryption = false;
    if (status)
      report_encryption(h, l->handle, status, 0);
    return;
  }
}

int bk_hci_le_start_encryption(bk_hci *h, uint16_t handle, const uint8_t rand[8], uint16_t ediv,
                               const uint8_t ltk[16], uint64_t now) {
  bk_hci_link *l = link_of(h, handle);
  if (!l)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "no link 0x%03x", handle);
  uint8_t p[28];
  bk_put_le16(p, handle);
  memcpy(p + 2, rand, 8);
  bk_put_le16(p + 10, ediv);
  memcpy(p + 12, ltk, 16);
  int r = bk_hci_command(h, BK_HCI_OP_LE_START_ENCRYPTION, p, sizeof p, start_encryption_status,
                         h, now);
  if (r == 0)
    l->starting_encryption = true;
  return r;
}

static void on_event(bk_hci *h, const uint8_t *pkt, size_t len) {
  bk_hci_event ev;
  int r = bk_hci_event_parse(pkt, len, &ev);
  if (r == BLEAK_ERR_NOT_SUPPORTED)
    return; /* an event we do not use */
  if (r) {
    h->dropped++;
    BK_WARN(MOD, "malformed event 0x%02x dropped: %s", len ? pkt[0] : 0, bleak_error_detail());
    return;
  }
  switch (ev.code) {
  case BK_HCI_EV_CMD_COMPLETE: {
    const uint8_t *ret = ev.u.cmd_complete.ret;
    size_t rl = ev.u.cmd_complete.ret_len;
    int st = rl >= 1 ? hci_status(ret[0]) : 0;
    cmd_answered(h, ev.u.cmd_complete.opcode, ev.u.cmd_complete.ncmd, st, rl ? ret + 1 : NULL,
                 rl ? rl - 1 : 0);
    break;
  }
  case BK_HCI_EV_CMD_STATUS:
    cmd_answered(h, ev.u.cmd_status.opcode, ev.u.cmd_status.ncmd,
                 hci_status(ev.u.cmd_status.status), NULL, 0);
    break;
  case BK_HCI_EV_NUM_COMPLETED_PACKETS:
    for (size_t i = 0; i < ev.u.completed.n; i++) {
      uint16_t handle, count;
      bk_hci_completed_at(&ev, i, &handle, &count);
      bk_hci_link *l = link_of(h, handle);
      if (!l)
        continue;
      if (count > l->in_flight)
        count = (uint16_t)l->in_flight; /* a controller counting wrong */
      l->in_flight -= count;
      h->acl_credits += count;
    }
    acl_kick(h);
    h->ops->acl_sent(h->owner);
    break;
  case BK_HCI_EV_DISCONN_COMPLETE: {
    if (ev.u.disconn.status)
      break; /* the disconnect command failed: the link stays */
    bk_hci_link *l = link_of(h, ev.u.disconn.handle);
    if (!l)
      break;
    drop_link(h, l);
    h->ops->disconnected(h->owner, ev.u.disconn.handle, ev.u.disconn.reason);
    acl_kick(h);
    break;
  }
  case BK_HCI_EV_ENCRYPT_CHANGE:
  case BK_HCI_EV_ENCRYPT_KEY_REFRESH:
    encryption_changed(h, ev.u.encrypt.handle, ev.u.encrypt.status, ev.u.encrypt.enabled);
    break;
  case BK_HCI_EV_HARDWARE_ERROR:
    BK_ERROR(MOD, "controller hardware error 0x%02x", ev.u.hw_error.code);
    set_lost(h, bk_fail(BLEAK_ERR_IO, "controller hardware error 0x%02x", ev.u.hw_error.code));
    break;
  case BK_HCI_EV_LE_META:
    switch (ev.subevent) {
    case BK_HCI_LE_CONN_COMPLETE:
    case BK_HCI_LE_ENH_CONN_COMPLETE: {
      int st = hci_status(ev.u.le_conn.status);
      if (st == 0) {
        if (ev.u.le_conn.role != 0) {
          /* We never advertise; a peripheral link is not ours to keep. */
          (void)bk_hci_disconnect(h, ev.u.le_conn.handle, 0x13, h->now);
          break;
        }
        bk_hci_link *l = NULL;
        for (size_t i = 0; i < BK_HCI_MAX_LINKS && !l; i++)
          if (!h->links[i].used)
            l = &h->links[i];
        if (!l || link_of(h, ev.u.le_conn.handle)) {
          BK_ERROR(MOD, "no room for link 0x%03x (or a duplicate handle)", ev.u.le_conn.handle);
          (void)bk_hci_disconnect(h, ev.u.le_conn.handle, 0x13, h->now);
          st = BLEAK_ERR_HCI(0x09); /* Connection Limit Exceeded */
        } else {
          l->used = true;
          l->handle = ev.u.le_conn.handle;
          l->in_flight = 0;
          bk_l2cap_rx_init(&l->rx, BK_L2CAP_MAX_PDU);
        }
      }
      h->ops->connected(h->owner, st, ev.u.le_conn.handle, ev.u.le_conn.peer_type,
                        ev.u.le_conn.peer);
      break;
    }
    case BK_HCI_LE_ADV_REPORT:
    case BK_HCI_LE_EXT_ADV_REPORT: {
      size_t pos = 0;
      bk_hci_adv_report rep;
      while (bk_hci_adv_next(&ev, &pos, &rep) == 1)
        h->ops->adv_report(h->owner, &rep);
      break;
    }
    default:
      break;
    }
    break;
  default:
    break;
  }
}

void bk_hci_feed(bk_hci *h, uint8_t type, const uint8_t *pkt, size_t len, uint64_t now) {
  advance(h, now);
  if (h->lost)
    return;
  if (type == BK_H4_EVENT)
    on_event(h, pkt, len);
  else if (type == BK_H4_ACL)
    on_acl(h, pkt, len);
  else
    h->dropped++;
}

uint64_t bk_hci_deadline(const bk_hci *h) { return h->cmd_sent && !h->lost ? h->cmd_deadline : 0; }

void bk_hci_tick(bk_hci *h, uint64_t now) {
  advance(h, now);
  if (h->cmd_sent && !h->lost && now >= h->cmd_deadline) {
    BK_ERROR(MOD, "command 0x%04x unanswered for %d s", h->cmd_sent->opcode,
             BK_HCI_CMD_TIMEOUT_MS / 1000);
    set_lost(h, bk_fail(BLEAK_ERR_TIMEOUT, "controller did not answer command 0x%04x",
                        h->cmd_sent->opcode));
  }
}

void bk_hci_close(bk_hci *h) {
  h->lost = true;
  fail_commands(h, BLEAK_ERR_IO);
  free_chain(&h->acl);
}

/* ---- LE helpers ---------------------------------------------------------- */

int bk_hci_le_scan(bk_hci *h, bool enable, bool active, bk_hci_cmd_fn cb, void *user,
                   uint64_t now) {
  uint8_t p[8];
  int err;
  if (h->extended) {
    if (enable) {
      p[0] = 0;                   /* own address: public */
      p[1] = 0;                   /* accept all advertisements */
      p[2] = 0x01;                /* on the 1M PHY */
      p[3] = active ? 1 : 0;
      bk_put_le16(p + 4, 0x0030); /* 30 ms interval and window */
      bk_put_le16(p + 6, 0x0030);
      err = bk_hci_command(h, BK_HCI_OP_LE_SET_EXT_SCAN_PARAMS, p, 8, NULL, NULL, now);
      if (err)
        return err;
    }
    p[0] = enable ? 1 : 0;
    p[1] = 0;                     /* report duplicates */
    bk_put_le16(p + 2, 0);        /* until disabled */
    bk_put_le16(p + 4, 0);
    return bk_hci_command(h, BK_HCI_OP_LE_SET_EXT_SCAN_ENABLE, p, 6, cb, user, now);
  }
  if (enable) {
    p[0] = active ? 1 : 0;
    bk_put_le16(p + 1, 0x0030); /* 30 ms interval */
    bk_put_le16(p + 3, 0x0030); /* and window: scan all the time */
    p[5] = 0;                   /* own address: public */
    p[6] = 0;                   /* accept all advertisements */
    err = bk_hci_command(h, BK_HCI_OP_LE_SET_SCAN_PARAMS, p, 7, NULL, NULL, now);
    if (err)
      return err;
  }
  p[0] = enable ? 1 : 0;
  p[1] = 0; /* report duplicates: RSSI updates and scan responses, as BlueZ */
  return bk_hci_command(h, BK_HCI_OP_LE_SET_SCAN_ENABLE, p, 2, cb, user, now);
}

/* Connection parameters of our connects: interval 7.5..30 ms (round trips
 * are ours to win), no latency, supervision 5 s, written at @p p. */
static void conn_params(uint8_t *p) {
  bk_put_le16(p, 0x0006);
  bk_put_le16(p + 2, 0x0018);
  bk_put_le16(p + 4, 0);
  bk_put_le16(p + 6, 0x01f4);
  bk_put_le16(p + 8, 0);
  bk_put_le16(p + 10, 0);
}

int bk_hci_le_connect(bk_hci *h, uint8_t peer_type, const uint8_t peer[6], bk_hci_cmd_fn cb,
                      void *user, uint64_t now) {
  if (h->extended) {
    uint8_t p[10 + 16];
    p[0] = 0;                   /* the peer given, not the accept list */
    p[1] = 0;                   /* own address: public */
    p[2] = peer_type;
    memcpy(p + 3, peer, 6);
    p[9] = 0x01;                /* initiate on the 1M PHY */
    bk_put_le16(p + 10, 0x0060); /* scan interval and window 60 ms */
    bk_put_le16(p + 12, 0x0060);
    conn_params(p + 14);
    return bk_hci_command(h, BK_HCI_OP_LE_EXT_CREATE_CONN, p, sizeof p, cb, user, now);
  }
  uint8_t p[25];
  bk_put_le16(p, 0x0060);  /* scan interval 60 ms */
  bk_put_le16(p + 2, 0x0060);
  p[4] = 0;                /* the peer given, not the accept list */
  p[5] = peer_type;
  memcpy(p + 6, peer, 6);
  p[12] = 0;               /* own address: public */
  conn_params(p + 13);
  return bk_hci_command(h, BK_HCI_OP_LE_CREATE_CONN, p, sizeof p, cb, user, now);
}

int bk_hci_le_connect_cancel(bk_hci *h, uint64_t now) {
  return bk_hci_command(h, BK_HCI_OP_LE_CREATE_CONN_CANCEL, NULL, 0, NULL, NULL, now);
}

int bk_hci_disconnect(bk_hci *h, uint16_t handle, uint8_t reason, uint64_t now) {
  uint8_t p[3];
  bk_put_le16(p, handle);
  p[2] = reason;
  return bk_hci_command(h, BK_HCI_OP_DISCONNECT, p, 3, NULL, NULL, now);
}

int bk_hci_le_conn_update(bk_hci *h, uint16_t handle, uint16_t interval_min,
                          uint16_t interval_max, uint16_t latency, uint16_t timeout,
                          uint64_t now) {
  uint8_t p[14];
  bk_put_le16(p, handle);
  bk_put_le16(p + 2, interval_min);
  bk_put_le16(p + 4, interval_max);
  bk_put_le16(p + 6, latency);
  bk_put_le16(p + 8, timeout);
  bk_put_le16(p + 10, 0); /* connection event length: no preference */
  bk_put_le16(p + 12, 0);
  return bk_hci_command(h, BK_HCI_OP_LE_CONN_UPDATE, p, sizeof p, NULL, NULL, now);
}

void bk_hci_le_tune_link(bk_hci *h, uint16_t handle, uint64_t now) {
  /* Longer LE packets (fewer fragments per ATT PDU): 251 octets, 2120 us. */
  if (h->le_features & BK_HCI_LE_FEAT_DATA_LENGTH) {
    uint8_t p[6];
    bk_put_le16(p, handle);
    bk_put_le16(p + 2, 251);
    bk_put_le16(p + 4, 2120);
    (void)bk_hci_command(h, BK_HCI_OP_LE_SET_DATA_LENGTH, p, sizeof p, NULL, NULL, now);
  }
  /* The 2M PHY both ways (twice the air rate); the controllers negotiate. */
  if (h->le_features & BK_HCI_LE_FEAT_2M_PHY) {
    uint8_t p[7];
    bk_put_le16(p, handle);
    p[2] = 0;    /* preferences for both directions follow */
    p[3] = 0x02; /* TX: 2M */
    p[4] = 0x02; /* RX: 2M */
    bk_put_le16(p + 5, 0);
    (void)bk_hci_command(h, BK_HCI_OP_LE_SET_PHY, p, sizeof p, NULL, NULL, now);
  }
}
