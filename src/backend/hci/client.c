/* SPDX-License-Identifier: MIT */
/*
 * The hci backend's client: a connection through our own host stack.
 * connect = (find the device by scanning when its address type is not
 * known yet) + LE Create Connection + Exchange MTU (517) + discovery; the
 * operations map onto GATT procedures (gatt_client.c) on the link's ATT
 * bearer (att_bearer.c). Pairing is not on this backend yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/att_bearer.h"
#include "backend/hci/controller.h"
#include "backend/hci/gatt_client.h"
#include "backend/hci/hci.h"
#include "bleak/error.h"
#include "core/ad.h"
#include "core/gatt_build.h"
#include "core/internal.h"
#include "core/queue.h"
#include "backend/hci/client_priv.h"

#define MOD "hci"


const char *bk_hci_transport_spec(const char *option) {
  if (option && *option)
    return option;
  const char *env = getenv("BLEAK_HCI");
  if (env && *env)
    return env;
  bk_fail(BLEAK_ERR_NO_BACKEND, "the hci backend needs a transport: set hci_transport or "
                                "BLEAK_HCI (unix:PATH, tcp:HOST:PORT, tty:DEV[:BAUD], hciN)");
  return NULL;
}

int bk_hci_parse_address(const char *s, uint8_t out[6]) {
  unsigned b[6];
  char tail;
  if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[5], &b[4], &b[3], &b[2], &b[1], &b[0],
                   &tail) != 6)
    return BLEAK_ERR_INVALID_ARG;
  for (int i = 0; i < 6; i++)
    out[i] = (uint8_t)b[i];
  return 0;
}

void bk_hci_format_address(const uint8_t a[6], char out[18]) {
  snprintf(out, 18, "%02X:%02X:%02X:%02X:%02X:%02X", a[5], a[4], a[3], a[2], a[1], a[0]);
}

static void rediscover(hc *h, uint16_t start, uint16_t end);
static void cancel_background(hc *h);
static void cache_store(hc *h);

/* ---- ATT bearer glue ------------------------------------------------------ */

static int att_send(void *owner, const uint8_t *pdu, size_t len) {
  hc *h = owner;
  return bk_ctrl_send_att(&h->u, pdu, len);
}

/* A stream of notifications names one handle again and again: the last
 * one found is kept, before the collection's binary search. */
static const bleak_gatt_characteristic *char_by_value_handle(hc *h, uint16_t vh) {
  if (h->last_ch && h->last_vh == vh)
    return h->last_ch;
  const bleak_gatt_characteristic *ch =
      bleak_gatt_services_get_characteristic_by_value_handle(bleak_client_services(h->c), vh);
  if (ch) {
    h->last_ch = ch;
    h->last_vh = vh;
  }
  return ch;
}

static void att_value(void *owner, uint16_t handle, const uint8_t *v, size_t len, bool ind) {
  hc *h = owner;
  if (bk_client_state(h->c) != BK_CONN_CONNECTED)
    return;
  if (ind && handle == h->sc_handle && h->sc_handle) {
    if (len == 4)
      rediscover(h, bk_get_le16(v), bk_get_le16(v + 2));
    /* and the user's subscription, if any, hears it too */
  }
  const bleak_gatt_characteristic *ch = char_by_value_handle(h, handle);
  if (ch)
    bk_client_notify(h->c, ch, v, len);
  else
    BK_DEBUG(MOD, "value for unknown handle 0x%04x dropped", handle);
}

static void att_timeout(void *owner) {
  hc *h = owner;
  /* The bearer is dead (Core Vol 3 Part F 3.3.3): drop the link. */
  h->disconnecting = false; /* the peer's fault: reported as an error */
  (void)bk_ctrl_disconnect(&h->u);
}

static const bk_att_ops att_ops = {att_send, att_value, att_timeout};

/* ---- connect ------------------------------------------------------------- */

/* Undo what a connect has done so far. The results this reports (ATT
 * requests closed) are only recorded by the core: nothing calls back. */
static void connect_reset(hc *h) {
  h->ph = PH_IDLE;
  bk_gattc_cancel(h->disc);
  h->disc = NULL;
  cancel_background(h);
  if (h->acquired) {
    if (bk_ctrl_user_scanning(&h->u))
      (void)bk_ctrl_scan(&h->u, false, false);
    if (bk_ctrl_user_connecting(&h->u))
      bk_ctrl_connect_cancel(&h->u);
    if (bk_ctrl_user_linked(&h->u)) {
      h->disconnecting = true;
      (void)bk_ctrl_disconnect(&h->u);
    }
  }
  if (h->att_up)
    bk_att_close(&h->att, BLEAK_ERR_DISCONNECTED);
  h->att_up = false;
}

static void connect_fail(hc *h, int err) {
  connect_reset(h);
  bk_op *op = h->connect_op;
  h->connect_op = NULL;
  if (op)
    bk_op_done(op, err);
}

void hc_connect_fail(hc *h, int err) { connect_fail(h, err); }

/* Stop the procedures a connection runs by itself. */
static void cancel_background(hc *h) {
  bk_gattc_cancel(h->hash_read);
  h->hash_read = NULL;
  bk_gattc_cancel(h->name_read);
  bk_gattc_cancel(h->sc_subscribe);
  bk_gattc_cancel(h->rediscover);
  h->name_read = h->sc_subscribe = h->rediscover = NULL;
  h->sc_handle = 0;
  h->again_start = h->again_end = 0;
}

static void on_sc_subscribed(void *user, int status) {
  hc *h = user;
  h->sc_subscribe = NULL;
  if (status)
    BK_WARN(MOD, "%s: no Service Changed indications: %s", bk_client_address(h->c),
            bleak_strerror(status));
}

/* Indications of Service Changed (0x2A05), as BlueZ subscribes to them:
 * a peer whose database changes says which range to discover again. */
static void watch_service_changed(hc *h) {
  const bleak_gatt_characteristic *ch = NULL;
  if (bleak_client_char_by_uuid(h->c, "2a05", &ch) != 0 || !ch)
    return;
  bleak_uuid cccd = bleak_uuid_from_u16(0x2902);
  const bleak_gatt_descriptor *d = bleak_gatt_characteristic_get_descriptor(ch, &cccd);
  if (!d || !(bleak_gatt_characteristic_properties(ch) & BLEAK_GATT_PROP_INDICATE))
    return;
  h->sc_handle = bleak_gatt_characteristic_value_handle(ch);
  static const uint8_t on[2] = {0x02, 0x00};
  (void)bk_gattc_write(&h->att, bleak_gatt_descriptor_handle(d), on, 2, false, on_sc_subscribed,
                       h, bk_ctrl_now(&h->u), &h->sc_subscribe);
}

static void on_changed(void *user, int status, bleak_gatt_services *s, unsigned requests) {
  hc *h = user;
  h->rediscover = NULL;
  if (status) {
    BK_WARN(MOD, "%s: re-discovery after Service Changed failed: %s", bk_client_address(h->c),
            bleak_strerror(status));
  } else {
    BK_INFO(MOD, "%s: services changed, range re-discovered in %u ATT requests",
            bk_client_address(h->c), requests);
    h->last_ch = NULL;
    if (bk_client_replace_services(h->c, s) == 0)
      cache_store(h);
  }
  if (h->again_start) {
    uint16_t a = h->again_start, b = h->again_end;
    h->again_start = h->again_end = 0;
    rediscover(h, a, b);
  }
}

static void rediscover(hc *h, uint16_t start, uint16_t end) {
  if (start == 0 || end < start)
    return;
  if (h->rediscover) { /* changed again meanwhile: once more after it */
    if (!h->again_start || start < h->again_start)
      h->again_start = start;
    if (end > h->again_end)
      h->again_end = end;
    return;
  }
  int err = bk_gattc_discover_range(&h->att, start, end, bleak_client_services(h->c), on_changed,
                                    h, bk_ctrl_now(&h->u), &h->rediscover);
  if (err)
    BK_WARN(MOD, "%s: cannot re-discover: %s", bk_client_address(h->c), bleak_strerror(err));
}

static void on_hash(void *user, int status, const uint8_t *v, size_t len) {
  hc *h = user;
  h->hash_read = NULL;
  if (status == 0 && len == sizeof h->cache_hash && h->cache) {
    memcpy(h->cache_hash, v, len);
    h->cache_ok = true;
    hc_sec_remember_db(h, h->cache, h->cache_hash); /* a bonded peer's */
  }
}

/* Keep a copy of the database for the next connection, valid once its
 * Database Hash is read (in the background: not a round trip the connect
 * pays for). Peers without the hash are discovered every time. */
static void cache_store(hc *h) {
  h->cache_ok = false;
  bleak_gatt_services_unref(h->cache);
  h->cache = NULL;
  const bleak_gatt_characteristic *ch = NULL;
  if (bleak_client_char_by_uuid(h->c, "2b2a", &ch) != 0 || !ch)
    return;
  h->cache = bk_gattc_copy_services(bleak_client_services(h->c));
  if (h->cache)
    (void)bk_gattc_read(&h->att, bleak_gatt_characteristic_value_handle(ch), on_hash, h,
                        bk_ctrl_now(&h->u), &h->hash_read);
}

static void on_name(void *user, int status, const uint8_t *v, size_t len) {
  hc *h = user;
  h->name_read = NULL;
  if (status || h->name[0])
    return;
  if (len > BK_AD_MAX_NAME)
    len = BK_AD_MAX_NAME;
  memcpy(h->name, v, len);
  h->name[len] = '\0'; /* a NUL inside ends it, as for advertised names */
}

/* No advertised name seen (the connect did not need a scan, or the scan
 * response did not come): read GAP's Device Name in the background, as
 * BlueZ does on connect. After the connect completes: not a round trip
 * the connect pays for. */
static void read_name(hc *h) {
  if (h->name[0] || h->name_read)
    return;
  const bleak_gatt_characteristic *ch = NULL;
  if (bleak_client_char_by_uuid(h->c, "2a00", &ch) != 0 || !ch)
    return;
  (void)bk_gattc_read(&h->att, bleak_gatt_characteristic_value_handle(ch), on_name, h,
                      bk_ctrl_now(&h->u), &h->name_read);
}

static void on_discovered(void *user, int status, bleak_gatt_services *s, unsigned requests) {
  hc *h = user;
  h->disc = NULL;
  if (status) {
    connect_fail(h, status);
    return;
  }
  BK_INFO(MOD, "%s: %zu services discovered in %u ATT requests, MTU %u",
          bk_client_address(h->c), bleak_gatt_services_count(s), requests, h->att.mtu);
  h->last_ch = NULL;
  bk_client_set_services(h->c, s);
  bk_op *op = h->connect_op;
  if (op && bk_client_options(h->c)->pair) {
    /* pair=true: the connect completes when the pairing has (its state
     * PAIRING); the connect op stays ours until then. */
    int err = hc_sec_pair(h, op);
    if (err)
      connect_fail(h, err);
  } else {
    h->ph = PH_IDLE;
    h->connect_op = NULL;
    if (op)
      bk_op_done(op, 0); /* recorded: the client is connected from here on */
  }
  if (requests > 1 || !h->cache_ok)
    cache_store(h);
  read_name(h);
  watch_service_changed(h);
}

/* The cached database is still the peer's: install a copy of it. */
static void on_hash_check(void *user, int status, const uint8_t *v, size_t len) {
  hc *h = user;
  h->disc = NULL;
  if (status == 0 && len == sizeof h->cache_hash && !memcmp(v, h->cache_hash, len)) {
    bleak_gatt_services *s = bk_gattc_copy_services(h->cache);
    if (s) {
      bk_gatt_services_set_mtu(s, h->att.mtu);
      on_discovered(h, 0, s, 1);
      return;
    }
  }
  if (status == BLEAK_ERR_TIMEOUT || status == BLEAK_ERR_DISCONNECTED) {
    connect_fail(h, status);
    return;
  }
  h->cache_ok = false; /* changed (or unreadable): discover it all */
  int err = bk_gattc_discover(&h->att, on_discovered, h, bk_ctrl_now(&h->u), &h->disc);
  if (err)
    connect_fail(h, err);
}

static void on_mtu(void *user, int status, const bk_att_pdu *rsp, uint64_t now) {
  hc *h = user;
  (void)rsp;
  if (h->ph != PH_MTU)
    return;
  /* A server that does not do the exchange keeps 23: not an error. */
  if (status == BLEAK_ERR_TIMEOUT || status == BLEAK_ERR_DISCONNECTED) {
    connect_fail(h, status);
    return;
  }
  h->ph = PH_DISCOVER;
  int err;
  if (h->cache_ok) {
    bleak_uuid hash = bleak_uuid_from_u16(0x2b2a);
    err = bk_gattc_read_by_uuid(&h->att, 0x0001, 0xffff, &hash, &h->hash_handle, on_hash_check,
                                h, now, &h->disc);
  } else {
    err = bk_gattc_discover(&h->att, on_discovered, h, now, &h->disc);
  }
  if (err)
    connect_fail(h, err);
}

static void u_connected(bk_ctrl_user *u, int status) {
  hc *h = (hc *)u;
  if (h->ph != PH_CONNECTING)
    return;
  /* 0x3E, Connection Failed to be Established, is transient (hc_transient):
   * the core tries again within the connect's timeout. */
  if (status) {
    connect_fail(h, status == BLEAK_ERR_HCI(0x02) ? BLEAK_ERR_CANCELED : status);
    return;
  }
  bk_att_init(&h->att, &att_ops, h, BK_ATT_MAX_MTU);
  bk_att_set_timeout(&h->att, (uint32_t)bk_client_options(h->c)->att_timeout_ms);
  h->att_up = true;
  bk_client_link_up(h->c);
  hc_sec_link_up(h); /* a bonded peer's link is encrypted at once */
  if (!h->cache) { /* a new process: the bond has the database */
    bool has_hash = false;
    if (hc_sec_cached_db(h, &h->cache, h->cache_hash, &has_hash))
      h->cache_ok = has_hash;
  }
  /* ATT waits for the bond's encryption: a request sent while the link
   * layer starts encryption can be lost (seen with BlueZ 5.66's emulated
   * controller over the user channel: the MTU exchange never answered),
   * and reads of protected values need it anyway. */
  if (hc_sec_encrypting(h)) {
    h->ph = PH_ENCRYPT;
    return;
  }
  h->ph = PH_ENCRYPT;
  hc_link_secured(h);
}

void hc_link_secured(hc *h) {
  if (h->ph != PH_ENCRYPT)
    return;
  h->ph = PH_MTU;
  int err = bk_att_exchange_mtu(&h->att, on_mtu, h, bk_ctrl_now(&h->u));
  if (err)
    connect_fail(h, err);
}

/* @p type is the address's (an identity's, when a bonded peer's private
 * address resolved to it); the link is made to the address on the air. */
static void start_link(hc *h, uint8_t type) {
  h->ph = PH_CONNECTING;
  h->peer_type = type;
  uint8_t air[6], air_type = type;
  memcpy(air, h->addr, 6);
  (void)bk_ctrl_user_air_address(&h->u, h->addr, air, &air_type);
  int err = bk_ctrl_connect(&h->u, air_type, air);
  if (err)
    connect_fail(h, err);
}

/* Advertising of our peer, whoever scans: its name is what
 * bleak_client_name() shows (as BlueZ's cache gives it on bluez). */
static void u_adv(bk_ctrl_user *u, const bk_hci_adv_report *r) {
  hc *h = (hc *)u;
  if (memcmp(r->addr, h->addr, 6) != 0)
    return;
  bk_ad ad;
  if (bk_ad_parse(r->data, r->data_len, &ad) == 0 && ad.has_name)
    memcpy(h->name, ad.name, sizeof h->name);
}

/* Link when the controller has seen the address (it knows its type);
 * else the core searches for it first, and calls hc_connect_found. */
static void begin(hc *h) {
  uint8_t type;
  if (bk_ctrl_user_seen(&h->u, h->addr, &type)) {
    start_link(h, type);
    return;
  }
  h->ph = PH_SEARCH;
  bk_connect_search(h->connect_op);
}

static int hc_connect_found(bleak_client *c, bk_op *op) {
  hc *h = H(c);
  uint8_t type;
  if (h->ph != PH_SEARCH || op != h->connect_op)
    return bk_fail(BLEAK_ERR_STATE, "no connect waits for its device");
  if (!bk_ctrl_user_seen(&h->u, h->addr, &type)) {
    connect_reset(h);
    h->connect_op = NULL;
    return bk_fail(BLEAK_ERR_DEVICE_NOT_FOUND, "%s: seen, but not by this controller",
                   bk_client_address(c));
  }
  start_link(h, type);
  return 0;
}

/* A link that failed to be established (0x3E): the peer missed the
 * connection's first packets (busy, or between two advertising sets). */
/* BUSY: the link of an earlier attempt (a connect that timed out or
 * failed) is still going down; the controller says so in a moment. */
/* 0x3E (Connection Failed to be Established), a busy controller, and a
 * link that drops while the connect sets it up (encryption, MTU,
 * discovery): the peer re-advertising, or a peer that drops a link it
 * took a moment ago, as the guest's BlueZ peripheral does now and then
 * between connects in a row. */
static bool hc_transient(int err) {
  return err == BLEAK_ERR_HCI(0x3e) || err == BLEAK_ERR_BUSY || err == BLEAK_ERR_DISCONNECTED;
}

static void u_ready(bk_ctrl_user *u, int status) {
  hc *h = (hc *)u;
  if (h->ph != PH_READY_WAIT)
    return;
  if (status) {
    connect_fail(h, status);
    return;
  }
  hc_sec_ready(h);
  begin(h);
}

static void release_ctrl(hc *h) {
  if (h->acquired) {
    bk_ctrl_release(&h->u);
    h->acquired = false;
  }
}

static void link_down(hc *h, int reason) {
  h->last_ch = NULL;
  cancel_background(h);
  hc_sec_link_down(h);
  bk_conn_state st = bk_client_state(h->c);
  if (h->ph == PH_IDLE && (st == BK_CONN_CONNECTED || st == BK_CONN_DISCONNECTING)) {
    bk_client_disconnected(h->c, reason);
    if (h->att_up)
      bk_att_close(&h->att, BLEAK_ERR_DISCONNECTED);
    h->att_up = false;
  } else if (h->ph == PH_ENCRYPT || h->ph == PH_MTU || h->ph == PH_DISCOVER) {
    connect_fail(h, bk_fail(BLEAK_ERR_DISCONNECTED, "the link dropped while connecting (%s)",
                            reason ? bleak_strerror(reason) : "we ended it"));
    h->att_up = false;
  } else if (h->att_up) {
    bk_att_close(&h->att, BLEAK_ERR_DISCONNECTED);
    h->att_up = false;
  }
}

static void u_disconnected(bk_ctrl_user *u, uint8_t reason) {
  hc *h = (hc *)u;
  /* We asked (controllers report 0x16, Terminated By Local Host, or echo
   * our own reason): not an error. */
  bool ours = h->disconnecting || reason == 0x16;
  h->disconnecting = false;
  link_down(h, ours ? 0 : BLEAK_ERR_HCI(reason));
}

static void u_lost(bk_ctrl_user *u, int err) {
  hc *h = (hc *)u;
  if (h->ph == PH_READY_WAIT || h->ph == PH_SEARCH || h->ph == PH_CONNECTING)
    connect_fail(h, err);
  else
    link_down(h, err);
  release_ctrl(h); /* the next connect opens the transport again */
}

static void u_att(bk_ctrl_user *u, const uint8_t *pdu, size_t len) {
  hc *h = (hc *)u;
  if (h->att_up)
    bk_att_recv(&h->att, pdu, len, bk_ctrl_now(u));
}

static void drain_paced(hc *h);

static void u_acl_sent(bk_ctrl_user *u) { drain_paced((hc *)u); }

static uint64_t u_deadline(bk_ctrl_user *u) {
  hc *h = (hc *)u;
  uint64_t a = h->att_up ? bk_att_deadline(&h->att) : 0, s = hc_sec_deadline(h);
  return !a ? s : !s ? a : a < s ? a : s;
}

static void u_tick(bk_ctrl_user *u, uint64_t now) {
  hc *h = (hc *)u;
  if (h->att_up)
    bk_att_tick(&h->att, now);
  hc_sec_tick(h, now);
}

static const bk_ctrl_user_ops user_ops = {
    .ready = u_ready,
    .adv = u_adv,
    .connected = u_connected,
    .disconnected = u_disconnected,
    .att = u_att,
    .acl_sent = u_acl_sent,
    .lost = u_lost,
    .deadline = u_deadline,
    .tick = u_tick,
    .smp = hc_sec_smp,
    .encrypted = hc_sec_encrypted,
};

static int start_connect(hc *h, bk_op *op) {
  if (h->ph != PH_IDLE)
    return bk_fail(BLEAK_ERR_BUSY, "a connect is in progress");
  h->connect_op = op;
  h->disconnecting = false;
  if (!h->acquired) {
    h->u.ops = &user_ops;
    int err = bk_ctrl_acquire(h->loop, h->spec, &h->u);
    if (err) {
      h->connect_op = NULL;
      return err;
    }
    h->acquired = true;
    h->ph = PH_READY_WAIT;
    return 0;
  }
  begin(h);
  return 0;
}

/* ---- operations ---------------------------------------------------------- */


static void on_read(void *user, int status, const uint8_t *v, size_t len) {
  bk_op *op = user;
  op_state(op)->proc = NULL;
  if (status < 0 && hc_sec_upgrade(H(op->client), op, &status))
    return; /* started again once the link is secure */
  bk_op_done_read(op, status, v, len);
}

static void on_written(void *user, int status) {
  bk_op *op = user;
  op_state(op)->proc = NULL;
  if (status < 0 && hc_sec_upgrade(H(op->client), op, &status))
    return;
  bk_op_done(op, status);
}

static int write_command(hc *h, bk_op *op) {
  return bk_gattc_write_command(&h->att, bleak_gatt_characteristic_value_handle(op->ch),
                                op->data, op->len);
}

static void drain_paced(hc *h) {
  while (bk_ctrl_backlog(&h->u) < PACE_BACKLOG) {
    hc_op *s = BK_QUEUE_ENTRY(bk_queue_pop(&h->paced), hc_op, paced);
    if (!s)
      return;
    bk_op_done(s->op, write_command(h, s->op));
  }
}

/* A write without response goes now while few ACL packets wait for the
 * controller's buffers (and none of ours is queued before it), else it
 * waits its turn (completed by drain_paced). */
static int pace(hc *h, bk_op *op) {
  if (bk_queue_empty(&h->paced) && bk_ctrl_backlog(&h->u) < PACE_BACKLOG) {
    int err = write_command(h, op);
    if (err)
      return err;
    bk_op_done(op, 0);
    return 0;
  }
  hc_op *s = op_state(op);
  s->op = op;
  bk_queue_push(&h->paced, &s->paced);
  return 0;
}

static int subscribe(hc *h, bk_op *op, uint16_t value) {
  bleak_uuid cccd = bleak_uuid_from_u16(0x2902);
  const bleak_gatt_descriptor *d = bleak_gatt_characteristic_get_descriptor(op->ch, &cccd);
  if (!d)
    return bk_fail(BLEAK_ERR_NOT_SUPPORTED,
                   "characteristic 0x%04x has no Client Characteristic Configuration",
                   bleak_gatt_characteristic_handle(op->ch));
  uint8_t v[2];
  bk_put_le16(v, value);
  return bk_gattc_write(&h->att, bleak_gatt_descriptor_handle(d), v, 2, false, on_written, op,
                        bk_ctrl_now(&h->u), &op_state(op)->proc);
}

static int hc_start(bleak_client *c, bk_op *op) {
  hc *h = H(c);
  if (op->kind == BK_OP_CONNECT)
    return start_connect(h, op);
  if (op->kind == BK_OP_DISCONNECT) {
    if (!bk_ctrl_user_linked(&h->u)) { /* nothing to take down */
      bk_client_disconnected(c, 0);
      return 0;
    }
    h->disconnecting = true;
    return bk_ctrl_disconnect(&h->u);
  }
  if (op->kind == BK_OP_PAIR)
    return hc_sec_pair(h, op);
  if (op->kind == BK_OP_UNPAIR)
    return hc_sec_unpair(h, op);
  if (bk_client_state(c) != BK_CONN_CONNECTED || !h->att_up)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "not connected");
  return hc_start_attribute_op(h, op);
}

int hc_start_attribute_op(hc *h, bk_op *op) {
  if (!h->att_up)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "not connected");
  uint64_t now = bk_ctrl_now(&h->u);
  bk_gattc_proc **slot = &op_state(op)->proc;
  int err;
  switch (op->kind) {
  case BK_OP_READ_CHAR:
    err = bk_gattc_read(&h->att, bleak_gatt_characteristic_value_handle(op->ch), on_read, op,
                        now, slot);
    break;
  case BK_OP_READ_DESC:
    err = bk_gattc_read(&h->att, bleak_gatt_descriptor_handle(op->desc), on_read, op, now, slot);
    break;
  case BK_OP_WRITE_CHAR:
    if (!op->with_response)
      return pace(h, op);
    err = bk_gattc_write(&h->att, bleak_gatt_characteristic_value_handle(op->ch), op->data,
                         op->len, false, on_written, op, now, slot);
    break;
  case BK_OP_WRITE_DESC:
    err = bk_gattc_write(&h->att, bleak_gatt_descriptor_handle(op->desc), op->data, op->len,
                         false, on_written, op, now, slot);
    break;
  case BK_OP_START_NOTIFY:
    err = subscribe(h, op, op->indicate ? 0x0002 : 0x0001);
    break;
  case BK_OP_STOP_NOTIFY:
    err = subscribe(h, op, 0x0000);
    break;
  default:
    return bk_fail(BLEAK_ERR_NOT_SUPPORTED, "operation %d", (int)op->kind);
  }
  return err;
}

static void hc_abort(bleak_client *c, bk_op *op) {
  hc *h = H(c);
  if (op == h->connect_op) {
    hc_sec_abort(h, op); /* pairing for the connect, perhaps */
    connect_reset(h);
    h->connect_op = NULL;
    return;
  }
  /* Any other op: a paced write leaves the queue, a procedure is
   * canceled; connects (not the current one) and disconnects have
   * neither. */
  hc_op *s = op_state(op);
  bk_queue_remove(&h->paced, &s->paced);
  hc_sec_abort(h, op);
  bk_gattc_cancel(s->proc);
  s->proc = NULL;
}

static int hc_mtu(const bleak_client *c) {
  const hc *h = H(c);
  return h->att_up ? h->att.mtu : BK_ATT_DEFAULT_MTU;
}

static const char *hc_name(const bleak_client *c) {
  const hc *h = H(c);
  return h->name[0] ? h->name : NULL;
}

static int hc_pairing_reply(bleak_client *c, bool accept, uint32_t passkey) {
  return hc_sec_reply(H(c), accept, passkey);
}

static int hc_init(bleak_client *c, const bleak_client_options *opts, void **state) {
  const char *spec = bk_hci_transport_spec(opts->hci_transport);
  if (!spec)
    return BLEAK_ERR_NO_BACKEND;
  hc *h = calloc(1, sizeof *h);
  if (!h || !(h->spec = strdup(spec))) {
    free(h);
    return BLEAK_ERR_NO_MEMORY;
  }
  h->c = c;
  bk_queue_init(&h->paced);
  hc_sec_init(h);
  h->loop = opts->loop ? opts->loop : bleak_loop_default();
  if (!h->loop || bk_hci_parse_address(bk_client_address(c), h->addr) != 0) {
    free(h->spec);
    free(h);
    return bk_fail(BLEAK_ERR_INVALID_ARG, "hci backend: bad address or no loop");
  }
  h->u.ops = &user_ops;
  *state = h;
  return 0;
}

static void hc_destroy(bleak_client *c, void *state) {
  (void)c;
  hc *h = state;
  bleak_gatt_services_unref(h->cache);
  bk_gattc_cancel(h->disc);
  h->disc = NULL;
  cancel_background(h);
  if (h->att_up)
    bk_att_close(&h->att, BLEAK_ERR_DISCONNECTED);
  release_ctrl(h); /* drops the link */
  hc_sec_destroy(h);
  free(h->spec);
  free(h);
}

const bk_client_backend bk_hci_client_backend = {
    .name = "hci",
    .op_state_size = sizeof(hc_op),
    .init = hc_init,
    .destroy = hc_destroy,
    .start = hc_start,
    .abort = hc_abort,
    .mtu = hc_mtu,
    .device_name = hc_name,
    .connect_found = hc_connect_found,
    .transient = hc_transient,
    .scanner = &bk_hci_scanner_backend,
    .pairing_reply = hc_pairing_reply,
};
