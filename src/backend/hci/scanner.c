/* SPDX-License-Identifier: MIT */
/* The hci backend's scanner: LE scanning on the shared controller, each
 * advertising report parsed (core/ad.c) and handed to the core scanner,
 * which merges advertisements and scan responses per device. Passive
 * scanning is the controller's own: no scan requests go out. */
#include <stdlib.h>
#include <string.h>

#include "backend/hci/controller.h"
#include "backend/hci/hci.h"
#include "bleak/error.h"
#include "core/ad.h"
#include "core/internal.h"

/* While scanning actively, a scannable advertisement waits (at most
 * BK_SCAN_RESPONSE_WAIT_MS) for its scan response, and both are reported together: the
 * name usually comes in the response, and a find_device_by_*() that
 * matches the advertisement should see it (the kernel merges them for
 * BlueZ the same way). */
#define HELD_MAX 8

typedef struct held {
  bool used;
  uint64_t until;
  bk_hci_adv_report r;
  uint8_t data[255];
} held;

typedef struct hs {
  bk_ctrl_user u; /* first: the controller calls back with it */
  bleak_scanner *s;
  bleak_loop *loop;
  char *spec;
  bool acquired, want, active;
  held held[HELD_MAX];
  bleak_source *hold_timer;
} hs;

static void su_ready(bk_ctrl_user *u, int status) {
  hs *z = (hs *)u;
  if (!status && z->want)
    status = bk_ctrl_scan(u, true, z->active);
  if (z->want)
    bk_scanner_started(z->s, status);
}

static void deliver(hs *z, const bk_hci_adv_report *r) {
  bk_ad ad;
  int err = bk_ad_parse(r->data, r->data_len, &ad);
  if (err == BLEAK_ERR_INVALID_ARG)
    return;
  /* A malformed entry is skipped by the parser; the rest still counts. */
  char addr[18];
  bk_hci_format_address(r->addr, addr);
  bk_adv_report rep;
  memset(&rep, 0, sizeof rep);
  bk_ad_to_report(&ad, &rep);
  rep.address = addr;
  rep.has_raw = true;
  rep.raw_is_scan_response = bk_hci_adv_is_scan_rsp(r);
  rep.raw = r->data;
  rep.raw_len = r->data_len;
  if (r->rssi != 127) {
    rep.has_rssi = true;
    rep.rssi = r->rssi;
  }
  if (!rep.has_tx_power && r->tx_power != 127) {
    rep.has_tx_power = true;
    rep.tx_power = r->tx_power;
  }
  bk_scanner_report(z->s, &rep);
}

static held *held_for(hs *z, const uint8_t addr[6]) {
  for (size_t i = 0; i < HELD_MAX; i++)
    if (z->held[i].used && !memcmp(z->held[i].r.addr, addr, 6))
      return &z->held[i];
  return NULL;
}

static void release_held(hs *z, held *h) {
  h->used = false;
  deliver(z, &h->r);
}

static void arm_hold(hs *z) {
  uint64_t first = 0;
  for (size_t i = 0; i < HELD_MAX; i++)
    if (z->held[i].used && (!first || z->held[i].until < first))
      first = z->held[i].until;
  if (!first) {
    if (z->hold_timer)
      bleak_source_stop_timer(z->hold_timer);
    return;
  }
  uint64_t now = bleak_loop_now_ms(z->loop);
  uint64_t in = first > now ? first - now : 0;
  if (z->hold_timer)
    bleak_source_set_timer(z->hold_timer, in);
}

static void on_hold(bleak_source *src, void *user) {
  (void)src;
  hs *z = user;
  uint64_t now = bleak_loop_now_ms(z->loop);
  for (size_t i = 0; i < HELD_MAX; i++)
    if (z->held[i].used && z->held[i].until <= now)
      release_held(z, &z->held[i]); /* no response came: alone */
  arm_hold(z);
}

static void su_adv(bk_ctrl_user *u, const bk_hci_adv_report *r) {
  hs *z = (hs *)u;
  held *h = held_for(z, r->addr);
  if (bk_hci_adv_is_scan_rsp(r)) {
    if (h)
      release_held(z, h); /* the advertisement, then its response */
    deliver(z, r);
    arm_hold(z);
    return;
  }
  if (!z->active || !z->hold_timer || !bk_hci_adv_is_scannable(r)) {
    deliver(z, r);
    return;
  }
  if (h) /* another advertisement before the response: the older one goes */
    release_held(z, h);
  for (size_t i = 0; i < HELD_MAX && !h; i++)
    if (!z->held[i].used)
      h = &z->held[i];
  if (!h || r->data_len > sizeof h->data) { /* no room: not held */
    deliver(z, r);
    return;
  }
  h->used = true;
  h->until = bleak_loop_now_ms(z->loop) + BK_SCAN_RESPONSE_WAIT_MS;
  h->r = *r;
  memcpy(h->data, r->data, r->data_len);
  h->r.data = h->data;
  arm_hold(z);
}

static void su_lost(bk_ctrl_user *u, int err) {
  hs *z = (hs *)u;
  (void)err;
  bk_ctrl_release(u);
  z->acquired = false;
}

static const bk_ctrl_user_ops scan_user_ops = {
    .ready = su_ready, .adv = su_adv, .lost = su_lost};

static int hs_init(bleak_scanner *s, const bleak_scanner_options *opts, void **state) {
  const char *spec = bk_hci_transport_spec(opts->hci_transport);
  if (!spec)
    return BLEAK_ERR_NO_BACKEND;
  hs *z = calloc(1, sizeof *z);
  if (!z || !(z->spec = strdup(spec))) {
    free(z);
    return BLEAK_ERR_NO_MEMORY;
  }
  z->s = s;
  z->loop = opts->loop ? opts->loop : bleak_loop_default();
  z->active = opts->scanning_mode != BLEAK_SCAN_PASSIVE;
  z->u.ops = &scan_user_ops;
  if (bleak_loop_add_timer(z->loop, 0, on_hold, z, &z->hold_timer) == 0)
    bleak_source_stop_timer(z->hold_timer);
  *state = z;
  return 0;
}

static void hs_destroy(bleak_scanner *s, void *state) {
  (void)s;
  hs *z = state;
  if (z->acquired)
    bk_ctrl_release(&z->u);
  bleak_source_free(z->hold_timer);
  free(z->spec);
  free(z);
}

static int hs_start(bleak_scanner *s) {
  hs *z = bk_scanner_backend_state(s);
  z->want = true;
  if (!z->acquired) {
    int err = bk_ctrl_acquire(z->loop, z->spec, &z->u);
    if (err)
      return err;
    z->acquired = true;
    return 0; /* su_ready starts the scan */
  }
  if (bk_ctrl_user_ready_pending(&z->u))
    return 0;
  int err = bk_ctrl_scan(&z->u, true, z->active);
  bk_scanner_started(s, err);
  return 0;
}

static void hs_stop(bleak_scanner *s) {
  hs *z = bk_scanner_backend_state(s);
  z->want = false;
  for (size_t i = 0; i < HELD_MAX; i++) /* what is held was seen: report it */
    if (z->held[i].used)
      release_held(z, &z->held[i]);
  if (z->hold_timer)
    bleak_source_stop_timer(z->hold_timer);
  if (z->acquired && !bk_ctrl_user_ready_pending(&z->u))
    (void)bk_ctrl_scan(&z->u, false, false);
}

const bk_scanner_backend bk_hci_scanner_backend = {
    .name = "hci",
    .init = hs_init,
    .destroy = hs_destroy,
    .start = hs_start,
    .stop = hs_stop,
};
