/* SPDX-License-Identifier: MIT */
/* GATT client procedures: see gatt_client.h. */
#include "backend/hci/gatt_client.h"

#include <stdlib.h>
#include <string.h>

#include "bleak/error.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define MOD "gatt"

#define UUID_PRIMARY 0x2800
#define UUID_INCLUDE 0x2802
#define UUID_CHARACTERISTIC 0x2803
#define ATT_ATTRIBUTE_NOT_FOUND 0x0a
#define ATT_ATTRIBUTE_NOT_LONG 0x0b
#define ATT_INVALID_OFFSET 0x07

typedef enum kind {
  P_DISCOVER,
  P_PRIMARY_BY_UUID,
  P_INCLUDED,
  P_READ,
  P_READ_BY_UUID,
  P_READ_MULT,
  P_WRITE,
} kind;

typedef struct svc {
  uint16_t start, end;
  bleak_uuid uuid;
} svc;

typedef struct chr {
  uint16_t decl, value, end; /* end: last handle of its descriptors */
  uint8_t props;
  bool cccd_inferred; /* its one descriptor must be the CCCD: not asked */
  bleak_uuid uuid;
} chr;

typedef struct dsc {
  uint16_t handle, chr_decl;
  bleak_uuid uuid;
} dsc;

/* A growable array of fixed-size items. */
typedef struct vec {
  void *items;
  size_t n, cap;
} vec;

static void *vec_push(vec *v, size_t size) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 16;
    void *n = realloc(v->items, cap * size);
    if (!n)
      return NULL;
    v->items = n;
    v->cap = cap;
  }
  return (uint8_t *)v->items + size * v->n++;
}

struct bk_gattc_proc {
  bk_att *att;
  kind kind;
  uint64_t now; /* the time of the step running: the start call's, then
                 * each answer's (its next request's timeout counts from it) */
  unsigned req; /* outstanding ATT request id, 0: none */
  void *user;
  bk_gattc_discover_fn discover_cb;
  bk_gattc_value_fn value_cb;
  bk_gattc_done_fn done_cb;
  bk_gattc_list_fn list_cb;
  unsigned requests;
  int phase;
  uint16_t handle, cursor, end;
  bleak_uuid uuid;
  uint16_t *handle_out;
  uint8_t *data; /* read: the value so far; write: the caller's copy */
  size_t len, off;
  bool reliable;
  int deferred_status; /* a long write canceling its queue fails with it */
  /* discovery and list results */
  vec svcs, chrs, dscs;
  size_t span_next; /* next characteristic to start a descriptor span at */
  uint16_t svcs_from;         /* discovery: services from here */
  uint16_t range_end;         /* discovery: services up to here */
  bleak_gatt_services *base;  /* range discovery: what stays outside */
  vec handles, ends, uuids;
};

static void proc_free(bk_gattc_proc *p) {
  bleak_gatt_services_unref(p->base);
  free(p->data);
  free(p->svcs.items);
  free(p->chrs.items);
  free(p->dscs.items);
  free(p->handles.items);
  free(p->ends.items);
  free(p->uuids.items);
  free(p);
}

static void on_rsp(void *user, int status, const bk_att_pdu *rsp, uint64_t now);

/* Queue the next request of @p p. */
static int send_req(bk_gattc_proc *p, const uint8_t *pdu, size_t len) {
  int err = bk_att_request(p->att, pdu, len, on_rsp, p, p->now, &p->req);
  if (err == 0)
    p->requests++;
  return err;
}

static void finish_list(bk_gattc_proc *p, int status) {
  p->list_cb(p->user, status, status ? 0 : p->handles.n, p->handles.items, p->ends.items,
             p->uuids.items);
}

/* Complete @p p with @p status (discovery builds its result first). */
static void complete(bk_gattc_proc *p, int status);

void bk_gattc_cancel(bk_gattc_proc *p) {
  if (!p)
    return;
  if (p->req)
    bk_att_cancel(p->att, p->req);
  proc_free(p);
}

static bk_gattc_proc *proc_new(bk_att *a, kind k, void *user, uint64_t now) {
  if (!a)
    return NULL;
  bk_gattc_proc *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->att = a;
  p->kind = k;
  p->user = user;
  p->now = now;
  return p;
}

/* A procedure whose first request was queued with result @p err: handed
 * to the caller, or freed and failed. */
static int begun(bk_gattc_proc *p, int err, bk_gattc_proc **out) {
  if (err) {
    proc_free(p);
    return err;
  }
  if (out)
    *out = p;
  return 0;
}

/* Start: send the first request, or free and fail. */
static int start(bk_gattc_proc *p, const uint8_t *pdu, size_t len, bk_gattc_proc **out) {
  return begun(p, send_req(p, pdu, len), out);
}

static size_t put_uuid(uint8_t *buf, const bleak_uuid *u) {
  int n = bleak_uuid_to_le_bytes(u, buf, 16);
  return n > 0 ? (size_t)n : 0;
}

/* ---- discovery ---------------------------------------------------------- */

enum { D_SERVICES, D_CHARACTERISTICS, D_DESCRIPTORS };

static int req_group(bk_gattc_proc *p) {
  uint8_t pdu[7] = {BK_ATT_READ_BY_GROUP_REQ};
  bk_put_le16(pdu + 1, p->cursor);
  bk_put_le16(pdu + 3, p->range_end);
  bk_put_le16(pdu + 5, UUID_PRIMARY);
  return send_req(p, pdu, sizeof pdu);
}

static int req_by_type16(bk_gattc_proc *p, uint16_t end, uint16_t type) {
  uint8_t pdu[7] = {BK_ATT_READ_BY_TYPE_REQ};
  bk_put_le16(pdu + 1, p->cursor);
  bk_put_le16(pdu + 3, end);
  bk_put_le16(pdu + 5, type);
  return send_req(p, pdu, sizeof pdu);
}

static int req_find_info(bk_gattc_proc *p) {
  uint8_t pdu[5] = {BK_ATT_FIND_INFO_REQ};
  bk_put_le16(pdu + 1, p->cursor);
  bk_put_le16(pdu + 3, p->end);
  return send_req(p, pdu, sizeof pdu);
}

static svc *svc_at(bk_gattc_proc *p, size_t i) { return (svc *)p->svcs.items + i; }
static chr *chr_at(bk_gattc_proc *p, size_t i) { return (chr *)p->chrs.items + i; }

static bool uuid16(const bleak_uuid *u) { return bleak_uuid_is_16bit(u, NULL); }

/* The next span of descriptor ranges: from the range of characteristic
 * span_next on, merged while the characteristics in between (whose
 * declaration and value Find Information would return too) have 16-bit
 * UUIDs, so the response format does not change inside the span. Sets
 * cursor and end; false when no range is left. */
static bool asked(const chr *c) { return c->value < c->end && !c->cccd_inferred; }

static bool next_span(bk_gattc_proc *p) {
  size_t i = p->span_next;
  while (i < p->chrs.n && !asked(chr_at(p, i)))
    i++;
  if (i >= p->chrs.n)
    return false;
  p->cursor = (uint16_t)(chr_at(p, i)->value + 1);
  p->end = chr_at(p, i)->end;
  size_t j = i + 1;
  for (; j < p->chrs.n && uuid16(&chr_at(p, j)->uuid); j++)
    if (asked(chr_at(p, j)))
      p->end = chr_at(p, j)->end;
  p->span_next = j;
  return true;
}

/* The characteristic whose descriptor range holds @p h, or NULL. */
static chr *chr_for_descriptor(bk_gattc_proc *p, uint16_t h) {
  size_t lo = 0, hi = p->chrs.n;
  while (lo < hi) { /* the last characteristic declared before h */
    size_t mid = (lo + hi) / 2;
    if (chr_at(p, mid)->decl < h)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return NULL;
  chr *c = chr_at(p, lo - 1);
  return h > c->value && h <= c->end ? c : NULL;
}

/* After the characteristics: each one's last handle, then descriptors. */
static int characteristics_done(bk_gattc_proc *p) {
  size_t si = 0;
  for (size_t i = 0; i < p->chrs.n; i++) {
    chr *c = chr_at(p, i);
    while (si < p->svcs.n && svc_at(p, si)->end < c->decl)
      si++;
    if (si == p->svcs.n || c->decl < svc_at(p, si)->start)
      return bk_fail(BLEAK_ERR_PROTOCOL, "characteristic 0x%04x is in no service", c->decl);
    uint16_t end = svc_at(p, si)->end;
    if (i + 1 < p->chrs.n && chr_at(p, i + 1)->decl <= end)
      end = (uint16_t)(chr_at(p, i + 1)->decl - 1);
    if (c->value > end)
      return bk_fail(BLEAK_ERR_PROTOCOL, "characteristic 0x%04x: value handle 0x%04x past 0x%04x",
                     c->decl, c->value, end);
    c->end = end;
    /* A characteristic that notifies or indicates has a CCCD (Vol 3 Part
     * G 3.3.1.1): when its range holds one handle, that is it. BlueZ
     * reasons the same way; it saves a Find Information per such
     * characteristic. */
    if ((c->props & 0x30) && c->value + 1 == c->end) {
      c->cccd_inferred = true;
      dsc *slot = vec_push(&p->dscs, sizeof *slot);
      if (!slot)
        return BLEAK_ERR_NO_MEMORY;
      *slot = (dsc){(uint16_t)(c->value + 1), c->decl, bleak_uuid_from_u16(0x2902)};
    }
  }
  p->phase = D_DESCRIPTORS;
  p->span_next = 0;
  if (!next_span(p))
    return 1; /* nothing left to find */
  return req_find_info(p);
}

static int start_characteristics(bk_gattc_proc *p) {
  if (p->svcs.n == 0)
    return 1;
  p->phase = D_CHARACTERISTICS;
  p->cursor = svc_at(p, 0)->start;
  p->end = svc_at(p, p->svcs.n - 1)->end;
  return req_by_type16(p, p->end, UUID_CHARACTERISTIC);
}

/* One response of discovery. @return 0 (a request is out), 1 (done), or an
 * error. */
static int discover_step(bk_gattc_proc *p, int status, const bk_att_pdu *rsp) {
  bool not_found = status == BLEAK_ERR_ATT(ATT_ATTRIBUTE_NOT_FOUND);
  if (status && !not_found)
    return status;
  switch (p->phase) {
  case D_SERVICES: {
    if (not_found)
      return start_characteristics(p);
    uint16_t last = 0;
    for (size_t i = 0; i < rsp->u.list.n; i++) {
      svc s;
      if (bk_att_group_at(rsp, i, &s.start, &s.end, &s.uuid) < 0)
        return BLEAK_ERR_PROTOCOL;
      uint16_t floor = p->svcs.n ? (uint16_t)(svc_at(p, p->svcs.n - 1)->end + 1) : p->cursor;
      if (s.start < p->cursor || s.start < floor || s.end < s.start || s.start == 0 ||
          s.start > p->range_end ||
          (p->svcs.n && svc_at(p, p->svcs.n - 1)->end == 0xffff))
        return bk_fail(BLEAK_ERR_PROTOCOL, "service 0x%04x-0x%04x out of order or range",
                       s.start, s.end);
      svc *slot = vec_push(&p->svcs, sizeof *slot);
      if (!slot)
        return BLEAK_ERR_NO_MEMORY;
      *slot = s;
      last = s.end;
    }
    if (last >= p->range_end)
      return start_characteristics(p);
    p->cursor = (uint16_t)(last + 1);
    return req_group(p);
  }
  case D_CHARACTERISTICS: {
    if (not_found)
      return characteristics_done(p);
    size_t vlen = rsp->u.list.entry_len - 2;
    if (vlen != 5 && vlen != 19)
      return bk_fail(BLEAK_ERR_PROTOCOL, "characteristic declarations of %zu bytes", vlen);
    uint16_t h = 0;
    for (size_t i = 0; i < rsp->u.list.n; i++) {
      const uint8_t *v;
      size_t l;
      chr c;
      bk_att_typed_at(rsp, i, &h, &v, &l);
      c.decl = h;
      c.props = v[0];
      c.value = bk_get_le16(v + 1);
      c.end = 0;
      c.cccd_inferred = false;
      bleak_uuid_from_le_bytes(v + 3, l - 3, &c.uuid);
      uint16_t floor = p->chrs.n ? (uint16_t)(chr_at(p, p->chrs.n - 1)->decl + 1) : p->cursor;
      if (h < p->cursor || h < floor || h > p->end || c.value <= h ||
          (p->chrs.n && chr_at(p, p->chrs.n - 1)->value >= h))
        return bk_fail(BLEAK_ERR_PROTOCOL, "characteristic 0x%04x (value 0x%04x) out of order "
                       "or range", h, c.value);
      chr *slot = vec_push(&p->chrs, sizeof *slot);
      if (!slot)
        return BLEAK_ERR_NO_MEMORY;
      *slot = c;
    }
    if (h >= p->end)
      return characteristics_done(p);
    p->cursor = (uint16_t)(h + 1);
    return req_by_type16(p, p->end, UUID_CHARACTERISTIC);
  }
  default: { /* D_DESCRIPTORS */
    uint16_t h = 0;
    if (!not_found) {
      for (size_t i = 0; i < rsp->u.list.n; i++) {
        bleak_uuid u;
        uint16_t prev = h;
        bk_att_info_at(rsp, i, &h, &u);
        if (h < p->cursor || h > p->end || (i && h <= prev))
          return bk_fail(BLEAK_ERR_PROTOCOL, "descriptor handle 0x%04x out of order or range", h);
        chr *c = chr_for_descriptor(p, h);
        if (!c || c->cccd_inferred)
          continue; /* a declaration or value we know, an include, or a
                     * CCCD already inferred (a span may run across it) */
        dsc *slot = vec_push(&p->dscs, sizeof *slot);
        if (!slot)
          return BLEAK_ERR_NO_MEMORY;
        *slot = (dsc){h, c->decl, u};
      }
    }
    if (!not_found && h < p->end) {
      p->cursor = (uint16_t)(h + 1);
      return req_find_info(p);
    }
    if (!next_span(p))
      return 1;
    return req_find_info(p);
  }
  }
}

/* The services of @p b wholly outside [lo, hi], copied into @p s (range
 * discovery keeps what lies outside the range that was discovered again). Services the range cuts are
 * dropped: the range is what the server says changed. */
static int copy_outside(const bleak_gatt_services *b, uint16_t lo, uint16_t hi,
                        bleak_gatt_services *s) {
  int err = 0;
  for (size_t i = 0; !err && i < bleak_gatt_services_count(b); i++) {
    const bleak_gatt_service *sv = bleak_gatt_services_at(b, i);
    uint16_t start = bleak_gatt_service_handle(sv), end = bleak_gatt_service_end_handle(sv);
    if (!(end < lo || start > hi))
      continue;
    err = bk_gatt_services_add_service(s, bleak_gatt_service_uuid(sv), start, end,
                                       bleak_gatt_service_is_primary(sv));
    for (size_t j = 0; !err && j < bleak_gatt_service_characteristic_count(sv); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(sv, j);
      uint16_t h = bleak_gatt_characteristic_handle(ch);
      err = bk_gatt_services_add_characteristic(s, start, bleak_gatt_characteristic_uuid(ch), h,
                                                bleak_gatt_characteristic_value_handle(ch),
                                                bleak_gatt_characteristic_properties(ch));
      for (size_t k = 0; !err && k < bleak_gatt_characteristic_descriptor_count(ch); k++) {
        const bleak_gatt_descriptor *d = bleak_gatt_characteristic_descriptor_at(ch, k);
        err = bk_gatt_services_add_descriptor(s, h, bleak_gatt_descriptor_uuid(d),
                                              bleak_gatt_descriptor_handle(d));
      }
    }
  }
  return err;
}

bleak_gatt_services *bk_gattc_copy_services(const bleak_gatt_services *src) {
  bleak_gatt_services *s = bk_gatt_services_new();
  if (!s)
    return NULL;
  /* An empty range [1, 0]: every service is outside it. */
  if (copy_outside(src, 1, 0, s) != 0 || bk_gatt_services_finish(s) != 0) {
    bleak_gatt_services_unref(s);
    return NULL;
  }
  bk_gatt_services_set_mtu(s, bleak_gatt_services_mtu(src));
  return s;
}

static int build(bk_gattc_proc *p, bleak_gatt_services **out) {
  bleak_gatt_services *s = bk_gatt_services_new();
  if (!s)
    return BLEAK_ERR_NO_MEMORY;
  int err = p->base ? copy_outside(p->base, p->svcs_from, p->range_end, s) : 0;
  size_t si = 0;
  for (size_t i = 0; !err && i < p->svcs.n; i++)
    err = bk_gatt_services_add_service(s, &svc_at(p, i)->uuid, svc_at(p, i)->start,
                                       svc_at(p, i)->end, true);
  for (size_t i = 0; !err && i < p->chrs.n; i++) {
    chr *c = chr_at(p, i);
    while (si < p->svcs.n && svc_at(p, si)->end < c->decl)
      si++;
    err = bk_gatt_services_add_characteristic(s, svc_at(p, si)->start, &c->uuid, c->decl,
                                              c->value, c->props);
  }
  for (size_t i = 0; !err && i < p->dscs.n; i++) {
    dsc *d = (dsc *)p->dscs.items + i;
    err = bk_gatt_services_add_descriptor(s, d->chr_decl, &d->uuid, d->handle);
  }
  if (!err)
    err = bk_gatt_services_finish(s);
  if (!err)
    bk_gatt_services_set_mtu(s, p->att->mtu);
  if (err) {
    bleak_gatt_services_unref(s);
    return err;
  }
  *out = s;
  return 0;
}

int bk_gattc_discover(bk_att *a, bk_gattc_discover_fn cb, void *user, uint64_t now,
                      bk_gattc_proc **out) {
  return bk_gattc_discover_range(a, 0x0001, 0xffff, NULL, cb, user, now, out);
}

int bk_gattc_discover_range(bk_att *a, uint16_t start, uint16_t end, bleak_gatt_services *base,
                            bk_gattc_discover_fn cb, void *user, uint64_t now,
                            bk_gattc_proc **out) {
  if (!cb || start == 0 || end < start)
    return BLEAK_ERR_INVALID_ARG;
  bk_gattc_proc *p = proc_new(a, P_DISCOVER, user, now);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  p->discover_cb = cb;
  p->phase = D_SERVICES;
  p->cursor = start;
  p->svcs_from = start;
  p->range_end = end;
  p->base = base ? bleak_gatt_services_ref(base) : NULL;
  return begun(p, req_group(p), out);
}

/* ---- primary services by UUID, included services ------------------------ */

static int push_entry(bk_gattc_proc *p, uint16_t h, uint16_t e, const bleak_uuid *u) {
  uint16_t *hs = vec_push(&p->handles, sizeof *hs);
  uint16_t *es = vec_push(&p->ends, sizeof *es);
  bleak_uuid *us = vec_push(&p->uuids, sizeof *us);
  if (!hs || !es || !us)
    return BLEAK_ERR_NO_MEMORY;
  *hs = h;
  *es = e;
  *us = *u;
  return 0;
}

static int req_find_by_type(bk_gattc_proc *p) {
  uint8_t pdu[7 + 16] = {BK_ATT_FIND_BY_TYPE_REQ};
  bk_put_le16(pdu + 1, p->cursor);
  bk_put_le16(pdu + 3, 0xffff);
  bk_put_le16(pdu + 5, UUID_PRIMARY);
  return send_req(p, pdu, 7 + put_uuid(pdu + 7, &p->uuid));
}

static int list_step(bk_gattc_proc *p, int status, const bk_att_pdu *rsp) {
  if (status == BLEAK_ERR_ATT(ATT_ATTRIBUTE_NOT_FOUND))
    return 1;
  if (status)
    return status;
  uint16_t last = 0;
  for (size_t i = 0; i < rsp->u.list.n; i++) {
    uint16_t h, e;
    bleak_uuid u;
    memset(&u, 0, sizeof u);
    if (p->kind == P_PRIMARY_BY_UUID) {
      bk_att_range_at(rsp, i, &h, &e);
      u = p->uuid;
      last = e;
    } else { /* included: handle, start, end[, uuid16] */
      const uint8_t *v;
      size_t l;
      bk_att_typed_at(rsp, i, &h, &v, &l);
      if (l != 4 && l != 6)
        return bk_fail(BLEAK_ERR_PROTOCOL, "include declaration of %zu bytes", l);
      e = bk_get_le16(v + 2);
      if (l == 6)
        u = bleak_uuid_from_u16(bk_get_le16(v + 4));
      last = h;
      uint16_t s = bk_get_le16(v);
      if (e < s)
        return bk_fail(BLEAK_ERR_PROTOCOL, "included service 0x%04x-0x%04x", s, e);
      h = s; /* report the included service's range */
    }
    uint16_t at = p->kind == P_PRIMARY_BY_UUID ? h : last;
    if (at < p->cursor || (p->kind == P_PRIMARY_BY_UUID && e < h))
      return bk_fail(BLEAK_ERR_PROTOCOL, "handle 0x%04x out of order", at);
    int err = push_entry(p, h, e, &u);
    if (err)
      return err;
    if (p->kind == P_PRIMARY_BY_UUID)
      p->cursor = (uint16_t)(e + 1);
    else
      p->cursor = (uint16_t)(last + 1);
  }
  if (last == 0xffff || (p->kind == P_INCLUDED && last >= p->end))
    return 1;
  return p->kind == P_PRIMARY_BY_UUID ? req_find_by_type(p)
                                      : req_by_type16(p, p->end, UUID_INCLUDE);
}

int bk_gattc_discover_primary_by_uuid(bk_att *a, const bleak_uuid *uuid, bk_gattc_list_fn cb,
                                      void *user, uint64_t now, bk_gattc_proc **out) {
  if (!uuid || !cb)
    return BLEAK_ERR_INVALID_ARG;
  bk_gattc_proc *p = proc_new(a, P_PRIMARY_BY_UUID, user, now);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  p->list_cb = cb;
  p->uuid = *uuid;
  p->cursor = 1;
  return begun(p, req_find_by_type(p), out);
}

int bk_gattc_find_included(bk_att *a, uint16_t start, uint16_t end, bk_gattc_list_fn cb,
                           void *user, uint64_t now, bk_gattc_proc **out) {
  if (!cb || start == 0 || end < start)
    return BLEAK_ERR_INVALID_ARG;
  bk_gattc_proc *p = proc_new(a, P_INCLUDED, user, now);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  p->list_cb = cb;
  p->cursor = start;
  p->end = end;
  return begun(p, req_by_type16(p, end, UUID_INCLUDE), out);
}

/* ---- reads ---------------------------------------------------------------- */

static int req_blob(bk_gattc_proc *p) {
  uint8_t pdu[5] = {BK_ATT_READ_BLOB_REQ};
  bk_put_le16(pdu + 1, p->handle);
  bk_put_le16(pdu + 3, (uint16_t)p->len);
  return send_req(p, pdu, sizeof pdu);
}

static int append(bk_gattc_proc *p, const uint8_t *v, size_t l) {
  if (l > BK_GATT_MAX_VALUE - p->len)
    l = BK_GATT_MAX_VALUE - p->len; /* a server going past 512: cut */
  memcpy(p->data + p->len, v, l);
  p->len += l;
  return 0;
}

static int read_step(bk_gattc_proc *p, int status, const bk_att_pdu *rsp) {
  if (p->len > 0 && (status == BLEAK_ERR_ATT(ATT_ATTRIBUTE_NOT_LONG) ||
                     status == BLEAK_ERR_ATT(ATT_INVALID_OFFSET)))
    return 1; /* the value ended exactly at a full response */
  if (status)
    return status;
  size_t got = rsp->u.raw.len;
  append(p, rsp->u.raw.data, got);
  /* A full response may mean more: go on with Read Blob (4.8.3). */
  if (got == (size_t)p->att->mtu - 1 && p->len < BK_GATT_MAX_VALUE)
    return req_blob(p);
  return 1;
}

int bk_gattc_read(bk_att *a, uint16_t handle, bk_gattc_value_fn cb, void *user, uint64_t now,
                  bk_gattc_proc **out) {
  if (!cb || handle == 0)
    return BLEAK_ERR_INVALID_ARG;
  bk_gattc_proc *p = proc_new(a, P_READ, user, now);
  if (!p || !(p->data = malloc(BK_GATT_MAX_VALUE))) {
    free(p);
    return BLEAK_ERR_NO_MEMORY;
  }
  p->value_cb = cb;
  p->handle = handle;
  uint8_t pdu[3] = {BK_ATT_READ_REQ};
  bk_put_le16(pdu + 1, handle);
  return start(p, pdu, sizeof pdu, out);
}

static int read_by_uuid_step(bk_gattc_proc *p, int status, const bk_att_pdu *rsp) {
  if (status)
    return status;
  uint16_t h;
  const uint8_t *v;
  size_t l;
  bk_att_typed_at(rsp, 0, &h, &v, &l);
  if (h < p->cursor || h > p->end)
    return bk_fail(BLEAK_ERR_PROTOCOL, "read by UUID: handle 0x%04x out of range", h);
  if (p->handle_out)
    *p->handle_out = h;
  append(p, v, l);
  return 1;
}

int bk_gattc_read_by_uuid(bk_att *a, uint16_t start_h, uint16_t end, const bleak_uuid *uuid,
                          uint16_t *handle_out, bk_gattc_value_fn cb, void *user, uint64_t now,
                          bk_gattc_proc **out) {
  if (!cb || !uuid || start_h == 0 || end < start_h)
    return BLEAK_ERR_INVALID_ARG;
  bk_gattc_proc *p = proc_new(a, P_READ_BY_UUID, user, now);
  if (!p || !(p->data = malloc(BK_GATT_MAX_VALUE))) {
    free(p);
    return BLEAK_ERR_NO_MEMORY;
  }
  p->value_cb = cb;
  p->cursor = start_h;
  p->end = end;
  p->handle_out = handle_out;
  uint8_t pdu[5 + 16] = {BK_ATT_READ_BY_TYPE_REQ};
  bk_put_le16(pdu + 1, start_h);
  bk_put_le16(pdu + 3, end);
  return start(p, pdu, 5 + put_uuid(pdu + 5, uuid), out);
}

int bk_gattc_read_multiple(bk_att *a, const uint16_t *handles, size_t n, bool variable,
                           bk_gattc_value_fn cb, void *user, uint64_t now, bk_gattc_proc **out) {
  if (!cb || !handles || n < 2)
    return BLEAK_ERR_INVALID_ARG; /* the procedure reads two or more */
  if (1 + 2 * n > (size_t)(a ? a->mtu : 0))
    return bk_fail(BLEAK_ERR_TOO_LONG, "%zu handles do not fit the MTU", n);
  bk_gattc_proc *p = proc_new(a, P_READ_MULT, user, now);
  uint8_t *pdu = malloc(1 + 2 * n);
  if (!p || !pdu || !(p->data = malloc(BK_GATT_MAX_VALUE + BK_ATT_MAX_MTU))) {
    free(p);
    free(pdu);
    return BLEAK_ERR_NO_MEMORY;
  }
  p->value_cb = cb;
  pdu[0] = variable ? BK_ATT_READ_MULT_VAR_REQ : BK_ATT_READ_MULT_REQ;
  for (size_t i = 0; i < n; i++)
    bk_put_le16(pdu + 1 + 2 * i, handles[i]);
  int err = start(p, pdu, 1 + 2 * n, out);
  free(pdu);
  return err;
}

/* ---- writes --------------------------------------------------------------- */

enum { W_SINGLE, W_PREPARE, W_EXECUTE, W_CANCEL };

static int req_prepare(bk_gattc_proc *p) {
  size_t part = (size_t)p->att->mtu - 5;
  if (part > p->len - p->off)
    part = p->len - p->off;
  uint8_t pdu[BK_ATT_MAX_MTU];
  pdu[0] = BK_ATT_PREP_WRITE_REQ;
  bk_put_le16(pdu + 1, p->handle);
  bk_put_le16(pdu + 3, (uint16_t)p->off);
  memcpy(pdu + 5, p->data + p->off, part);
  p->cursor = (uint16_t)part; /* this part's size, to check the echo */
  return send_req(p, pdu, 5 + part);
}

static int req_execute(bk_gattc_proc *p, uint8_t flags) {
  uint8_t pdu[2] = {BK_ATT_EXEC_WRITE_REQ, flags};
  p->phase = flags ? W_EXECUTE : W_CANCEL;
  return send_req(p, pdu, sizeof pdu);
}

static int write_step(bk_gattc_proc *p, int status, const bk_att_pdu *rsp) {
  switch (p->phase) {
  case W_SINGLE:
  case W_EXECUTE:
    return status ? status : 1;
  case W_CANCEL:
    return p->deferred_status;
  default: /* W_PREPARE */
    if (status == BLEAK_ERR_TIMEOUT || status == BLEAK_ERR_DISCONNECTED)
      return status;
    if (status) { /* the server refused a part: drop what it queued */
      p->deferred_status = status;
      return req_execute(p, 0x00);
    }
    if (rsp->u.value.handle != p->handle || rsp->u.value.offset != p->off ||
        rsp->u.value.len != p->cursor ||
        memcmp(rsp->u.value.value, p->data + p->off, p->cursor) != 0) {
      p->deferred_status =
          bk_fail(BLEAK_ERR_PROTOCOL, "prepared write at offset %zu came back different", p->off);
      return req_execute(p, 0x00);
    }
    p->off += p->cursor;
    if (p->off < p->len)
      return req_prepare(p);
    return req_execute(p, 0x01);
  }
}

int bk_gattc_write(bk_att *a, uint16_t handle, const uint8_t *value, size_t len, bool reliable,
                   bk_gattc_done_fn cb, void *user, uint64_t now, bk_gattc_proc **out) {
  if (!cb || handle == 0 || (len && !value))
    return BLEAK_ERR_INVALID_ARG;
  if (len > BK_GATT_MAX_VALUE)
    return bk_fail(BLEAK_ERR_TOO_LONG, "%zu bytes: an attribute holds at most 512", len);
  if (!a)
    return BLEAK_ERR_INVALID_ARG;
  bk_gattc_proc *p = proc_new(a, P_WRITE, user, now);
  if (!p || !(p->data = malloc(len ? len : 1))) {
    free(p);
    return BLEAK_ERR_NO_MEMORY;
  }
  p->done_cb = cb;
  p->handle = handle;
  p->len = len;
  if (len)
    memcpy(p->data, value, len);
  if (!reliable && len + 3 <= a->mtu) {
    uint8_t pdu[BK_ATT_MAX_MTU];
    pdu[0] = BK_ATT_WRITE_REQ;
    bk_put_le16(pdu + 1, handle);
    if (len)
      memcpy(pdu + 3, value, len);
    p->phase = W_SINGLE;
    return start(p, pdu, 3 + len, out);
  }
  p->phase = W_PREPARE;
  return begun(p, req_prepare(p), out);
}

int bk_gattc_write_command(bk_att *a, uint16_t handle, const uint8_t *value, size_t len) {
  if (!a || handle == 0 || (len && !value))
    return BLEAK_ERR_INVALID_ARG;
  if (len + 3 > a->mtu)
    return bk_fail(BLEAK_ERR_TOO_LONG, "write without response of %zu bytes, MTU %u", len,
                   a->mtu);
  uint8_t pdu[BK_ATT_MAX_MTU];
  pdu[0] = BK_ATT_WRITE_CMD;
  bk_put_le16(pdu + 1, handle);
  if (len)
    memcpy(pdu + 3, value, len);
  return bk_att_command(a, pdu, 3 + len);
}

/* ---- dispatch ------------------------------------------------------------- */

static void complete(bk_gattc_proc *p, int status) {
  switch (p->kind) {
  case P_DISCOVER: {
    bleak_gatt_services *s = NULL;
    if (status == 0)
      status = build(p, &s);
    p->discover_cb(p->user, status, s, p->requests);
    break;
  }
  case P_PRIMARY_BY_UUID:
  case P_INCLUDED:
    finish_list(p, status);
    break;
  case P_READ:
  case P_READ_BY_UUID:
  case P_READ_MULT:
    p->value_cb(p->user, status, status ? NULL : p->data, status ? 0 : p->len);
    break;
  case P_WRITE:
    p->done_cb(p->user, status);
    break;
  }
  proc_free(p);
}

static void on_rsp(void *user, int status, const bk_att_pdu *rsp, uint64_t now) {
  bk_gattc_proc *p = user;
  p->req = 0;
  p->now = now;
  int r;
  switch (p->kind) {
  case P_DISCOVER:
    r = discover_step(p, status, rsp);
    break;
  case P_PRIMARY_BY_UUID:
  case P_INCLUDED:
    r = list_step(p, status, rsp);
    break;
  case P_READ:
    r = read_step(p, status, rsp);
    break;
  case P_READ_BY_UUID:
    r = read_by_uuid_step(p, status, rsp);
    break;
  case P_READ_MULT:
    if (status == 0) {
      size_t l = rsp->u.raw.len;
      memcpy(p->data, rsp->u.raw.data, l);
      p->len = l;
    }
    r = status ? status : 1;
    break;
  default:
    r = write_step(p, status, rsp);
    break;
  }
  if (r != 0)
    complete(p, r == 1 ? 0 : r);
}
