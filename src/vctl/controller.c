/* SPDX-License-Identifier: MIT */
/* The virtual LE controller of bleak-vctl: see controller.h. */
#include "vctl/controller.h"

#include <stdlib.h>
#include <string.h>

#include "backend/hci/l2cap.h"
#include "backend/hci/l2cap_signal.h"
#include "backend/hci/smp.h"
#include "core/internal.h"
#include "transport/h4.h"
#include "vctl/att_server.h"
#include "vctl/hci_defs.h"

#define MOD "vctl"
#define MAX_LINKS 16
#define LIST_SIZE 16   /* accept list and resolving list entries */
#define DOWN_SLOTS 64  /* LL packets a modeled link holds for the host */
#define LL_MAX 251     /* the largest LL payload */
#define RSSI (-50)     /* what every report and Read RSSI say */
#define MANUFACTURER 0x05f1 /* The Linux Foundation */
#define HCI_VERSION 0x0b    /* 5.2 */

typedef struct vlink vlink;

struct vlink {
  bool used;
  uint16_t handle;
  size_t periph;
  vctl_controller *ctl;
  vctl_att_conn *att;
  vctl_att_io io;
  bk_l2cap_rx rx;
  uint16_t interval, latency, timeout; /* 1.25 ms, events, 10 ms */
  uint16_t tx_octets, tx_time, rx_octets, rx_time;
  uint8_t tx_phy, rx_phy;
  uint8_t drop_reason;  /* non-zero: the peripheral asked to drop the link */
  unsigned completed;   /* buffer credits to report */
  bool want_writable;   /* the ATT server was told "no room" */
  /* modeled air */
  vctl_link_clock clock;
  uint16_t *up_q; /* ring of uplink slot indices (acl_buffers) */
  size_t up_head, up_count;
  unsigned up_ll_left; /* LL packets the front slot still needs */
  struct down_slot {
    uint16_t len;
    uint8_t pkt[4 + LL_MAX];
  } *down;
  size_t down_head, down_count;
};

typedef struct list_entry {
  uint8_t type, addr[6];
} list_entry;

typedef struct adv_state {
  uint64_t next_ms;
  bool reported, rsp_reported; /* filter_duplicates */
} adv_state;

struct vctl_controller {
  vctl_controller_config cfg;
  vctl_peripheral **periphs;
  adv_state *adv;
  size_t n_periphs;
  vctl_output_fn out;
  void *user;
  uint64_t now;
  bool blocked;
  bk_h4 h4;
  vctl_controller_stats stats;
  uint64_t event_mask, event_mask2, le_mask;
  uint64_t rand_state;
  uint16_t sugg_tx_octets, sugg_tx_time;
  /* scanning */
  bool scanning, scan_active, scan_ext, scan_filter_dup, scan_accept_list;
  uint64_t scan_end; /* 0: no duration */
  /* initiating */
  bool initiating, init_ext, init_accept_list;
  uint8_t init_peer_type, init_peer[6];
  uint16_t init_min, init_max, init_latency, init_timeout;
  /* lists */
  list_entry accept[LIST_SIZE];
  size_t n_accept;
  size_t n_resolving;
  /* links */
  vlink links[MAX_LINKS];
  uint16_t next_handle;
  /* the uplink pool of a modeled link: acl_buffers slots */
  uint8_t *up_data;
  uint16_t *up_len;
  uint8_t *up_pb;
  uint16_t *up_free;
  size_t n_up_free;
};

/* ---- output -------------------------------------------------------------- */

static void send_packet(vctl_controller *ctl, uint8_t type, const uint8_t *pkt, size_t len) {
  uint8_t buf[1 + BK_H4_MAX_PACKET];
  int n = bk_h4_encode(type, pkt, len, buf, sizeof buf);
  if (n > 0)
    ctl->out(ctl->user, buf, (size_t)n);
}

/* Command Complete, Command Status and Number Of Completed Packets cannot
 * be masked; for the others bit n of the mask is event code n + 1. */
static bool event_enabled(const vctl_controller *ctl, uint8_t code) {
  if (code == HCI_EV_CMD_COMPLETE || code == HCI_EV_CMD_STATUS || code == HCI_EV_NUM_COMPLETED)
    return true;
  if (code >= 1 && code <= 64)
    return (ctl->event_mask >> (code - 1)) & 1;
  return true;
}

static void send_event(vctl_controller *ctl, uint8_t code, const uint8_t *params, size_t len) {
  if (!event_enabled(ctl, code) || len > 255)
    return;
  uint8_t pkt[2 + 255];
  pkt[0] = code;
  pkt[1] = (uint8_t)len;
  if (len)
    memcpy(pkt + 2, params, len);
  send_packet(ctl, BK_H4_EVENT, pkt, 2 + len);
}

static bool le_enabled(const vctl_controller *ctl, uint8_t sub) {
  return event_enabled(ctl, HCI_EV_LE_META) && sub >= 1 && ((ctl->le_mask >> (sub - 1)) & 1);
}

static void send_le_event(vctl_controller *ctl, uint8_t sub, const uint8_t *params, size_t len) {
  if (!le_enabled(ctl, sub) || len > 254)
    return;
  uint8_t p[255];
  p[0] = sub;
  if (len) /* the Scan Timeout event has no parameters (params NULL) */
    memcpy(p + 1, params, len);
  send_event(ctl, HCI_EV_LE_META, p, 1 + len);
}

static void cmd_complete(vctl_controller *ctl, uint16_t op, const uint8_t *ret, size_t len) {
  uint8_t p[255];
  if (len > sizeof p - 3)
    len = sizeof p - 3;
  p[0] = 1; /* one more command may come */
  bk_put_le16(p + 1, op);
  memcpy(p + 3, ret, len);
  send_event(ctl, HCI_EV_CMD_COMPLETE, p, 3 + len);
}

static void cmd_status_byte(vctl_controller *ctl, uint16_t op, uint8_t status) {
  cmd_complete(ctl, op, &status, 1);
}

/* A status and a connection handle: the return of many link commands. */
static void cmd_complete_handle(vctl_controller *ctl, uint16_t op, uint8_t status,
                                uint16_t handle) {
  uint8_t r[3] = {status};
  bk_put_le16(r + 1, handle);
  cmd_complete(ctl, op, r, sizeof r);
}

static void cmd_status(vctl_controller *ctl, uint16_t op, uint8_t status) {
  uint8_t p[4] = {status, 1};
  bk_put_le16(p + 2, op);
  send_event(ctl, HCI_EV_CMD_STATUS, p, sizeof p);
}

/* ---- links --------------------------------------------------------------- */

static vlink *link_by_handle(vctl_controller *ctl, uint16_t handle) {
  for (size_t i = 0; i < MAX_LINKS; i++)
    if (ctl->links[i].used && ctl->links[i].handle == handle)
      return &ctl->links[i];
  return NULL;
}

static vlink *link_of_periph(vctl_controller *ctl, size_t periph) {
  for (size_t i = 0; i < MAX_LINKS; i++)
    if (ctl->links[i].used && ctl->links[i].periph == periph)
      return &ctl->links[i];
  return NULL;
}

static bool modeled(const vctl_controller *ctl) { return !ctl->cfg.link.unlimited; }

/* The PHY's air rate the model allows (1 or 2). */
static uint8_t air_phy(const vlink *l) { return l->tx_phy == 2 && l->rx_phy == 2 ? 2 : 1; }

/* The LL payload each way: the data length, capped by the model. */
static uint16_t ll_octets(const vlink *l, bool up) {
  uint16_t o = up ? l->tx_octets : l->rx_octets;
  return o < l->ctl->cfg.link.dle ? o : l->ctl->cfg.link.dle;
}

/* The link's air changed (interval, PHY, data length): events keep their
 * schedule, each carries what the new parameters allow. */
static void retime(vlink *l) {
  if (!modeled(l->ctl))
    return;
  uint16_t dle = ll_octets(l, true) > ll_octets(l, false) ? ll_octets(l, true)
                                                           : ll_octets(l, false);
  l->clock.interval_us = l->interval * 1250u;
  l->clock.per_event =
      vctl_link_packets_per_event(air_phy(l), l->clock.interval_us, dle, l->ctl->cfg.link.ppe);
}

static void free_link(vctl_controller *ctl, vlink *l) {
  vctl_att_conn_free(l->att);
  while (l->up_count) {
    ctl->up_free[ctl->n_up_free++] = l->up_q[l->up_head];
    l->up_head = (l->up_head + 1) % ctl->cfg.acl_buffers;
    l->up_count--;
  }
  free(l->up_q);
  free(l->down);
  memset(l, 0, sizeof *l);
}

static void disconnection_complete(vctl_controller *ctl, vlink *l, uint8_t reason) {
  uint8_t p[4] = {0};
  bk_put_le16(p + 1, l->handle);
  p[3] = reason;
  free_link(ctl, l);
  ctl->stats.links--;
  send_event(ctl, HCI_EV_DISCONN_COMPLETE, p, sizeof p);
}

/* One ACL packet for the host (the fragment of a PDU, header included). */
static void acl_to_host(vctl_controller *ctl, const uint8_t *pkt, size_t len) {
  ctl->stats.acl_out++;
  send_packet(ctl, BK_H4_ACL, pkt, len);
}

/* An L2CAP PDU for the host on @p cid. Unlimited: out at once (unless
 * the transport is blocked); modeled: queued for the link's events, all
 * of it or none. */
static bool link_send(vlink *l, uint16_t cid, const uint8_t *pdu, size_t len) {
  vctl_controller *ctl = l->ctl;
  if (!l->used || l->drop_reason || ctl->blocked || len + 4 > BK_L2CAP_MAX_PDU)
    return false;
  size_t frag = modeled(ctl) ? ll_octets(l, false) : ctl->cfg.acl_size;
  if (modeled(ctl) && DOWN_SLOTS - l->down_count < (len + 4 + frag - 1) / frag)
    return false;
  size_t off = 0;
  for (;;) {
    uint8_t pkt[4 + BK_H4_MAX_ACL];
    bool first = off == 0;
    int n = bk_l2cap_fragment(l->handle, cid, pdu, len, frag, &off, pkt, sizeof pkt);
    if (n <= 0)
      break;
    if (first) /* controller to host: a PDU starts with 0b10 */
      pkt[1] = (uint8_t)((pkt[1] & 0x0f) | BK_ACL_PB_START << 4);
    if (!modeled(ctl)) {
      acl_to_host(ctl, pkt, (size_t)n);
      continue;
    }
    struct down_slot *s = &l->down[(l->down_head + l->down_count) % DOWN_SLOTS];
    s->len = (uint16_t)n;
    memcpy(s->pkt, pkt, (size_t)n);
    l->down_count++;
  }
  return true;
}

static bool att_send(void *ctx, const uint8_t *pdu, size_t len) {
  vlink *l = ctx;
  bool ok = link_send(l, BK_L2CAP_CID_ATT, pdu, len);
  if (!ok)
    l->want_writable = true;
  return ok;
}

/* The ATT server wants the link gone: done once its call returned
 * (finish), since freeing it now would pull it from under its caller. */
static void att_disconnect(void *ctx, uint8_t reason) {
  vlink *l = ctx;
  if (!l->drop_reason)
    l->drop_reason = reason ? reason : 0x13;
}

/* A whole PDU from the host on one of the link's channels. */
static void l2cap_from_host(vctl_controller *ctl, vlink *l, uint16_t cid, const uint8_t *pdu,
                            size_t len) {
  switch (cid) {
  case BK_L2CAP_CID_ATT:
    vctl_att_conn_input(l->att, pdu, len, ctl->now);
    break;
  case BK_L2CAP_CID_LE_SIGNALING: {
    /* Our peripherals ask for nothing and open no channels: the central
     * stack's own answers (parameters accepted, channels refused, the
     * rest rejected) are the peripheral's too. */
    uint8_t ans[BK_L2CAP_SIG_MAX_ANSWER];
    bk_l2cap_sig_event ev;
    int n = bk_l2cap_sig_recv(pdu, len, ans, sizeof ans, &ev);
    if (n > 0)
      (void)link_send(l, BK_L2CAP_CID_LE_SIGNALING, ans, (size_t)n);
    break;
  }
  case BK_L2CAP_CID_SMP: {
    uint8_t ans[BK_SMP_MAX_ANSWER];
    int n = bk_smp_refuse(pdu, len, ans, sizeof ans);
    if (n > 0)
      (void)link_send(l, BK_L2CAP_CID_SMP, ans, (size_t)n);
    break;
  }
  default:
    BK_DEBUG(MOD, "PDU on channel 0x%04x of link 0x%03x dropped", cid, l->handle);
    break;
  }
}

/* One ACL packet's payload reaches the peripheral. */
static void acl_deliver(vctl_controller *ctl, vlink *l, uint8_t pb, const uint8_t *data,
                        size_t len) {
  uint16_t cid;
  const uint8_t *pdu;
  size_t plen;
  if (l->drop_reason)
    return;
  if (bk_l2cap_rx_feed(&l->rx, pb, data, len, &cid, &pdu, &plen) == 1)
    l2cap_from_host(ctl, l, cid, pdu, plen);
}

/* The connection events due on a modeled link: uplink slots go to the
 * peripheral (their credits back), downlink packets to the host. */
static void service_link(vctl_controller *ctl, vlink *l) {
  uint64_t events = vctl_link_clock_advance(&l->clock, ctl->now * 1000);
  if (!events)
    return;
  uint64_t budget = events * l->clock.per_event;
  uint64_t up = budget, down = budget;
  while (up && l->up_count && l->used && !l->drop_reason) {
    uint16_t slot = l->up_q[l->up_head];
    unsigned take = l->up_ll_left < up ? l->up_ll_left : (unsigned)up;
    l->up_ll_left -= take;
    up -= take;
    if (l->up_ll_left)
      break;
    l->up_head = (l->up_head + 1) % ctl->cfg.acl_buffers;
    l->up_count--;
    l->completed++;
    ctl->up_free[ctl->n_up_free++] = slot;
    acl_deliver(ctl, l, ctl->up_pb[slot], ctl->up_data + (size_t)slot * ctl->cfg.acl_size,
                ctl->up_len[slot]);
    if (l->up_count) {
      uint16_t o = ll_octets(l, true);
      l->up_ll_left = (ctl->up_len[l->up_q[l->up_head]] + o - 1u) / o;
      if (!l->up_ll_left)
        l->up_ll_left = 1;
    }
  }
  bool freed = false;
  while (down && l->used && l->down_count && !ctl->blocked) {
    struct down_slot *s = &l->down[l->down_head];
    acl_to_host(ctl, s->pkt, s->len);
    l->down_head = (l->down_head + 1) % DOWN_SLOTS;
    l->down_count--;
    down--;
    freed = true;
  }
  if (freed && l->used && l->want_writable && !l->drop_reason) {
    l->want_writable = false;
    vctl_att_conn_writable(l->att, ctl->now);
  }
}

/* ---- advertising and scanning -------------------------------------------- */

static bool in_accept_list(const vctl_controller *ctl, const vctl_adv *a) {
  for (size_t i = 0; i < ctl->n_accept; i++)
    if ((ctl->accept[i].type & 1) == a->addr_type && !memcmp(ctl->accept[i].addr, a->addr, 6))
      return true;
  return false;
}

static void legacy_report(vctl_controller *ctl, const vctl_adv *a, uint8_t type,
                          const uint8_t *data, size_t len) {
  uint8_t p[1 + 9 + 31 + 1];
  if (len > 31)
    len = 31;
  p[0] = 1;
  p[1] = type;
  p[2] = a->addr_type;
  memcpy(p + 3, a->addr, 6);
  p[9] = (uint8_t)len;
  memcpy(p + 10, data, len);
  p[10 + len] = (uint8_t)RSSI;
  send_le_event(ctl, HCI_LE_ADV_REPORT, p, 11 + len);
}

/* An extended report, its data cut to what one event holds (229 bytes),
 * the pieces but the last marked "incomplete, more to come". */
static void ext_report(vctl_controller *ctl, const vctl_adv *a, uint16_t type,
                       const uint8_t *data, size_t len) {
  enum { PIECE = 229 };
  size_t off = 0;
  do {
    size_t n = len - off < PIECE ? len - off : PIECE;
    bool more = off + n < len;
    uint8_t p[1 + 24 + PIECE];
    memset(p, 0, sizeof p);
    p[0] = 1;
    bk_put_le16(p + 1, (uint16_t)(type | (more ? 0x20 : 0)));
    p[3] = a->addr_type;
    memcpy(p + 4, a->addr, 6);
    p[10] = 0x01;                   /* primary PHY 1M */
    p[11] = a->extended ? 0x01 : 0; /* secondary: 1M, none for legacy PDUs */
    p[12] = a->extended ? 0 : 0xff; /* advertising SID */
    p[13] = 127;                    /* TX power: not available */
    p[14] = (uint8_t)RSSI;
    /* periodic interval, direct address type and address: 0 */
    p[24] = (uint8_t)n;
    memcpy(p + 25, data + off, n);
    send_le_event(ctl, HCI_LE_EXT_ADV_REPORT, p, 25 + n);
    off += n;
  } while (off < len);
}

/* One advertising event of peripheral @p i heard by the scanner, with
 * the scan response an active scan gets. */
static void advertise(vctl_controller *ctl, size_t i) {
  const vctl_adv *a = vctl_peripheral_adv(ctl->periphs[i]);
  adv_state *st = &ctl->adv[i];
  if (!a || (ctl->scan_accept_list && !in_accept_list(ctl, a)))
    return;
  bool scannable = a->extended ? !a->connectable && a->scan_rsp_len > 0
                               : a->connectable || a->scan_rsp_len > 0;
  bool rsp = ctl->scan_active && scannable && (!ctl->scan_filter_dup || !st->rsp_reported);
  bool adv = !ctl->scan_filter_dup || !st->reported;
  if (!ctl->scan_ext) {
    if (a->extended)
      return; /* extended PDUs are not heard by a legacy scan */
    uint8_t type = a->connectable ? 0x00 : a->scan_rsp_len ? 0x02 : 0x03;
    if (adv)
      legacy_report(ctl, a, type, a->data, a->data_len);
    if (rsp)
      legacy_report(ctl, a, 0x04, a->scan_rsp, a->scan_rsp_len);
  } else if (a->extended) {
    uint16_t type = (uint16_t)((a->connectable ? 0x01 : 0) | (scannable ? 0x02 : 0));
    if (adv)
      ext_report(ctl, a, type, a->data, a->data_len);
    if (rsp)
      ext_report(ctl, a, 0x02 | 0x08, a->scan_rsp, a->scan_rsp_len);
  } else {
    uint16_t type = (uint16_t)(0x10 | (a->connectable ? 0x03 : scannable ? 0x02 : 0));
    if (adv)
      ext_report(ctl, a, type, a->data, a->data_len);
    if (rsp)
      ext_report(ctl, a, (uint16_t)(0x18 | (a->connectable ? 0x03 : 0x02)), a->scan_rsp,
                 a->scan_rsp_len);
  }
  st->reported |= adv;
  st->rsp_reported |= rsp;
}

/* A peripheral is on the air while it has no link (it takes one). */
static bool on_air(vctl_controller *ctl, size_t i) { return !link_of_periph(ctl, i); }

static void scan_start(vctl_controller *ctl) {
  ctl->scanning = true;
  for (size_t i = 0; i < ctl->n_periphs; i++) {
    /* The first advertisements come soon (scan_first_ms), a millisecond
     * apart. */
    ctl->adv[i].next_ms = ctl->now + ctl->cfg.scan_first_ms + i;
    ctl->adv[i].reported = ctl->adv[i].rsp_reported = false;
  }
}

static void scan_run(vctl_controller *ctl) {
  if (ctl->scanning && ctl->scan_end && ctl->now >= ctl->scan_end) {
    ctl->scanning = false;
    ctl->scan_end = 0;
    send_le_event(ctl, HCI_LE_SCAN_TIMEOUT, NULL, 0);
  }
  if (!ctl->scanning)
    return;
  for (size_t i = 0; i < ctl->n_periphs; i++) {
    if (ctl->adv[i].next_ms > ctl->now)
      continue;
    const vctl_adv *a = vctl_peripheral_adv(ctl->periphs[i]);
    uint32_t interval = a && a->interval_ms ? a->interval_ms : 100;
    ctl->adv[i].next_ms = ctl->now + interval;
    if (on_air(ctl, i))
      advertise(ctl, i);
  }
}

/* ---- connecting ---------------------------------------------------------- */

static void connection_complete(vctl_controller *ctl, uint8_t status, const vlink *l,
                                const uint8_t peer_type, const uint8_t peer[6]) {
  uint8_t p[30];
  memset(p, 0, sizeof p);
  p[0] = status;
  if (l) {
    bk_put_le16(p + 1, l->handle);
    p[3] = 0; /* role: central */
  }
  p[4] = peer_type;
  memcpy(p + 5, peer, 6);
  uint16_t interval = l ? l->interval : 0, latency = l ? l->latency : 0,
           timeout = l ? l->timeout : 0;
  if (le_enabled(ctl, HCI_LE_ENH_CONN_COMPLETE)) {
    /* local and peer resolvable private addresses: none (zeros) */
    bk_put_le16(p + 23, interval);
    bk_put_le16(p + 25, latency);
    bk_put_le16(p + 27, timeout);
    p[29] = 0x00; /* central clock accuracy: 500 ppm */
    send_le_event(ctl, HCI_LE_ENH_CONN_COMPLETE, p, 30);
    return;
  }
  bk_put_le16(p + 11, interval);
  bk_put_le16(p + 13, latency);
  bk_put_le16(p + 15, timeout);
  p[17] = 0x00;
  send_le_event(ctl, HCI_LE_CONN_COMPLETE, p, 18);
}

/* The interval a link gets: the model's when the host's range allows it,
 * else the nearest the range allows; unlimited: the host's minimum. */
static uint16_t pick_interval(const vctl_controller *ctl, uint16_t min, uint16_t max) {
  if (!modeled(ctl))
    return min;
  uint32_t want = ctl->cfg.link.interval_us / 1250;
  return (uint16_t)(want < min ? min : want > max ? max : want);
}

static uint16_t new_handle(vctl_controller *ctl) {
  for (;;) {
    uint16_t h = ctl->next_handle;
    ctl->next_handle = (uint16_t)(h >= 0x0eff ? 1 : h + 1);
    if (!link_by_handle(ctl, h))
      return h;
  }
}

static void connect_to(vctl_controller *ctl, size_t periph) {
  const vctl_adv *a = vctl_peripheral_adv(ctl->periphs[periph]);
  vlink *l = NULL;
  for (size_t i = 0; i < MAX_LINKS && !l; i++)
    if (!ctl->links[i].used)
      l = &ctl->links[i];
  ctl->initiating = false;
  if (!l) {
    connection_complete(ctl, 0x09, NULL, a->addr_type, a->addr); /* limit exceeded */
    return;
  }
  memset(l, 0, sizeof *l);
  l->ctl = ctl;
  l->periph = periph;
  l->io.send = att_send;
  l->io.disconnect = att_disconnect;
  l->io.ctx = l;
  if (modeled(ctl)) {
    l->up_q = calloc(ctl->cfg.acl_buffers, sizeof *l->up_q);
    l->down = calloc(DOWN_SLOTS, sizeof *l->down);
  }
  l->att = vctl_att_conn_new(ctl->periphs[periph], ctl->cfg.att_mtu, &l->io);
  if (!l->att || (modeled(ctl) && (!l->up_q || !l->down))) {
    vctl_att_conn_free(l->att);
    free(l->up_q);
    free(l->down);
    memset(l, 0, sizeof *l);
    connection_complete(ctl, 0x07, NULL, a->addr_type, a->addr); /* no memory */
    return;
  }
  l->used = true;
  l->handle = new_handle(ctl);
  bk_l2cap_rx_init(&l->rx, BK_L2CAP_MAX_PDU);
  l->interval = pick_interval(ctl, ctl->init_min, ctl->init_max);
  l->latency = ctl->init_latency;
  l->timeout = ctl->init_timeout;
  l->tx_octets = l->rx_octets = 27;
  l->tx_time = l->rx_time = 328;
  l->tx_phy = l->rx_phy = 1;
  vctl_link_clock_start(&l->clock, l->interval * 1250u, 1, ctl->now * 1000);
  retime(l);
  ctl->stats.links++;
  connection_complete(ctl, 0, l, a->addr_type, a->addr);
}

/* Initiating: the first peripheral that matches and is on the air. */
static void initiate(vctl_controller *ctl) {
  if (!ctl->initiating)
    return;
  for (size_t i = 0; i < ctl->n_periphs; i++) {
    const vctl_adv *a = vctl_peripheral_adv(ctl->periphs[i]);
    if (!a || !a->connectable || !on_air(ctl, i))
      continue;
    bool match = ctl->init_accept_list
                     ? in_accept_list(ctl, a)
                     : (ctl->init_peer_type & 1) == a->addr_type && !memcmp(ctl->init_peer, a->addr, 6);
    if (match) {
      connect_to(ctl, i);
      return;
    }
  }
}

/* Connection parameters as the host gives them (Vol 4 Part E 7.8.12). */
static bool conn_params_ok(uint16_t min, uint16_t max, uint16_t latency, uint16_t timeout) {
  if (min < 6 || max > 3200 || min > max || latency > 499 || timeout < 10 || timeout > 3200)
    return false;
  /* The supervision timeout outlasts (1 + latency) intervals, twice. */
  return (uint32_t)timeout * 4 > (1u + latency) * max;
}

static bool scan_window_ok(uint16_t interval, uint16_t window) {
  return interval >= 4 && interval <= 0x4000 && window >= 4 && window <= interval;
}

/* ---- commands ------------------------------------------------------------ */

/* The commands we claim (Read Local Supported Commands: octet, bit). */
static const uint8_t supported_bits[][2] = {
    {0, 5},  /* Disconnect */
    {2, 7},  /* Read Remote Version Information */
    {5, 4},  /* Write Default Link Policy Settings */
    {5, 6},  /* Set Event Mask */
    {5, 7},  /* Reset */
    {6, 0},  /* Set Event Filter */
    {6, 5},  /* Read Stored Link Key */
    {6, 7},  /* Delete Stored Link Key */
    {7, 0},  /* Write Local Name */
    {7, 1},  /* Read Local Name */
    {14, 3}, /* Read Local Version Information */
    {14, 5}, /* Read Local Supported Features */
    {14, 6}, /* Read Local Extended Features */
    {14, 7}, /* Read Buffer Size */
    {15, 1}, /* Read BD_ADDR */
    {15, 5}, /* Read RSSI */
    {20, 4}, /* Read Encryption Key Size */
    {22, 2}, /* Set Event Mask Page 2 */
    {24, 5}, /* Read LE Host Support */
    {24, 6}, /* Write LE Host Support */
    {25, 0}, {25, 1}, {25, 2}, {25, 4}, {25, 5}, {25, 6}, {25, 7}, /* LE Set Event Mask .. Adv Data */
    {26, 0}, {26, 1}, {26, 2}, {26, 3}, {26, 4}, {26, 5}, {26, 6}, {26, 7}, /* .. Clear FAL */
    {27, 0}, {27, 1}, {27, 2}, {27, 3}, {27, 4}, {27, 5}, {27, 7}, /* FAL .. LE Rand */
    {28, 0}, {28, 1}, {28, 2}, {28, 3}, /* Start Encryption, LTK replies, States */
    {32, 3}, {32, 4}, {32, 5},          /* Write SC Host Support, Auth Payload Timeout */
    {33, 4}, {33, 5}, {33, 6}, {33, 7}, /* Remote Conn Param replies, Data Length */
    {34, 0}, {34, 3}, {34, 4}, {34, 5}, {34, 6}, /* Suggested DL, resolving list */
    {35, 1}, {35, 2}, {35, 3}, {35, 4}, {35, 5}, {35, 6}, /* resolution .. Set PHY */
    {38, 7},                            /* LE Read Transmit Power */
    {39, 2},                            /* LE Set Privacy Mode */
    {41, 5},                            /* LE Read Buffer Size v2 */
};
static const uint8_t supported_ext_bits[][2] = {
    {36, 1}, {36, 2}, {36, 3}, {36, 4}, {36, 5}, {36, 6}, {36, 7}, /* extended advertising */
    {37, 0}, {37, 1}, {37, 5}, {37, 6}, {37, 7}, /* sets, ext scan, ext create conn */
};

static void supported_commands(const vctl_controller *ctl, uint8_t out[64]) {
  memset(out, 0, 64);
  for (size_t i = 0; i < sizeof supported_bits / sizeof supported_bits[0]; i++)
    out[supported_bits[i][0]] |= (uint8_t)(1u << supported_bits[i][1]);
  if (ctl->cfg.extended)
    for (size_t i = 0; i < sizeof supported_ext_bits / sizeof supported_ext_bits[0]; i++)
      out[supported_ext_bits[i][0]] |= (uint8_t)(1u << supported_ext_bits[i][1]);
}

static void le_features(const vctl_controller *ctl, uint8_t out[8]) {
  memset(out, 0, 8);
  /* Encryption, Connection Parameters Request, Extended Reject Indication,
   * Peripheral-initiated Features Exchange, Data Packet Length Extension;
   * 2M PHY; Extended Advertising (when configured). */
  out[0] = 0x01 | 0x02 | 0x04 | 0x08 | 0x20;
  out[1] = (uint8_t)(0x01 | (ctl->cfg.extended ? 0x10 : 0));
}

static uint64_t next_rand(vctl_controller *ctl) {
  /* xorshift64*: deterministic per seed, which tests want. */
  uint64_t x = ctl->rand_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  ctl->rand_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static void reset(vctl_controller *ctl) {
  for (size_t i = 0; i < MAX_LINKS; i++)
    if (ctl->links[i].used)
      free_link(ctl, &ctl->links[i]);
  ctl->stats.links = 0;
  ctl->event_mask = 0x00001fffffffffffULL;
  ctl->event_mask2 = 0;
  ctl->le_mask = 0x1f;
  ctl->scanning = ctl->scan_active = ctl->scan_ext = ctl->scan_filter_dup = false;
  ctl->scan_accept_list = false;
  ctl->scan_end = 0;
  ctl->initiating = false;
  ctl->n_accept = ctl->n_resolving = 0;
  ctl->sugg_tx_octets = 27;
  ctl->sugg_tx_time = 328;
}

static bool list_add(vctl_controller *ctl, const uint8_t *p) {
  for (size_t i = 0; i < ctl->n_accept; i++)
    if (ctl->accept[i].type == p[0] && !memcmp(ctl->accept[i].addr, p + 1, 6))
      return true;
  if (ctl->n_accept == LIST_SIZE)
    return false;
  ctl->accept[ctl->n_accept].type = p[0];
  memcpy(ctl->accept[ctl->n_accept].addr, p + 1, 6);
  ctl->n_accept++;
  return true;
}

static void list_remove(vctl_controller *ctl, const uint8_t *p) {
  for (size_t i = 0; i < ctl->n_accept; i++)
    if (ctl->accept[i].type == p[0] && !memcmp(ctl->accept[i].addr, p + 1, 6)) {
      ctl->accept[i] = ctl->accept[--ctl->n_accept];
      return;
    }
}

/* Commands answered with a status alone, with the length they take
 * (-1: any, -2: at least one byte). Their state does not matter to the
 * air we simulate (our own advertising: nobody scans for it). */
static int plain_command_len(uint16_t op) {
  switch (op) {
  case HCI_OP_WRITE_DEFAULT_LINK_POLICY: return 2;
  case HCI_OP_SET_EVENT_FILTER: return -2;
  case HCI_OP_WRITE_LOCAL_NAME: return 248;
  case HCI_OP_SET_EVENT_MASK_PAGE2: return 8;
  case HCI_OP_WRITE_LE_HOST_SUPPORTED: return 2;
  case HCI_OP_WRITE_SC_SUPPORT: return 1;
  case HCI_OP_LE_SET_RANDOM_ADDR: return 6;
  case HCI_OP_LE_SET_ADV_PARAMS: return 15;
  case HCI_OP_LE_SET_ADV_DATA: return 32;
  case HCI_OP_LE_SET_SCAN_RSP_DATA: return 32;
  case HCI_OP_LE_SET_ADV_ENABLE: return 1;
  case HCI_OP_LE_SET_HOST_CHANNEL_CLASS: return 5;
  case HCI_OP_LE_WRITE_SUGGESTED_DL: return 4;
  case HCI_OP_LE_ADD_RESOLVING_LIST: return 39;
  case HCI_OP_LE_REMOVE_RESOLVING_LIST: return 7;
  case HCI_OP_LE_SET_ADDR_RESOLUTION: return 1;
  case HCI_OP_LE_SET_RPA_TIMEOUT: return 2;
  case HCI_OP_LE_SET_DEFAULT_PHY: return 3;
  case HCI_OP_LE_SET_PRIVACY_MODE: return 8;
  case HCI_OP_LE_SET_ADV_SET_RANDOM_ADDR: return 7;
  case HCI_OP_LE_SET_EXT_ADV_DATA: return -2;
  case HCI_OP_LE_SET_EXT_SCAN_RSP_DATA: return -2;
  case HCI_OP_LE_SET_EXT_ADV_ENABLE: return -2;
  case HCI_OP_LE_REMOVE_ADV_SET: return 1;
  case HCI_OP_LE_CLEAR_ADV_SETS: return 0;
  default: return -3; /* not one of these */
  }
}

static bool is_ext_only(uint16_t op) {
  return op >= HCI_OP_LE_SET_ADV_SET_RANDOM_ADDR && op <= HCI_OP_LE_EXT_CREATE_CONN;
}

/* Commands answered with Command Status (their outcome is an event). */
static bool answered_by_status(uint16_t op) {
  switch (op) {
  case HCI_OP_DISCONNECT:
  case HCI_OP_READ_REMOTE_VERSION:
  case HCI_OP_LE_CREATE_CONN:
  case HCI_OP_LE_CONN_UPDATE:
  case HCI_OP_LE_READ_REMOTE_FEATURES:
  case HCI_OP_LE_START_ENCRYPTION:
  case HCI_OP_LE_SET_PHY:
  case HCI_OP_LE_EXT_CREATE_CONN:
    return true;
  default:
    return false;
  }
}

/* The scan parameters of the legacy and the extended command (stored
 * only for their checks: every advertisement is heard). */
static uint8_t set_scan_params(vctl_controller *ctl, bool ext, const uint8_t *p, size_t len) {
  if (ctl->scanning)
    return 0x0c;
  if (!ext) {
    if (len != 7)
      return 0x12;
    if (p[0] > 1 || !scan_window_ok(bk_get_le16(p + 1), bk_get_le16(p + 3)) || p[5] > 3 ||
        p[6] > 3)
      return 0x12;
    ctl->scan_active = p[0] == 1;
    ctl->scan_accept_list = p[6] & 1;
    return 0;
  }
  if (len < 3 || p[0] > 3 || p[1] > 3 || !(p[2] & 0x05) || (p[2] & ~0x05))
    return 0x12;
  size_t n = (size_t)((p[2] & 1) + ((p[2] >> 2) & 1));
  if (len != 3 + 5 * n)
    return 0x12;
  bool active = false;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *q = p + 3 + 5 * i;
    if (q[0] > 1 || !scan_window_ok(bk_get_le16(q + 1), bk_get_le16(q + 3)))
      return 0x12;
    active |= q[0] == 1;
  }
  ctl->scan_active = active;
  ctl->scan_accept_list = p[1] & 1;
  return 0;
}

static uint8_t set_scan_enable(vctl_controller *ctl, bool ext, const uint8_t *p, size_t len) {
  if (len != (ext ? 6u : 2u) || p[0] > 1 || p[1] > (ext ? 2 : 1))
    return 0x12;
  if (!p[0]) {
    ctl->scanning = false;
    ctl->scan_end = 0;
    return 0;
  }
  ctl->scan_ext = ext;
  ctl->scan_filter_dup = p[1] != 0;
  uint16_t duration = ext ? bk_get_le16(p + 2) : 0;
  if (!ctl->scanning)
    scan_start(ctl);
  ctl->scan_end = duration ? ctl->now + duration * 10ull : 0;
  return 0;
}

/* LE Create Connection (25 bytes) and LE Extended Create Connection
 * (10 + 16 per initiating PHY). @return the Command Status. */
static uint8_t create_connection(vctl_controller *ctl, bool ext, const uint8_t *p, size_t len) {
  uint8_t filter, peer_type;
  const uint8_t *peer, *conn;
  if (!ext) {
    if (len != 25)
      return 0x12;
    if (!scan_window_ok(bk_get_le16(p), bk_get_le16(p + 2)))
      return 0x12;
    filter = p[4];
    peer_type = p[5];
    peer = p + 6;
    if (p[12] > 3)
      return 0x12;
    conn = p + 13;
  } else {
    if (len < 10)
      return 0x12;
    filter = p[0];
    if (p[1] > 3)
      return 0x12;
    peer_type = p[2];
    peer = p + 3;
    uint8_t phys = p[9];
    if (!phys || (phys & ~0x07))
      return 0x12;
    size_t n = (size_t)((phys & 1) + ((phys >> 1) & 1) + ((phys >> 2) & 1));
    if (len != 10 + 16 * n)
      return 0x12;
    if (!scan_window_ok(bk_get_le16(p + 10), bk_get_le16(p + 12)) && (phys & 1))
      return 0x12;
    conn = p + 14;
  }
  if (filter > 1 || peer_type > 3)
    return 0x12;
  uint16_t min = bk_get_le16(conn), max = bk_get_le16(conn + 2),
           latency = bk_get_le16(conn + 4), timeout = bk_get_le16(conn + 6);
  if (!conn_params_ok(min, max, latency, timeout))
    return 0x12;
  if (ctl->initiating)
    return 0x0c; /* Command Disallowed */
  ctl->initiating = true;
  ctl->init_ext = ext;
  ctl->init_accept_list = filter == 1;
  ctl->init_peer_type = peer_type;
  memcpy(ctl->init_peer, peer, 6);
  ctl->init_min = min;
  ctl->init_max = max;
  ctl->init_latency = latency;
  ctl->init_timeout = timeout;
  return 0;
}

/* The commands on a link that answer with a status, then an event. */
static void link_command(vctl_controller *ctl, uint16_t op, const uint8_t *p, size_t len) {
  vlink *l = len >= 2 ? link_by_handle(ctl, bk_get_le16(p) & 0x0fff) : NULL;
  if (!l) {
    cmd_status(ctl, op, 0x02); /* Unknown Connection Identifier */
    return;
  }
  switch (op) {
  case HCI_OP_DISCONNECT: {
    uint8_t r = p[2];
    if (r != 0x05 && r != 0x13 && r != 0x14 && r != 0x15 && r != 0x1a && r != 0x29 && r != 0x3b) {
      cmd_status(ctl, op, 0x12);
      return;
    }
    cmd_status(ctl, op, 0);
    disconnection_complete(ctl, l, 0x16); /* Connection Terminated By Local Host */
    return;
  }
  case HCI_OP_READ_REMOTE_VERSION: {
    cmd_status(ctl, op, 0);
    uint8_t e[8] = {0};
    bk_put_le16(e + 1, l->handle);
    e[3] = HCI_VERSION;
    bk_put_le16(e + 4, MANUFACTURER);
    send_event(ctl, HCI_EV_REMOTE_VERSION, e, sizeof e);
    return;
  }
  case HCI_OP_LE_READ_REMOTE_FEATURES: {
    cmd_status(ctl, op, 0);
    uint8_t e[11] = {0};
    bk_put_le16(e + 1, l->handle);
    le_features(ctl, e + 3);
    send_le_event(ctl, HCI_LE_REMOTE_FEATURES, e, sizeof e);
    return;
  }
  case HCI_OP_LE_CONN_UPDATE: {
    uint16_t min = bk_get_le16(p + 2), max = bk_get_le16(p + 4), lat = bk_get_le16(p + 6),
             to = bk_get_le16(p + 8);
    if (!conn_params_ok(min, max, lat, to)) {
      cmd_status(ctl, op, 0x12);
      return;
    }
    cmd_status(ctl, op, 0);
    l->interval = pick_interval(ctl, min, max);
    l->latency = lat;
    l->timeout = to;
    retime(l);
    uint8_t e[9] = {0};
    bk_put_le16(e + 1, l->handle);
    bk_put_le16(e + 3, l->interval);
    bk_put_le16(e + 5, l->latency);
    bk_put_le16(e + 7, l->timeout);
    send_le_event(ctl, HCI_LE_CONN_UPDATE_COMPLETE, e, sizeof e);
    return;
  }
  case HCI_OP_LE_START_ENCRYPTION: {
    /* Our peripherals keep no keys: the peer rejects the key (LL_REJECT
     * "PIN or Key Missing"), the link stays as it was. */
    cmd_status(ctl, op, 0);
    uint8_t e[4] = {0x06};
    bk_put_le16(e + 1, l->handle);
    e[3] = 0;
    send_event(ctl, HCI_EV_ENCRYPT_CHANGE, e, sizeof e);
    return;
  }
  case HCI_OP_LE_SET_PHY: {
    uint8_t all = p[2], tx = p[3], rx = p[4];
    if ((!(all & 1) && !tx) || (!(all & 2) && !rx)) {
      cmd_status(ctl, op, 0x12);
      return;
    }
    cmd_status(ctl, op, 0);
    uint8_t max = modeled(ctl) ? ctl->cfg.link.phy : 2;
    l->tx_phy = (all & 1) || (tx & 2) ? max : 1;
    l->rx_phy = (all & 2) || (rx & 2) ? max : 1;
    retime(l);
    uint8_t e[5] = {0};
    bk_put_le16(e + 1, l->handle);
    e[3] = l->tx_phy;
    e[4] = l->rx_phy;
    send_le_event(ctl, HCI_LE_PHY_UPDATE_COMPLETE, e, sizeof e);
    return;
  }
  default:
    cmd_status(ctl, op, 0x01);
    return;
  }
}

/* The length each link command takes (its handle first). */
static size_t link_command_len(uint16_t op) {
  switch (op) {
  case HCI_OP_DISCONNECT: return 3;
  case HCI_OP_LE_CONN_UPDATE: return 14;
  case HCI_OP_LE_START_ENCRYPTION: return 28;
  case HCI_OP_LE_SET_PHY: return 7;
  default: return 2;
  }
}

static void set_data_length(vctl_controller *ctl, uint16_t op, const uint8_t *p, size_t len) {
  if (len != 6) {
    cmd_status_byte(ctl, op, 0x12);
    return;
  }
  uint16_t handle = bk_get_le16(p) & 0x0fff, octets = bk_get_le16(p + 2),
           time = bk_get_le16(p + 4);
  vlink *l = link_by_handle(ctl, handle);
  if (!l) {
    cmd_complete_handle(ctl, op, 0x02, handle);
    return;
  }
  if (octets < 27 || octets > 251 || time < 328 || time > 17040) {
    cmd_complete_handle(ctl, op, 0x12, handle);
    return;
  }
  cmd_complete_handle(ctl, op, 0, handle);
  /* The peer takes 251 octets both ways: the exchange settles on what
   * this side asked for its sending, and the peer's maximum back. */
  bool changed = l->tx_octets != octets || l->rx_octets != LL_MAX;
  l->tx_octets = octets;
  l->tx_time = time;
  l->rx_octets = LL_MAX;
  l->rx_time = 2120;
  retime(l);
  if (!changed)
    return;
  uint8_t e[10];
  bk_put_le16(e, handle);
  bk_put_le16(e + 2, l->tx_octets);
  bk_put_le16(e + 4, l->tx_time);
  bk_put_le16(e + 6, l->rx_octets);
  bk_put_le16(e + 8, l->rx_time);
  send_le_event(ctl, HCI_LE_DATA_LENGTH_CHANGE, e, sizeof e);
}

/* Commands on a link answered with Command Complete: status, handle, ... */
static void link_query(vctl_controller *ctl, uint16_t op, const uint8_t *p, size_t len) {
  size_t want = op == HCI_OP_WRITE_AUTH_PAYLOAD_TIMEOUT  ? 4
                : op == HCI_OP_LE_LTK_REPLY              ? 18
                : op == HCI_OP_LE_REMOTE_PARAM_REPLY     ? 14
                : op == HCI_OP_LE_REMOTE_PARAM_NEG_REPLY ? 3
                                                         : 2;
  if (len != want) {
    cmd_status_byte(ctl, op, 0x12);
    return;
  }
  uint16_t handle = bk_get_le16(p) & 0x0fff;
  vlink *l = link_by_handle(ctl, handle);
  if (!l) {
    cmd_complete_handle(ctl, op, 0x02, handle);
    return;
  }
  uint8_t r[8] = {0};
  bk_put_le16(r + 1, handle);
  size_t n = 3;
  switch (op) {
  case HCI_OP_READ_RSSI:
    r[3] = (uint8_t)RSSI;
    n = 4;
    break;
  case HCI_OP_READ_ENCRYPTION_KEY_SIZE:
    r[0] = 0x06; /* never encrypted: no key */
    break;
  case HCI_OP_READ_AUTH_PAYLOAD_TIMEOUT:
    bk_put_le16(r + 3, 3000);
    n = 5;
    break;
  case HCI_OP_LE_READ_PHY:
    r[3] = l->tx_phy;
    r[4] = l->rx_phy;
    n = 5;
    break;
  case HCI_OP_LE_READ_CHANNEL_MAP:
    memset(r + 3, 0xff, 4);
    r[7] = 0x1f;
    n = 8;
    break;
  default: /* LTK replies, Remote Connection Parameter replies: we are
            * never the peripheral that asks */
    r[0] = 0x0c;
    break;
  }
  cmd_complete(ctl, op, r, n);
}

static bool is_link_query(uint16_t op) {
  switch (op) {
  case HCI_OP_READ_RSSI:
  case HCI_OP_READ_ENCRYPTION_KEY_SIZE:
  case HCI_OP_READ_AUTH_PAYLOAD_TIMEOUT:
  case HCI_OP_WRITE_AUTH_PAYLOAD_TIMEOUT:
  case HCI_OP_LE_READ_PHY:
  case HCI_OP_LE_READ_CHANNEL_MAP:
  case HCI_OP_LE_LTK_REPLY:
  case HCI_OP_LE_LTK_NEG_REPLY:
  case HCI_OP_LE_REMOTE_PARAM_REPLY:
  case HCI_OP_LE_REMOTE_PARAM_NEG_REPLY:
    return true;
  default:
    return false;
  }
}

/* Commands whose only return is data about the controller. */
static bool info_command(vctl_controller *ctl, uint16_t op, const uint8_t *p, size_t len) {
  uint8_t r[1 + 248] = {0};
  size_t n = 1;
  size_t want = 0;
  switch (op) {
  case HCI_OP_READ_LOCAL_VERSION:
    r[1] = HCI_VERSION;
    r[4] = HCI_VERSION;
    bk_put_le16(r + 5, MANUFACTURER);
    n = 9;
    break;
  case HCI_OP_READ_LOCAL_COMMANDS:
    supported_commands(ctl, r + 1);
    n = 65;
    break;
  case HCI_OP_READ_LOCAL_FEATURES:
    r[1 + 4] = 0x60; /* BR/EDR Not Supported, LE Supported (Controller) */
    n = 9;
    break;
  case HCI_OP_READ_LOCAL_EXT_FEATURES:
    want = 1;
    if (len == 1) {
      r[1] = p[0];
      r[2] = 0; /* page 0 is all there is */
      if (p[0] == 0)
        r[3 + 4] = 0x60;
    }
    n = 11;
    break;
  case HCI_OP_READ_BUFFER_SIZE:
  case HCI_OP_LE_READ_BUFFER_SIZE:
  case HCI_OP_LE_READ_BUFFER_SIZE_V2:
    bk_put_le16(r + 1, ctl->cfg.acl_size);
    if (op == HCI_OP_READ_BUFFER_SIZE) {
      bk_put_le16(r + 4, ctl->cfg.acl_buffers); /* no SCO */
      n = 8;
    } else {
      r[3] = (uint8_t)ctl->cfg.acl_buffers;
      n = op == HCI_OP_LE_READ_BUFFER_SIZE ? 4 : 7; /* no ISO */
    }
    break;
  case HCI_OP_READ_BD_ADDR:
    memcpy(r + 1, ctl->cfg.bdaddr, 6);
    n = 7;
    break;
  case HCI_OP_READ_LOCAL_NAME:
    memcpy(r + 1, "bleak-vctl", 10);
    n = 249;
    break;
  case HCI_OP_READ_LE_HOST_SUPPORTED:
    r[1] = 1;
    n = 3;
    break;
  case HCI_OP_READ_STORED_LINK_KEY:
  case HCI_OP_DELETE_STORED_LINK_KEY:
    want = 7;
    n = op == HCI_OP_READ_STORED_LINK_KEY ? 5 : 3; /* no keys */
    break;
  case HCI_OP_LE_READ_LOCAL_FEATURES:
    le_features(ctl, r + 1);
    n = 9;
    break;
  case HCI_OP_LE_READ_ADV_TX_POWER:
    n = 2;
    break;
  case HCI_OP_LE_READ_ACCEPT_LIST_SIZE:
  case HCI_OP_LE_READ_RESOLVING_LIST_SIZE:
    r[1] = LIST_SIZE;
    n = 2;
    break;
  case HCI_OP_LE_RAND: {
    uint64_t v = next_rand(ctl);
    for (int i = 0; i < 8; i++)
      r[1 + i] = (uint8_t)(v >> (8 * i));
    n = 9;
    break;
  }
  case HCI_OP_LE_READ_SUPPORTED_STATES:
    memset(r + 1, 0xff, 5);
    r[6] = 0x03;
    n = 9;
    break;
  case HCI_OP_LE_READ_SUGGESTED_DL:
    bk_put_le16(r + 1, ctl->sugg_tx_octets);
    bk_put_le16(r + 3, ctl->sugg_tx_time);
    n = 5;
    break;
  case HCI_OP_LE_READ_MAX_DL:
    bk_put_le16(r + 1, LL_MAX);
    bk_put_le16(r + 3, 2120);
    bk_put_le16(r + 5, LL_MAX);
    bk_put_le16(r + 7, 2120);
    n = 9;
    break;
  case HCI_OP_LE_READ_TX_POWER:
    r[1] = (uint8_t)-20;
    r[2] = 10;
    n = 3;
    break;
  case HCI_OP_LE_READ_MAX_ADV_DATA_LEN:
    bk_put_le16(r + 1, 1650);
    n = 3;
    break;
  case HCI_OP_LE_READ_NUM_ADV_SETS:
    r[1] = 4;
    n = 2;
    break;
  case HCI_OP_LE_SET_EXT_ADV_PARAMS:
    want = 25;
    r[1] = 0; /* selected TX power: 0 dBm */
    n = 2;
    break;
  default:
    return false;
  }
  if (len != want) {
    cmd_status_byte(ctl, op, 0x12);
    return true;
  }
  cmd_complete(ctl, op, r, n);
  return true;
}

static void on_command(vctl_controller *ctl, const uint8_t *pkt, size_t len) {
  ctl->stats.commands++;
  if (len < 3)
    return; /* the framer never delivers less: nothing to answer */
  uint16_t op = bk_get_le16(pkt);
  const uint8_t *p = pkt + 3;
  size_t plen = len - 3;
  if (plen != pkt[2]) { /* the framer checks it; kept for callers that do not */
    ctl->stats.bad_commands++;
    if (answered_by_status(op))
      cmd_status(ctl, op, 0x12);
    else
      cmd_status_byte(ctl, op, 0x12);
    return;
  }
  if (!ctl->cfg.extended && is_ext_only(op)) {
    ctl->stats.unknown_commands++;
    cmd_status_byte(ctl, op, 0x01);
    return;
  }
  int plain = plain_command_len(op);
  if (plain != -3) {
    bool ok = plain == -1 || (plain == -2 ? plen >= 1 : plen == (size_t)plain);
    if (!ok)
      ctl->stats.bad_commands++;
    cmd_status_byte(ctl, op, ok ? 0 : 0x12);
    return;
  }
  if (info_command(ctl, op, p, plen))
    return;
  if (answered_by_status(op) && op != HCI_OP_LE_CREATE_CONN && op != HCI_OP_LE_EXT_CREATE_CONN) {
    if (plen != link_command_len(op)) {
      ctl->stats.bad_commands++;
      cmd_status(ctl, op, 0x12);
      return;
    }
    link_command(ctl, op, p, plen);
    return;
  }
  if (is_link_query(op)) {
    link_query(ctl, op, p, plen);
    return;
  }
  uint8_t st;
  switch (op) {
  case HCI_OP_RESET:
    reset(ctl);
    cmd_status_byte(ctl, op, plen == 0 ? 0 : 0x12);
    return;
  case HCI_OP_SET_EVENT_MASK:
  case HCI_OP_LE_SET_EVENT_MASK:
    if (plen != 8) {
      cmd_status_byte(ctl, op, 0x12);
      return;
    }
    if (op == HCI_OP_SET_EVENT_MASK)
      ctl->event_mask = (uint64_t)bk_get_le32(p) | (uint64_t)bk_get_le32(p + 4) << 32;
    else
      ctl->le_mask = (uint64_t)bk_get_le32(p) | (uint64_t)bk_get_le32(p + 4) << 32;
    cmd_status_byte(ctl, op, 0);
    return;
  case HCI_OP_LE_SET_SCAN_PARAMS:
  case HCI_OP_LE_SET_EXT_SCAN_PARAMS:
    cmd_status_byte(ctl, op, set_scan_params(ctl, op == HCI_OP_LE_SET_EXT_SCAN_PARAMS, p, plen));
    return;
  case HCI_OP_LE_SET_SCAN_ENABLE:
  case HCI_OP_LE_SET_EXT_SCAN_ENABLE:
    cmd_status_byte(ctl, op, set_scan_enable(ctl, op == HCI_OP_LE_SET_EXT_SCAN_ENABLE, p, plen));
    return;
  case HCI_OP_LE_CREATE_CONN:
  case HCI_OP_LE_EXT_CREATE_CONN:
    st = create_connection(ctl, op == HCI_OP_LE_EXT_CREATE_CONN, p, plen);
    cmd_status(ctl, op, st);
    return; /* initiate() runs when the command is answered (finish) */
  case HCI_OP_LE_CREATE_CONN_CANCEL:
    if (plen != 0) {
      cmd_status_byte(ctl, op, 0x12);
      return;
    }
    if (!ctl->initiating) {
      cmd_status_byte(ctl, op, 0x0c);
      return;
    }
    ctl->initiating = false;
    cmd_status_byte(ctl, op, 0);
    connection_complete(ctl, 0x02, NULL, ctl->init_peer_type, ctl->init_peer);
    return;
  case HCI_OP_LE_CLEAR_ACCEPT_LIST:
    ctl->n_accept = 0;
    cmd_status_byte(ctl, op, plen == 0 ? 0 : 0x12);
    return;
  case HCI_OP_LE_CLEAR_RESOLVING_LIST:
    ctl->n_resolving = 0;
    cmd_status_byte(ctl, op, plen == 0 ? 0 : 0x12);
    return;
  case HCI_OP_LE_ADD_ACCEPT_LIST:
  case HCI_OP_LE_REMOVE_ACCEPT_LIST:
    if (plen != 7 || p[0] > 1) {
      cmd_status_byte(ctl, op, 0x12);
      return;
    }
    if (op == HCI_OP_LE_REMOVE_ACCEPT_LIST) {
      list_remove(ctl, p);
      cmd_status_byte(ctl, op, 0);
    } else {
      cmd_status_byte(ctl, op, list_add(ctl, p) ? 0 : 0x07); /* Memory Capacity Exceeded */
    }
    return;
  case HCI_OP_LE_SET_DATA_LENGTH:
    set_data_length(ctl, op, p, plen);
    return;
  default:
    ctl->stats.unknown_commands++;
    BK_DEBUG(MOD, "unknown command 0x%04x", op);
    cmd_status_byte(ctl, op, 0x01);
    return;
  }
}

/* ---- ACL from the host --------------------------------------------------- */

static void on_acl(vctl_controller *ctl, const uint8_t *pkt, size_t len) {
  uint16_t handle;
  uint8_t pb;
  const uint8_t *data;
  size_t dlen;
  ctl->stats.acl_in++;
  if (bk_acl_parse(pkt, len, &handle, &pb, &data, &dlen) != 0) {
    ctl->stats.acl_dropped++;
    return;
  }
  vlink *l = link_by_handle(ctl, handle);
  if (!l) {
    ctl->stats.acl_dropped++;
    BK_DEBUG(MOD, "ACL data for unknown handle 0x%03x dropped", handle);
    return;
  }
  if (dlen > ctl->cfg.acl_size || !modeled(ctl) || !ctl->n_up_free) {
    /* Longer than our buffers, or more packets than we have buffers
     * for: the host broke the flow control. Dropped, its credit given
     * back so the host's count stays right. */
    if (dlen > ctl->cfg.acl_size || (modeled(ctl) && !ctl->n_up_free)) {
      ctl->stats.acl_dropped++;
      BK_WARN(MOD, "ACL packet of %zu bytes on link 0x%03x dropped (%s)", dlen, handle,
              dlen > ctl->cfg.acl_size ? "longer than the buffers" : "no buffer free");
    } else {
      acl_deliver(ctl, l, pb, data, dlen);
    }
    l = link_by_handle(ctl, handle);
    if (l)
      l->completed++;
    return;
  }
  /* Modeled: the packet waits for the air; the events before it first. */
  service_link(ctl, l);
  if (!l->used)
    return;
  uint16_t slot = ctl->up_free[--ctl->n_up_free];
  memcpy(ctl->up_data + (size_t)slot * ctl->cfg.acl_size, data, dlen);
  ctl->up_len[slot] = (uint16_t)dlen;
  ctl->up_pb[slot] = pb;
  l->up_q[(l->up_head + l->up_count) % ctl->cfg.acl_buffers] = slot;
  if (l->up_count++ == 0) {
    uint16_t o = ll_octets(l, true);
    l->up_ll_left = dlen ? (unsigned)((dlen + o - 1) / o) : 1;
  }
}

/* ---- entry points -------------------------------------------------------- */

static void on_packet(void *user, uint8_t type, const uint8_t *pkt, size_t len) {
  vctl_controller *ctl = user;
  if (type == BK_H4_COMMAND)
    on_command(ctl, pkt, len);
  else if (type == BK_H4_ACL)
    on_acl(ctl, pkt, len);
  else
    ctl->stats.acl_dropped++;
}

/* What every entry point ends with: links the peripherals dropped,
 * connections to make, and the credits that came back, in one event. */
static void finish(vctl_controller *ctl) {
  for (size_t i = 0; i < MAX_LINKS; i++)
    if (ctl->links[i].used && ctl->links[i].drop_reason)
      disconnection_complete(ctl, &ctl->links[i], ctl->links[i].drop_reason);
  initiate(ctl);
  uint8_t p[1 + 4 * 16];
  size_t n = 0;
  for (size_t i = 0; i < MAX_LINKS; i++) {
    vlink *l = &ctl->links[i];
    if (!l->used || !l->completed)
      continue;
    bk_put_le16(p + 1 + 4 * n, l->handle);
    bk_put_le16(p + 3 + 4 * n, (uint16_t)l->completed);
    l->completed = 0;
    n++;
  }
  if (n) {
    p[0] = (uint8_t)n;
    send_event(ctl, HCI_EV_NUM_COMPLETED, p, 1 + 4 * n);
  }
}

static void advance(vctl_controller *ctl, uint64_t now) {
  if (now > ctl->now)
    ctl->now = now;
}

void vctl_controller_input(vctl_controller *ctl, const uint8_t *bytes, size_t len,
                           uint64_t now_ms) {
  if (!ctl || (!bytes && len))
    return;
  advance(ctl, now_ms);
  bk_h4_feed(&ctl->h4, bytes, len);
  finish(ctl);
}

uint64_t vctl_controller_deadline(const vctl_controller *ctl) {
  uint64_t d = UINT64_MAX;
  if (!ctl)
    return d;
  if (ctl->scanning) {
    for (size_t i = 0; i < ctl->n_periphs; i++)
      if (ctl->adv[i].next_ms < d)
        d = ctl->adv[i].next_ms;
    if (ctl->scan_end && ctl->scan_end < d)
      d = ctl->scan_end;
  }
  for (size_t i = 0; i < MAX_LINKS; i++) {
    const vlink *l = &ctl->links[i];
    if (!l->used)
      continue;
    if (modeled(ctl) && (l->up_count || (l->down_count && !ctl->blocked))) {
      uint64_t e = vctl_link_clock_next_ms(&l->clock);
      if (e < d)
        d = e;
    }
    uint64_t a = vctl_att_conn_deadline(l->att);
    if (a < d)
      d = a;
  }
  return d;
}

void vctl_controller_tick(vctl_controller *ctl, uint64_t now_ms) {
  if (!ctl)
    return;
  advance(ctl, now_ms);
  scan_run(ctl);
  for (size_t i = 0; i < MAX_LINKS; i++) {
    vlink *l = &ctl->links[i];
    if (l->used && modeled(ctl))
      service_link(ctl, l);
    if (l->used && !l->drop_reason && vctl_att_conn_deadline(l->att) <= ctl->now)
      vctl_att_conn_tick(l->att, ctl->now);
  }
  finish(ctl);
}

void vctl_controller_set_blocked(vctl_controller *ctl, bool blocked, uint64_t now_ms) {
  if (!ctl)
    return;
  advance(ctl, now_ms);
  bool was = ctl->blocked;
  ctl->blocked = blocked;
  if (was && !blocked)
    for (size_t i = 0; i < MAX_LINKS; i++) {
      vlink *l = &ctl->links[i];
      if (l->used && l->want_writable && !l->drop_reason) {
        l->want_writable = false;
        vctl_att_conn_writable(l->att, ctl->now);
      }
    }
  finish(ctl);
}

void vctl_controller_hardware_error(vctl_controller *ctl, uint8_t code, uint64_t now_ms) {
  if (!ctl)
    return;
  advance(ctl, now_ms);
  send_event(ctl, HCI_EV_HARDWARE_ERROR, &code, 1);
}

void vctl_controller_lose_state(vctl_controller *ctl, uint64_t now_ms) {
  if (!ctl)
    return;
  advance(ctl, now_ms);
  /* What HCI Reset does, without its Command Complete: the host learns
   * of it only from the Hardware Error, as from a rebooted chip. */
  reset(ctl);
  vctl_controller_hardware_error(ctl, 0x01, now_ms);
}

int vctl_controller_disconnect_peripheral(vctl_controller *ctl, size_t periph, uint8_t reason,
                                          uint64_t now_ms) {
  if (!ctl || periph >= ctl->n_periphs)
    return -1;
  advance(ctl, now_ms);
  vlink *l = link_of_periph(ctl, periph);
  if (!l)
    return 0;
  /* The path of a drop the ATT server asks for: finish() ends it. */
  if (!l->drop_reason)
    l->drop_reason = reason ? reason : 0x13; /* 0 is no reason: remote user */
  finish(ctl);
  return 1;
}

void vctl_controller_stats_get(const vctl_controller *ctl, vctl_controller_stats *out) {
  *out = ctl->stats;
}

void vctl_controller_config_init(vctl_controller_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  static const uint8_t addr[6] = {0x01, 0x00, 0x5a, 0x1c, 0x7c, 0x00}; /* 00:7C:1C:5A:00:01 */
  memcpy(cfg->bdaddr, addr, 6);
  cfg->acl_buffers = 8;
  cfg->acl_size = 251;
  cfg->extended = true;
  cfg->att_mtu = 517;
  cfg->scan_first_ms = 1;
  vctl_link_params_init(&cfg->link);
  cfg->seed = 0x5eed;
}

vctl_controller *vctl_controller_new(const vctl_controller_config *cfg,
                                     vctl_peripheral *const *peripherals, size_t n,
                                     vctl_output_fn out, void *user) {
  vctl_controller_config defaults;
  if (!cfg) {
    vctl_controller_config_init(&defaults);
    cfg = &defaults;
  }
  if (!out || (n && !peripherals) || cfg->acl_buffers < 1 || cfg->acl_buffers > 255 ||
      cfg->acl_size < 27 || cfg->acl_size > BK_H4_MAX_ACL || cfg->att_mtu < 23 ||
      cfg->att_mtu > 517)
    return NULL;
  vctl_controller *ctl = calloc(1, sizeof *ctl);
  if (!ctl)
    return NULL;
  ctl->cfg = *cfg;
  ctl->out = out;
  ctl->user = user;
  ctl->n_periphs = n;
  ctl->periphs = calloc(n ? n : 1, sizeof *ctl->periphs);
  ctl->adv = calloc(n ? n : 1, sizeof *ctl->adv);
  size_t slots = cfg->acl_buffers;
  ctl->up_data = malloc(slots * cfg->acl_size);
  ctl->up_len = calloc(slots, sizeof *ctl->up_len);
  ctl->up_pb = calloc(slots, 1);
  ctl->up_free = calloc(slots, sizeof *ctl->up_free);
  if (!ctl->periphs || !ctl->adv || !ctl->up_data || !ctl->up_len || !ctl->up_pb ||
      !ctl->up_free) {
    vctl_controller_free(ctl);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    ctl->periphs[i] = peripherals[i];
  for (size_t i = 0; i < slots; i++)
    ctl->up_free[i] = (uint16_t)i;
  ctl->n_up_free = slots;
  ctl->rand_state = cfg->seed ? cfg->seed : 1;
  ctl->next_handle = 1;
  bk_h4_init(&ctl->h4, on_packet, ctl);
  reset(ctl);
  return ctl;
}

void vctl_controller_free(vctl_controller *ctl) {
  if (!ctl)
    return;
  for (size_t i = 0; i < MAX_LINKS; i++)
    if (ctl->links[i].used)
      free_link(ctl, &ctl->links[i]);
  free(ctl->periphs);
  free(ctl->adv);
  free(ctl->up_data);
  free(ctl->up_len);
  free(ctl->up_pb);
  free(ctl->up_free);
  free(ctl);
}
