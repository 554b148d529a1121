/* SPDX-License-Identifier: MIT */
/*
 * The backend-neutral scanner: Bleak's BleakScanner. Keeps, per device, the
 * merged latest advertisement data (each report replaces only what it
 * carries), filters by service UUID, calls the detection callback, and
 * drives discover() and the finders on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/scanner.h"
#include "core/backend.h"
#include "core/internal.h"
#include "core/scan_filter.h"
#include "core/scanner_backend.h"

#define LOG_MOD "scanner"
#define START_TIMEOUT_MS 10000

struct bleak_device {
  int refs;
  char address[18];
  char *name;
  char adapter[24];
};

typedef struct entry {
  bleak_device *dev;
  char *local_name;
  bleak_manufacturer_data *mfr;
  size_t n_mfr;
  bleak_service_data *sd;
  size_t n_sd;
  bleak_uuid *uuids;
  size_t n_uuids;
  int16_t rssi, tx_power;
  uint8_t *raw[2]; /* advertisement, scan response (hci) */
  size_t raw_len[2];
  bleak_adv_data view;
} entry;

typedef struct finder {
  bleak_device_filter_fn fn;
  void *user;
  const bleak_device *found;
} finder;

struct bleak_scanner {
  bleak_loop *loop;
  bleak_scanner_options opts;
  bleak_uuid *filter;
  char *adapter;
  char *hci_transport;
  const bk_scanner_backend *be;
  void *be_state;
  bool scanning;
  /* bleak_scanner_start_async/stop_async: the caller's callback waits for
   * the backend's answer, then is delivered by `notify` from the loop. */
  bleak_source *notify;
  bool starting, start_done, stopping;
  int start_status;
  bleak_scanner_done_fn start_cb, stop_cb;
  void *start_user, *stop_user;
  entry *entries;
  size_t n, cap;
  finder *finder;
  bk_scan_filter scan_filter; /* the copies opts.filter and or_patterns point to */
};

/* ---- devices ---- */

const char *bleak_device_address(const bleak_device *d) { return d ? d->address : NULL; }
const char *bleak_device_name(const bleak_device *d) { return d ? d->name : NULL; }
const char *bleak_device_adapter(const bleak_device *d) {
  return d && d->adapter[0] ? d->adapter : NULL;
}

bleak_device *bleak_device_ref(const bleak_device *d) {
  bleak_device *m = (bleak_device *)d; /* refcount is not part of the value */
  if (m)
    m->refs++;
  return m;
}

void bleak_device_unref(bleak_device *d) {
  if (!d || --d->refs > 0)
    return;
  free(d->name);
  free(d);
}

int bleak_client_new_from_device(const bleak_device *device,
                                 const bleak_client_options *opts,
                                 bleak_client **out) {
  if (out)
    *out = NULL;
  if (!device)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "device is NULL");
  bleak_client_options o;
  if (opts)
    o = *opts;
  else
    bleak_client_options_init(&o);
  if (!o.adapter && device->adapter[0])
    o.adapter = device->adapter;
  return bleak_client_new(device->address, &o, out);
}

/* ---- scanner ---- */

void bleak_scanner_options_init(bleak_scanner_options *o) {
  if (o)
    memset(o, 0, sizeof *o);
}

void *bk_scanner_backend_state(const bleak_scanner *s) { return s->be_state; }
const bleak_scanner_options *bk_scanner_options(const bleak_scanner *s) {
  return &s->opts;
}

static void free_entry_data(entry *e) {
  free(e->local_name);
  for (size_t i = 0; i < e->n_mfr; i++)
    free((void *)e->mfr[i].data);
  free(e->mfr);
  for (size_t i = 0; i < e->n_sd; i++)
    free((void *)e->sd[i].data);
  free(e->sd);
  free(e->uuids);
  free(e->raw[0]);
  free(e->raw[1]);
}

static void clear_entries(bleak_scanner *s) {
  for (size_t i = 0; i < s->n; i++) {
    free_entry_data(&s->entries[i]);
    bleak_device_unref(s->entries[i].dev);
  }
  s->n = 0;
}

static void on_notify(bleak_source *src, void *user);

int bleak_scanner_new(const bleak_scanner_options *opts, bleak_scanner **out) {
  if (out)
    *out = NULL;
  const bk_scanner_backend *be =
      bk_scanner_backend_for(opts ? opts->backend : BLEAK_BACKEND_AUTO);
  if (!be)
    return BLEAK_ERR_NO_BACKEND;
  return bk_scanner_new_with_backend(opts, be, out);
}

int bk_scanner_new_with_backend(const bleak_scanner_options *opts,
                                const bk_scanner_backend *be, bleak_scanner **out) {
  if (out)
    *out = NULL;
  if (!out || !be)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_scanner_new: out is NULL");
  bleak_scanner_options defaults;
  if (!opts) {
    bleak_scanner_options_init(&defaults);
    opts = &defaults;
  }
  if (opts->n_service_uuids && !opts->service_uuids)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "n_service_uuids > 0 but no UUIDs");
  bleak_scanner *s = calloc(1, sizeof *s);
  if (!s)
    return BLEAK_ERR_NO_MEMORY;
  s->opts = *opts;
  s->loop = opts->loop ? opts->loop : bleak_loop_default();
  s->opts.loop = s->loop;
  s->adapter = opts->adapter ? strdup(opts->adapter) : NULL;
  s->hci_transport = opts->hci_transport ? strdup(opts->hci_transport) : NULL;
  if (opts->n_service_uuids) {
    s->filter = malloc(opts->n_service_uuids * sizeof *s->filter);
    if (s->filter)
      memcpy(s->filter, opts->service_uuids, opts->n_service_uuids * sizeof *s->filter);
  }
  s->opts.adapter = s->adapter;
  s->opts.hci_transport = s->hci_transport;
  s->opts.service_uuids = s->filter;
  int r = bk_scan_filter_copy(&s->opts, &s->scan_filter);
  if (r == 0 && (!s->loop || (opts->adapter && !s->adapter) ||
                 (opts->n_service_uuids && !s->filter)))
    r = BLEAK_ERR_NO_MEMORY;
  if (r == 0 && bleak_loop_add_timer(s->loop, 0, on_notify, s, &s->notify) < 0)
    r = BLEAK_ERR_NO_MEMORY;
  if (r == 0) {
    bleak_source_stop_timer(s->notify);
    r = be->init(s, &s->opts, &s->be_state);
  }
  if (r < 0) {
    bleak_source_free(s->notify);
    free(s->adapter);
    free(s->hci_transport);
    free(s->filter);
    bk_scan_filter_free(&s->scan_filter);
    free(s);
    return r;
  }
  s->be = be;
  *out = s;
  return 0;
}

void bleak_scanner_free(bleak_scanner *s) {
  if (!s)
    return;
  if (s->scanning)
    s->be->stop(s);
  s->be->destroy(s, s->be_state);
  bleak_source_free(s->notify);
  clear_entries(s);
  free(s->entries);
  free(s->adapter);
  free(s->hci_transport);
  free(s->filter);
  bk_scan_filter_free(&s->scan_filter);
  free(s);
}

void bk_scanner_started(bleak_scanner *s, int status) {
  if (!s->starting || s->start_done)
    return;
  s->start_status = status;
  s->start_done = true;
  (void)bleak_source_set_timer(s->notify, 0); /* never fails: made with s */
}

/* Deliver the outcome of a start or a stop, from the loop. */
static void on_notify(bleak_source *src, void *user) {
  (void)src;
  bleak_scanner *s = user;
  if (s->stopping) {
    s->stopping = false;
    if (s->stop_cb)
      s->stop_cb(s, 0, s->stop_user);
    return; /* the callback may have freed s */
  }
  if (!s->starting || !s->start_done)
    return;
  s->starting = false;
  int status = s->start_status;
  if (status < 0) {
    s->scanning = false;
    s->be->stop(s);
  }
  if (s->start_cb)
    s->start_cb(s, status, s->start_user);
}

int bleak_scanner_start_async(bleak_scanner *s, bleak_scanner_done_fn cb, void *user) {
  if (!s)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "scanner is NULL");
  if (s->scanning || s->starting)
    return bk_fail(BLEAK_ERR_ALREADY, "scanning already");
  clear_entries(s);
  s->starting = true;
  s->start_done = false;
  s->start_cb = cb;
  s->start_user = user;
  /* Reports count from here on: the first may come before the answer. */
  s->scanning = true;
  int r = s->be->start(s);
  if (r < 0)
    bk_scanner_started(s, r);
  return 0;
}

int bleak_scanner_stop_async(bleak_scanner *s, bleak_scanner_done_fn cb, void *user) {
  if (!s)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "scanner is NULL");
  if (s->scanning) {
    s->scanning = false;
    s->be->stop(s);
  }
  /* A start still waiting for its answer ends with CANCELED. */
  if (s->starting && !s->start_done) {
    s->start_status = BLEAK_ERR_CANCELED;
    s->start_done = true;
  }
  s->stopping = true;
  s->stop_cb = cb;
  s->stop_user = user;
  (void)bleak_source_set_timer(s->notify, 0);
  return 0;
}

typedef struct start_wait {
  bool done;
  int status;
} start_wait;

static void on_started(bleak_scanner *s, int status, void *user) {
  (void)s;
  start_wait *w = user;
  w->status = status;
  w->done = true;
}

int bleak_scanner_start(bleak_scanner *s) {
  if (!s)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "scanner is NULL");
  if (bleak_loop_in_callback(s->loop))
    return bk_fail(BLEAK_ERR_STATE, "bleak_scanner_start from a loop callback");
  start_wait w = {0};
  int r = bleak_scanner_start_async(s, on_started, &w);
  if (r < 0)
    return r;
  r = bleak_loop_run_until(s->loop, &w.done, START_TIMEOUT_MS);
  if (r < 0 && !w.done) {
    /* No answer: give up, and detach the callback from this frame. */
    s->start_cb = NULL;
    s->starting = false;
    if (s->scanning) {
      s->scanning = false;
      s->be->stop(s);
    }
    return r;
  }
  return w.status;
}

int bleak_scanner_stop(bleak_scanner *s) {
  if (!s)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "scanner is NULL");
  if (s->scanning) {
    s->scanning = false;
    s->be->stop(s);
  }
  return 0;
}

size_t bleak_scanner_device_count(const bleak_scanner *s) { return s ? s->n : 0; }

const bleak_device *bleak_scanner_device_at(const bleak_scanner *s, size_t i) {
  return s && i < s->n ? s->entries[i].dev : NULL;
}

const bleak_adv_data *bleak_scanner_adv_at(const bleak_scanner *s, size_t i) {
  return s && i < s->n ? &s->entries[i].view : NULL;
}

/* ---- merging reports ---- */

static entry *find_or_add(bleak_scanner *s, const char *address) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->entries[i].dev->address, address))
      return &s->entries[i];
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    entry *n = realloc(s->entries, cap * sizeof *n);
    if (!n)
      return NULL;
    s->entries = n;
    s->cap = cap;
  }
  bleak_device *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->refs = 1;
  snprintf(d->address, sizeof d->address, "%s", address);
  if (s->adapter)
    snprintf(d->adapter, sizeof d->adapter, "%s", s->adapter);
  entry *e = &s->entries[s->n++];
  memset(e, 0, sizeof *e);
  e->dev = d;
  e->rssi = BLEAK_RSSI_NONE;
  e->tx_power = BLEAK_TX_POWER_NONE;
  return e;
}

static void *dup_bytes(const void *p, size_t n) {
  void *c = malloc(n ? n : 1);
  if (c && n)
    memcpy(c, p, n);
  return c;
}

static void merge(entry *e, const bk_adv_report *r) {
  if (r->name && (!e->local_name || strcmp(e->local_name, r->name))) {
    char *n = strdup(r->name), *n2 = strdup(r->name);
    if (n && n2) {
      free(e->local_name);
      e->local_name = n;
      free(e->dev->name);
      e->dev->name = n2;
    } else {
      free(n);
      free(n2);
    }
  }
  if (r->has_rssi)
    e->rssi = r->rssi;
  if (r->has_tx_power)
    e->tx_power = r->tx_power;
  if (r->has_manufacturer_data) {
    for (size_t i = 0; i < e->n_mfr; i++)
      free((void *)e->mfr[i].data);
    free(e->mfr);
    e->n_mfr = 0;
    e->mfr = calloc(r->n_manufacturer_data ? r->n_manufacturer_data : 1, sizeof *e->mfr);
    for (size_t i = 0; e->mfr && i < r->n_manufacturer_data; i++) {
      e->mfr[i] = r->manufacturer_data[i];
      e->mfr[i].data = dup_bytes(r->manufacturer_data[i].data, r->manufacturer_data[i].len);
      e->n_mfr++;
    }
  }
  if (r->has_service_data) {
    for (size_t i = 0; i < e->n_sd; i++)
      free((void *)e->sd[i].data);
    free(e->sd);
    e->n_sd = 0;
    e->sd = calloc(r->n_service_data ? r->n_service_data : 1, sizeof *e->sd);
    for (size_t i = 0; e->sd && i < r->n_service_data; i++) {
      e->sd[i] = r->service_data[i];
      e->sd[i].data = dup_bytes(r->service_data[i].data, r->service_data[i].len);
      e->n_sd++;
    }
  }
  if (r->has_service_uuids) {
    free(e->uuids);
    e->uuids = dup_bytes(r->service_uuids, r->n_service_uuids * sizeof *e->uuids);
    e->n_uuids = e->uuids ? r->n_service_uuids : 0;
  }
  if (r->has_raw) {
    int k = r->raw_is_scan_response ? 1 : 0;
    free(e->raw[k]);
    e->raw[k] = dup_bytes(r->raw, r->raw_len);
    e->raw_len[k] = e->raw[k] ? r->raw_len : 0;
  }
  e->view = (bleak_adv_data){
      .local_name = e->local_name,
      .manufacturer_data = e->mfr,
      .n_manufacturer_data = e->n_mfr,
      .service_data = e->sd,
      .n_service_data = e->n_sd,
      .service_uuids = e->uuids,
      .n_service_uuids = e->n_uuids,
      .tx_power = e->tx_power,
      .rssi = e->rssi,
      .raw_advertisement = e->raw[0],
      .raw_advertisement_len = e->raw_len[0],
      .raw_scan_response = e->raw[1],
      .raw_scan_response_len = e->raw_len[1]};
}

static bool passes_filter(const bleak_scanner *s, const entry *e) {
  if (!bk_scan_filter_match(&s->opts, e->dev->address, e->dev->name, &e->view))
    return false;
  if (!s->opts.n_service_uuids)
    return true;
  for (size_t i = 0; i < e->n_uuids; i++)
    for (size_t j = 0; j < s->opts.n_service_uuids; j++)
      if (bleak_uuid_equal(&e->uuids[i], &s->filter[j]))
        return true;
  return false;
}

void bk_scanner_report(bleak_scanner *s, const bk_adv_report *r) {
  if (!s->scanning || !r->address)
    return;
  char addr[18];
  if (bk_normalize_address(r->address, addr) < 0) {
    BK_WARN(LOG_MOD, "report with a malformed address dropped");
    return;
  }
  entry *e = find_or_add(s, addr);
  if (!e)
    return;
  merge(e, r);
  if (!passes_filter(s, e))
    return;
  if (s->opts.detection_callback)
    s->opts.detection_callback(s, e->dev, &e->view, s->opts.user_data);
  if (s->finder && !s->finder->found && s->finder->fn(e->dev, &e->view, s->finder->user))
    s->finder->found = e->dev;
}

/* ---- discover and the finders ---- */

int bleak_scanner_discover(bleak_scanner *s, int timeout_ms) {
  int r = bleak_scanner_start(s);
  if (r < 0)
    return r;
  bool never = false;
  r = bleak_loop_run_until(s->loop, &never, timeout_ms < 0 ? 0 : timeout_ms);
  bleak_scanner_stop(s);
  return r == BLEAK_ERR_TIMEOUT ? 0 : r;
}

int bleak_scanner_find_device_by_filter(bleak_scanner *s,
                                        bleak_device_filter_fn filter,
                                        void *user, int timeout_ms,
                                        const bleak_device **out) {
  if (out)
    *out = NULL;
  if (!s || !filter || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "find_device: NULL argument");
  finder f = {filter, user, NULL};
  s->finder = &f;
  int r = bleak_scanner_start(s);
  if (r == 0) {
    uint64_t end = bleak_loop_now_ms(s->loop) + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    while (!f.found && r == 0) {
      uint64_t now = bleak_loop_now_ms(s->loop);
      if (now >= end)
        break;
      r = bleak_loop_run_once(s->loop, (int)(end - now));
      r = r < 0 ? r : 0;
    }
    bleak_scanner_stop(s);
  }
  s->finder = NULL;
  if (r < 0)
    return r;
  if (!f.found)
    return bk_fail(BLEAK_ERR_DEVICE_NOT_FOUND, "no matching device within %d ms",
                   timeout_ms);
  *out = f.found;
  return 0;
}

static bool match_address(const bleak_device *d, const bleak_adv_data *a, void *u) {
  (void)a;
  return !strcmp(d->address, u);
}

static bool match_name(const bleak_device *d, const bleak_adv_data *a, void *u) {
  (void)d;
  return a->local_name && !strcmp(a->local_name, u);
}

int bleak_scanner_find_device_by_address(bleak_scanner *s, const char *address,
                                         int timeout_ms, const bleak_device **out) {
  char addr[18];
  if (out)
    *out = NULL;
  if (!address || bk_normalize_address(address, addr) < 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "not a Bluetooth address");
  return bleak_scanner_find_device_by_filter(s, match_address, addr, timeout_ms, out);
}

int bleak_scanner_find_device_by_name(bleak_scanner *s, const char *name,
                                      int timeout_ms, const bleak_device **out) {
  if (out)
    *out = NULL;
  if (!name)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "name is NULL");
  return bleak_scanner_find_device_by_filter(s, match_name, (void *)name,
                                             timeout_ms, out);
}
