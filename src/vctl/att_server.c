/* SPDX-License-Identifier: MIT */
/*
 * The ATT server of one connection to a virtual peripheral: see
 * att_server.h. Requests are answered in the order they come; what the
 * controller has no room for waits in a queue (VCTL_OUT_MAX PDUs) and goes
 * out at vctl_att_conn_writable. Error codes and their handles follow Core
 * Vol 3 Part F 3.4 and, where the spec leaves a choice, what BlueZ's
 * gatt-server does (the guest fixture runs behind it): Insufficient
 * Encryption for an encrypt-* attribute on a plain link, a long write that
 * keeps value[:offset] + data.
 */
#include "vctl/att_server.h"

#include <stdlib.h>
#include <string.h>

#include "backend/hci/att_pdu.h"
#include "bleak/error.h"
#include "core/internal.h"
#include "vctl/att_conn_priv.h"

#define ATT_MIN_MTU 23
#define ATT_MAX_MTU 517
#define ATT_SIGNED_WRITE_CMD 0xd2
#define ATT_CCCD_IMPROPER 0xfd /* Core Supplement Part B 1.2 */

/* -- output -- */

bool vctl_att_room(const vctl_att_conn *c) {
  return !c->dead && !c->head && !c->stalled && !c->faults.silent && !c->late_head;
}

/* A copy of @p pdu at the end of a list of at most VCTL_OUT_MAX (a client
 * that floods requests, or never confirms: what comes beyond goes). */
static bool append(vctl_out **head, vctl_out **tail, size_t *count, const uint8_t *pdu,
                   size_t len) {
  vctl_out *o = *count < VCTL_OUT_MAX ? malloc(sizeof *o + len) : NULL;
  if (!o)
    return false;
  o->next = NULL;
  o->len = (uint16_t)len;
  memcpy(o->pdu, pdu, len);
  if (*tail)
    (*tail)->next = o;
  else
    *head = o;
  *tail = o;
  (*count)++;
  return true;
}

/* The first of a list, taken off it (the caller frees it). */
static vctl_out *take(vctl_out **head, vctl_out **tail, size_t *count) {
  vctl_out *o = *head;
  *head = o->next;
  if (!*head)
    *tail = NULL;
  (*count)--;
  return o;
}

/* Out now, or into the queue. */
static void out_now(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  if (!c->head && c->io.send(c->io.ctx, pdu, len))
    return;
  (void)append(&c->head, &c->tail, &c->queued, pdu, len);
}

static void out_pdu(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  if (c->dead || c->faults.silent)
    return;
  if ((c->faults.delay_ms || c->late_head) &&
      append(&c->late_head, &c->late_tail, &c->late_queued, pdu, len)) {
    c->late_tail->due = c->now + c->faults.delay_ms;
    return;
  }
  out_now(c, pdu, len);
}

/* What the delay fault held and is due. */
static void release_late(vctl_att_conn *c, uint64_t now) {
  while (c->late_head && c->late_head->due <= now && !c->dead) {
    vctl_out *o = take(&c->late_head, &c->late_tail, &c->late_queued);
    out_now(c, o->pdu, o->len);
    free(o);
  }
}

/* Offer the queue again: true once it is empty. */
static bool flush(vctl_att_conn *c) {
  while (c->head && !c->dead) {
    vctl_out *o = c->head;
    if (!c->io.send(c->io.ctx, o->pdu, o->len))
      return false;
    free(take(&c->head, &c->tail, &c->queued));
  }
  return !c->head;
}

static void free_list(vctl_out *o) {
  while (o) {
    vctl_out *next = o->next;
    free(o);
    o = next;
  }
}

static void error_rsp(vctl_att_conn *c, uint8_t req, uint16_t handle, uint8_t code) {
  uint8_t pdu[5] = {BK_ATT_ERROR_RSP, req, 0, 0, code};
  bk_put_le16(pdu + 2, handle);
  out_pdu(c, pdu, sizeof pdu);
}

/* -- per-connection values -- */

uint16_t vctl_att_cccd(const vctl_att_conn *c, uint16_t value_handle) {
  for (size_t i = 0; i < c->n_cccd; i++)
    if (c->cccd[i].handle == value_handle)
      return c->cccd[i].value;
  return 0;
}

static bool set_cccd(vctl_att_conn *c, uint16_t value_handle, uint16_t value) {
  for (size_t i = 0; i < c->n_cccd; i++)
    if (c->cccd[i].handle == value_handle) {
      c->cccd[i].value = value;
      return true;
    }
  if (c->n_cccd == c->cap_cccd) {
    size_t cap = c->cap_cccd ? c->cap_cccd * 2 : 8;
    vctl_cccd_value *v = realloc(c->cccd, cap * sizeof *v);
    if (!v)
      return false;
    c->cccd = v;
    c->cap_cccd = cap;
  }
  c->cccd[c->n_cccd++] = (vctl_cccd_value){value_handle, value};
  return true;
}

/* GATT's Client Supported Features is the one characteristic value kept
 * per connection. */
static bool per_connection(const vctl_attr *a) {
  return a->kind == VCTL_ATTR_CCCD || (a->kind == VCTL_ATTR_CHAR_VALUE && vctl_attr_is(a, 0x2b29));
}

/* The value @p c reads from @p a (tmp: room for a per-connection one). */
static const uint8_t *attr_value(const vctl_att_conn *c, const vctl_attr *a, uint8_t tmp[2],
                                 size_t *len) {
  if (a->kind == VCTL_ATTR_CCCD) {
    bk_put_le16(tmp, vctl_att_cccd(c, a->value_handle));
    *len = 2;
    return tmp;
  }
  if (per_connection(a)) {
    tmp[0] = c->client_features;
    *len = 1;
    return tmp;
  }
  *len = a->len;
  return a->value;
}

/* -- permissions -- */

static uint8_t security(const vctl_att_conn *c, bool encrypt, bool authen) {
  if (authen && !(c->encrypted && c->authenticated))
    return BLEAK_ATT_INSUFFICIENT_AUTHENTICATION;
  if ((encrypt || authen) && !c->encrypted)
    return BLEAK_ATT_INSUFFICIENT_ENCRYPTION;
  if ((encrypt || authen) && c->key_size && c->key_size < 7)
    return BLEAK_ATT_INSUFFICIENT_KEY_SIZE;
  return 0;
}

static uint8_t check_read(const vctl_att_conn *c, const vctl_attr *a) {
  if (!(a->perm & VCTL_PERM_READ))
    return BLEAK_ATT_READ_NOT_PERMITTED;
  return security(c, a->perm & VCTL_PERM_READ_ENCRYPT, a->perm & VCTL_PERM_READ_AUTHEN);
}

static uint8_t check_write(const vctl_att_conn *c, const vctl_attr *a) {
  if (!(a->perm & VCTL_PERM_WRITE))
    return BLEAK_ATT_WRITE_NOT_PERMITTED;
  return security(c, a->perm & VCTL_PERM_WRITE_ENCRYPT, a->perm & VCTL_PERM_WRITE_AUTHEN);
}

/* -- writes -- */

/* Whether @p v, the whole new value (@p len bytes; a prepared write's
 * pieces are put together first), may be written to @p a: an ATT error
 * code or 0; *store: whether to keep it. */
static uint8_t validate_write(vctl_att_conn *c, const vctl_attr *a, const uint8_t *v, size_t len,
                              bool *store) {
  *store = true;
  if (a->kind == VCTL_ATTR_CCCD) {
    if (len != 2)
      return BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
    uint16_t want = bk_get_le16(v);
    if (((want & 1) && !(a->props & VCTL_PROP_NOTIFY)) ||
        ((want & 2) && !(a->props & VCTL_PROP_INDICATE)))
      return ATT_CCCD_IMPROPER;
    return 0;
  }
  if (per_connection(a)) { /* Client Supported Features: 1 byte, bits stay set */
    if (len != 1)
      return BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
    return c->client_features & ~v[0] ? BLEAK_ATT_VALUE_NOT_ALLOWED : 0;
  }
  if (len > VCTL_ATTR_MAX_LEN)
    return BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
  if (a->kind == VCTL_ATTR_CHAR_VALUE && a->behaviour >= 0)
    return vctl_bhv_check_write(c, a, v, len, store);
  return 0;
}

/* Keep the value checked by validate_write. */
static void store_write(vctl_att_conn *c, vctl_attr *a, const uint8_t *v, size_t len) {
  if (a->kind == VCTL_ATTR_CCCD) {
    (void)set_cccd(c, a->value_handle, bk_get_le16(v) & 3);
    return;
  }
  if (per_connection(a)) {
    c->client_features |= v[0];
    return;
  }
  vctl_attr_set(a, v, len);
}

/* After the write's answer: behaviours act on it. */
static void after_write(vctl_att_conn *c, vctl_attr *a, const uint8_t *v, size_t len,
                        bool command, uint64_t now) {
  if (c->p->observer)
    c->p->observer(c->p->observer_ctx, a->handle, v, len, command);
  if (a->kind == VCTL_ATTR_CCCD)
    vctl_bhv_subscribed(c, a->value_handle, vctl_att_cccd(c, a->value_handle), now);
  else if (a->kind == VCTL_ATTR_CHAR_VALUE && a->behaviour >= 0)
    vctl_bhv_written(c, a, v, len, now);
}

/* Write Request (respond) and Write Command (silent). */
static void on_write(vctl_att_conn *c, const uint8_t *pdu, size_t len, bool command,
                     uint64_t now) {
  uint8_t op = pdu[0];
  if (len < 3) {
    if (!command)
      error_rsp(c, op, 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  uint16_t h = bk_get_le16(pdu + 1);
  const uint8_t *v = pdu + 3;
  size_t vlen = len - 3;
  vctl_attr *a = vctl_db_find(&c->p->db, h);
  uint8_t code = a ? check_write(c, a) : BLEAK_ATT_INVALID_HANDLE;
  /* A characteristic takes the kind of write its properties name. */
  if (!code && a->kind == VCTL_ATTR_CHAR_VALUE &&
      !(a->props & (command ? VCTL_PROP_WRITE_WITHOUT_RESPONSE : VCTL_PROP_WRITE)))
    code = BLEAK_ATT_WRITE_NOT_PERMITTED;
  bool store = true;
  if (!code)
    code = validate_write(c, a, v, vlen, &store);
  if (code) {
    if (!command)
      error_rsp(c, op, h, code);
    return;
  }
  if (store)
    store_write(c, a, v, vlen);
  if (!command) {
    uint8_t rsp = BK_ATT_WRITE_RSP;
    out_pdu(c, &rsp, 1);
  }
  after_write(c, a, v, vlen, command, now);
}

static void on_prepare(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  if (len < 5) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  uint16_t h = bk_get_le16(pdu + 1), offset = bk_get_le16(pdu + 3);
  vctl_attr *a = vctl_db_find(&c->p->db, h);
  uint8_t code = a ? check_write(c, a) : BLEAK_ATT_INVALID_HANDLE;
  if (!code && a->kind == VCTL_ATTR_CHAR_VALUE && !(a->props & VCTL_PROP_WRITE))
    code = BLEAK_ATT_WRITE_NOT_PERMITTED;
  if (!code && len - 5 > VCTL_ATTR_MAX_LEN)
    code = BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
  if (!code && !c->prep && !(c->prep = malloc(VCTL_PREP_MAX * sizeof *c->prep)))
    code = BLEAK_ATT_INSUFFICIENT_RESOURCES;
  if (!code && c->n_prep == VCTL_PREP_MAX)
    code = BLEAK_ATT_PREPARE_QUEUE_FULL;
  if (code) {
    error_rsp(c, pdu[0], h, code);
    return;
  }
  vctl_prep *e = &c->prep[c->n_prep++];
  e->handle = h;
  e->offset = offset;
  e->len = (uint16_t)(len - 5);
  memcpy(e->data, pdu + 5, e->len);
  uint8_t rsp[ATT_MAX_MTU];
  size_t n = len < c->mtu ? len : c->mtu;
  memcpy(rsp, pdu, n);
  rsp[0] = BK_ATT_PREP_WRITE_RSP;
  out_pdu(c, rsp, n);
}

/* The value the queued writes from entry @p first on make of their
 * handle's value: an ATT error code (and the handle) or 0. */
static uint8_t assemble(const vctl_att_conn *c, size_t first, uint8_t *out, size_t *out_len) {
  uint16_t h = c->prep[first].handle;
  vctl_attr *a = vctl_db_find(&c->p->db, h);
  if (!a)
    return BLEAK_ATT_INVALID_HANDLE;
  uint8_t tmp[2];
  const uint8_t *cur = attr_value(c, a, tmp, out_len);
  memcpy(out, cur, *out_len);
  for (size_t j = first; j < c->n_prep; j++) {
    const vctl_prep *e = &c->prep[j];
    if (e->handle != h)
      continue;
    if (e->offset > *out_len)
      return BLEAK_ATT_INVALID_OFFSET;
    if ((size_t)e->offset + e->len > VCTL_ATTR_MAX_LEN)
      return BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
    memcpy(out + e->offset, e->data, e->len);
    *out_len = (size_t)e->offset + e->len;
  }
  return 0;
}

static bool first_of_handle(const vctl_att_conn *c, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (c->prep[j].handle == c->prep[i].handle)
      return false;
  return true;
}

static void on_execute(vctl_att_conn *c, const uint8_t *pdu, size_t len, uint64_t now) {
  if (len != 2 || pdu[1] > 1) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  size_t n = pdu[1] == 1 ? c->n_prep : 0; /* flags 0: cancel */
  uint8_t value[VCTL_ATTR_MAX_LEN];
  size_t vlen = 0;
  bool store;
  /* All or nothing: every handle's new value is checked first. */
  for (size_t i = 0; i < n; i++) {
    if (!first_of_handle(c, i))
      continue;
    uint8_t code = assemble(c, i, value, &vlen);
    if (!code)
      code = validate_write(c, vctl_db_find(&c->p->db, c->prep[i].handle), value, vlen, &store);
    if (code) {
      c->n_prep = 0;
      error_rsp(c, pdu[0], c->prep[i].handle, code);
      return;
    }
  }
  /* Each handle's value once, in the order of its first queued write. */
  for (size_t i = 0; i < n; i++) {
    if (!first_of_handle(c, i))
      continue;
    vctl_attr *a = vctl_db_find(&c->p->db, c->prep[i].handle);
    (void)assemble(c, i, value, &vlen);
    (void)validate_write(c, a, value, vlen, &store);
    if (store)
      store_write(c, a, value, vlen);
  }
  uint8_t rsp = BK_ATT_EXEC_WRITE_RSP;
  out_pdu(c, &rsp, 1);
  /* The behaviours see the values once the answer is out (assembled
   * again: the stored value keeps each write's prefix, so it comes out
   * the same). */
  for (size_t i = 0; i < n; i++) {
    if (!first_of_handle(c, i))
      continue;
    vctl_attr *a = vctl_db_find(&c->p->db, c->prep[i].handle);
    if (a && assemble(c, i, value, &vlen) == 0)
      after_write(c, a, value, vlen, false, now);
  }
  c->n_prep = 0;
}

/* -- reads -- */

static void on_read(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  bool blob = pdu[0] == BK_ATT_READ_BLOB_REQ;
  if (len != (blob ? 5u : 3u)) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  uint16_t h = bk_get_le16(pdu + 1), offset = blob ? bk_get_le16(pdu + 3) : 0;
  vctl_attr *a = vctl_db_find(&c->p->db, h);
  uint8_t code = a ? check_read(c, a) : BLEAK_ATT_INVALID_HANDLE;
  if (!code && !blob)
    vctl_bhv_before_read(c, a);
  uint8_t tmp[2];
  size_t vlen = 0;
  const uint8_t *v = code ? NULL : attr_value(c, a, tmp, &vlen);
  if (!code && blob && offset > vlen)
    code = BLEAK_ATT_INVALID_OFFSET;
  /* Declarations and CCCDs have a fixed length that one Read carries. */
  if (!code && blob && a->kind != VCTL_ATTR_CHAR_VALUE && a->kind != VCTL_ATTR_DESCRIPTOR &&
      vlen <= (size_t)c->mtu - 3)
    code = BLEAK_ATT_ATTRIBUTE_NOT_LONG;
  if (code) {
    error_rsp(c, pdu[0], h, code);
    return;
  }
  uint8_t rsp[ATT_MAX_MTU];
  rsp[0] = blob ? BK_ATT_READ_BLOB_RSP : BK_ATT_READ_RSP;
  size_t n = vlen - offset;
  if (n > (size_t)c->mtu - 1)
    n = (size_t)c->mtu - 1;
  memcpy(rsp + 1, v + offset, n);
  out_pdu(c, rsp, 1 + n);
}

static void on_read_multiple(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  bool variable = pdu[0] == BK_ATT_READ_MULT_VAR_REQ;
  if (len < 5 || (len - 1) % 2) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  uint8_t rsp[ATT_MAX_MTU + VCTL_ATTR_MAX_LEN + 2];
  rsp[0] = variable ? BK_ATT_READ_MULT_VAR_RSP : BK_ATT_READ_MULT_RSP;
  size_t n = 1, cap = c->mtu;
  for (size_t i = 1; i + 1 < len; i += 2) {
    uint16_t h = bk_get_le16(pdu + i);
    vctl_attr *a = vctl_db_find(&c->p->db, h);
    uint8_t code = a ? check_read(c, a) : BLEAK_ATT_INVALID_HANDLE;
    if (code) {
      error_rsp(c, pdu[0], h, code);
      return;
    }
    if (n >= cap)
      continue; /* full: the rest are still checked */
    uint8_t tmp[2];
    size_t vlen;
    const uint8_t *v = attr_value(c, a, tmp, &vlen);
    if (variable) {
      bk_put_le16(rsp + n, (uint16_t)vlen);
      n += 2;
    }
    memcpy(rsp + n, v, vlen);
    n += vlen;
  }
  out_pdu(c, rsp, n < cap ? n : cap);
}

/* Start and end handles of a range request, checked: false after the
 * Error Response. */
static bool range(vctl_att_conn *c, const uint8_t *pdu, uint16_t *start, uint16_t *end) {
  *start = bk_get_le16(pdu + 1);
  *end = bk_get_le16(pdu + 3);
  if (*start == 0 || *start > *end) {
    error_rsp(c, pdu[0], *start, BLEAK_ATT_INVALID_HANDLE);
    return false;
  }
  return true;
}

static void on_find_info(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  uint16_t start, end;
  if (len != 5) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  if (!range(c, pdu, &start, &end))
    return;
  const vctl_gatt_db *db = &c->p->db;
  uint8_t rsp[ATT_MAX_MTU];
  size_t n = 2, entry = 0;
  for (size_t i = vctl_db_lower_bound(db, start); i < db->n && db->attrs[i].handle <= end; i++) {
    uint8_t u[16];
    int ulen = bleak_uuid_to_le_bytes(&db->attrs[i].type, u, sizeof u);
    if (ulen <= 0)
      break;
    if (!entry)
      entry = 2 + (size_t)ulen;
    if (entry != 2 + (size_t)ulen || n + entry > c->mtu)
      break;
    bk_put_le16(rsp + n, db->attrs[i].handle);
    memcpy(rsp + n + 2, u, (size_t)ulen);
    n += entry;
  }
  if (!entry) {
    error_rsp(c, pdu[0], start, BLEAK_ATT_ATTRIBUTE_NOT_FOUND);
    return;
  }
  rsp[0] = BK_ATT_FIND_INFO_RSP;
  rsp[1] = entry == 4 ? 1 : 2;
  out_pdu(c, rsp, n);
}

static void on_find_by_type(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  uint16_t start, end;
  if (len < 7) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  if (!range(c, pdu, &start, &end))
    return;
  bleak_uuid type = bleak_uuid_from_u16(bk_get_le16(pdu + 5));
  const uint8_t *want = pdu + 7;
  size_t want_len = len - 7;
  const vctl_gatt_db *db = &c->p->db;
  uint8_t rsp[ATT_MAX_MTU];
  rsp[0] = BK_ATT_FIND_BY_TYPE_RSP;
  size_t n = 1;
  for (size_t i = vctl_db_lower_bound(db, start); i < db->n && db->attrs[i].handle <= end; i++) {
    const vctl_attr *a = &db->attrs[i];
    uint8_t tmp[2];
    size_t vlen;
    const uint8_t *v = attr_value(c, a, tmp, &vlen);
    if (!bleak_uuid_equal(&a->type, &type) || vlen != want_len || memcmp(v, want, vlen))
      continue;
    if (n + 4 > c->mtu)
      break;
    bk_put_le16(rsp + n, a->handle);
    bk_put_le16(rsp + n + 2, a->kind == VCTL_ATTR_SERVICE ? a->end : a->handle);
    n += 4;
  }
  if (n == 1)
    error_rsp(c, pdu[0], start, BLEAK_ATT_ATTRIBUTE_NOT_FOUND);
  else
    out_pdu(c, rsp, n);
}

/* Read By Type and Read By Group Type: @p group for the latter. */
static void on_read_by_type(vctl_att_conn *c, const uint8_t *pdu, size_t len, bool group) {
  uint16_t start, end;
  bleak_uuid type;
  if ((len != 7 && len != 21) || bleak_uuid_from_le_bytes(pdu + 5, len - 5, &type)) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  if (!range(c, pdu, &start, &end))
    return;
  uint16_t t16 = 0;
  if (group && !(bleak_uuid_is_16bit(&type, &t16) && (t16 == 0x2800 || t16 == 0x2801))) {
    error_rsp(c, pdu[0], start, BLEAK_ATT_UNSUPPORTED_GROUP_TYPE);
    return;
  }
  const vctl_gatt_db *db = &c->p->db;
  uint8_t rsp[ATT_MAX_MTU];
  size_t n = 2, entry = 0, head = group ? 4 : 2;
  for (size_t i = vctl_db_lower_bound(db, start); i < db->n && db->attrs[i].handle <= end; i++) {
    const vctl_attr *a = &db->attrs[i];
    if (!bleak_uuid_equal(&a->type, &type))
      continue;
    uint8_t code = check_read(c, a);
    if (code) {
      if (!entry) { /* the first one found: its error; a later one ends the list */
        error_rsp(c, pdu[0], a->handle, code);
        return;
      }
      break;
    }
    uint8_t tmp[2];
    size_t vlen;
    const uint8_t *v = attr_value(c, a, tmp, &vlen);
    /* Entries share one length byte: at most 255 and what the MTU leaves. */
    size_t room = (size_t)c->mtu - 2 - head;
    if (room > 255 - head)
      room = 255 - head;
    if (vlen > room)
      vlen = room;
    if (!entry)
      entry = head + vlen;
    if (entry != head + vlen || n + entry > c->mtu)
      break;
    bk_put_le16(rsp + n, a->handle);
    if (group)
      bk_put_le16(rsp + n + 2, a->end);
    memcpy(rsp + n + head, v, vlen);
    n += entry;
  }
  if (n == 2) {
    error_rsp(c, pdu[0], start, BLEAK_ATT_ATTRIBUTE_NOT_FOUND);
    return;
  }
  rsp[0] = group ? BK_ATT_READ_BY_GROUP_RSP : BK_ATT_READ_BY_TYPE_RSP;
  rsp[1] = (uint8_t)entry;
  out_pdu(c, rsp, n);
}

static void on_mtu(vctl_att_conn *c, const uint8_t *pdu, size_t len) {
  if (len != 3) {
    error_rsp(c, pdu[0], 0, BLEAK_ATT_INVALID_PDU);
    return;
  }
  uint16_t client = bk_get_le16(pdu + 1);
  uint16_t server = c->max_mtu < c->p->mtu ? c->max_mtu : c->p->mtu;
  if (c->faults.max_mtu >= ATT_MIN_MTU && c->faults.max_mtu < server)
    server = c->faults.max_mtu;
  uint8_t rsp[3] = {BK_ATT_MTU_RSP};
  bk_put_le16(rsp + 1, server);
  out_pdu(c, rsp, sizeof rsp);
  /* The answer goes at the old MTU; what follows at the new one. */
  uint16_t mtu = client < server ? client : server;
  c->mtu = mtu < ATT_MIN_MTU ? ATT_MIN_MTU : mtu;
}

static void send_next_indication(vctl_att_conn *c) {
  if (c->ind_in_flight || !c->ind_head)
    return;
  vctl_out *o = take(&c->ind_head, &c->ind_tail, &c->ind_queued);
  c->ind_in_flight = true;
  out_pdu(c, o->pdu, o->len);
  free(o);
}

static void on_confirmation(vctl_att_conn *c, size_t len, uint64_t now) {
  if (len != 1 || !c->ind_in_flight)
    return; /* a confirmation nobody asked for: nothing to do */
  c->ind_in_flight = false;
  send_next_indication(c);
  vctl_bhv_run(c, now); /* a stream of indications goes on */
}

bool vctl_att_indication_idle(const vctl_att_conn *c) {
  return !c->dead && !c->ind_in_flight && !c->ind_head;
}

/* What a server does with PDUs a client sends: responses and server
 * PDUs are dropped; unknown requests are answered Request Not Supported;
 * unknown commands (bit 6) dropped. */
static bool is_server_pdu(uint8_t op) {
  switch (op) {
  case BK_ATT_ERROR_RSP: case BK_ATT_MTU_RSP: case BK_ATT_FIND_INFO_RSP:
  case BK_ATT_FIND_BY_TYPE_RSP: case BK_ATT_READ_BY_TYPE_RSP: case BK_ATT_READ_RSP:
  case BK_ATT_READ_BLOB_RSP: case BK_ATT_READ_MULT_RSP: case BK_ATT_READ_BY_GROUP_RSP:
  case BK_ATT_WRITE_RSP: case BK_ATT_PREP_WRITE_RSP: case BK_ATT_EXEC_WRITE_RSP:
  case BK_ATT_NOTIFICATION: case BK_ATT_INDICATION: case BK_ATT_READ_MULT_VAR_RSP:
  case BK_ATT_MULT_NOTIFICATION:
    return true;
  default:
    return false;
  }
}

void vctl_att_conn_input(vctl_att_conn *c, const uint8_t *pdu, size_t len, uint64_t now_ms) {
  if (!c || !pdu || !len || c->dead)
    return;
  c->now = now_ms;
  uint8_t op = pdu[0];
  if (c->faults.drop_after && ++c->pdus_in >= c->faults.drop_after) {
    c->dead = true;
    c->io.disconnect(c->io.ctx, 0x13);
    return;
  }
  if (c->faults.drop_opcode && op == c->faults.drop_opcode) {
    c->dead = true;
    c->io.disconnect(c->io.ctx, 0x13);
    return;
  }
  if (c->faults.malformed_len && !(op & 0x40) && !is_server_pdu(op) &&
      op != BK_ATT_CONFIRMATION) {
    uint8_t bad[sizeof c->faults.malformed];
    size_t n = c->faults.malformed_len < sizeof bad ? c->faults.malformed_len : sizeof bad;
    memcpy(bad, c->faults.malformed, n);
    c->faults.malformed_len = 0;
    out_pdu(c, bad, n < c->mtu ? n : c->mtu);
    return;
  }
  if (c->faults.error_code && len >= 3 && bk_get_le16(pdu + 1) == c->faults.error_handle &&
      (op == BK_ATT_READ_REQ || op == BK_ATT_READ_BLOB_REQ || op == BK_ATT_WRITE_REQ ||
       op == BK_ATT_PREP_WRITE_REQ)) {
    error_rsp(c, op, c->faults.error_handle, c->faults.error_code);
    return;
  }
  if (c->drop_on_request && op != BK_ATT_MTU_REQ && !(op & 0x40) && !is_server_pdu(op) &&
      op != BK_ATT_CONFIRMATION) {
    /* Fixture control 06: this central loses its link while it discovers. */
    c->drop_on_request = false;
    c->dead = true;
    c->io.disconnect(c->io.ctx, 0x13);
    return;
  }
  switch (op) {
  case BK_ATT_MTU_REQ: on_mtu(c, pdu, len); break;
  case BK_ATT_FIND_INFO_REQ: on_find_info(c, pdu, len); break;
  case BK_ATT_FIND_BY_TYPE_REQ: on_find_by_type(c, pdu, len); break;
  case BK_ATT_READ_BY_TYPE_REQ: on_read_by_type(c, pdu, len, false); break;
  case BK_ATT_READ_BY_GROUP_REQ: on_read_by_type(c, pdu, len, true); break;
  case BK_ATT_READ_REQ:
  case BK_ATT_READ_BLOB_REQ: on_read(c, pdu, len); break;
  case BK_ATT_READ_MULT_REQ:
  case BK_ATT_READ_MULT_VAR_REQ: on_read_multiple(c, pdu, len); break;
  case BK_ATT_WRITE_REQ: on_write(c, pdu, len, false, now_ms); break;
  case BK_ATT_WRITE_CMD: on_write(c, pdu, len, true, now_ms); break;
  case BK_ATT_PREP_WRITE_REQ: on_prepare(c, pdu, len); break;
  case BK_ATT_EXEC_WRITE_REQ: on_execute(c, pdu, len, now_ms); break;
  case BK_ATT_CONFIRMATION: on_confirmation(c, len, now_ms); break;
  case ATT_SIGNED_WRITE_CMD: break; /* refused: no signing keys here */
  default:
    if (!(op & 0x40) && !is_server_pdu(op))
      error_rsp(c, op, 0, BLEAK_ATT_REQUEST_NOT_SUPPORTED);
    break;
  }
}

/* -- notifications and indications -- */

/* The notification or indication PDU of @p value, cut to MTU - 3. */
static size_t value_pdu(const vctl_att_conn *c, uint8_t op, uint16_t h, const uint8_t *value,
                        size_t len, uint8_t *pdu) {
  if (len > (size_t)c->mtu - 3)
    len = (size_t)c->mtu - 3;
  pdu[0] = op;
  bk_put_le16(pdu + 1, h);
  if (len)
    memcpy(pdu + 3, value, len);
  return 3 + len;
}

bool vctl_att_notify(vctl_att_conn *c, uint16_t value_handle, const uint8_t *value, size_t len) {
  uint16_t cccd = vctl_att_cccd(c, value_handle);
  if (c->dead || !cccd)
    return false;
  uint8_t pdu[ATT_MAX_MTU];
  if (cccd & 1) {
    out_pdu(c, pdu, value_pdu(c, BK_ATT_NOTIFICATION, value_handle, value, len, pdu));
    return true;
  }
  size_t n = value_pdu(c, BK_ATT_INDICATION, value_handle, value, len, pdu);
  if (!append(&c->ind_head, &c->ind_tail, &c->ind_queued, pdu, n))
    return false;
  send_next_indication(c);
  return true;
}

void vctl_att_notify_all(vctl_peripheral *p, uint16_t value_handle, const uint8_t *value,
                         size_t len) {
  for (size_t i = 0; i < p->n_conns; i++)
    (void)vctl_att_notify(p->conns[i], value_handle, value, len);
}

bool vctl_att_try_notify(vctl_att_conn *c, uint16_t value_handle, const uint8_t *value,
                         size_t len) {
  if (!vctl_att_room(c) || !(vctl_att_cccd(c, value_handle) & 1))
    return false;
  uint8_t pdu[ATT_MAX_MTU];
  size_t n = value_pdu(c, BK_ATT_NOTIFICATION, value_handle, value, len, pdu);
  if (c->faults.delay_ms) { /* held in order with the rest */
    out_pdu(c, pdu, n);
    return true;
  }
  if (c->io.send(c->io.ctx, pdu, n))
    return true;
  c->stalled = true;
  return false;
}

void vctl_att_service_changed(vctl_peripheral *p, uint16_t start, uint16_t end) {
  bleak_uuid sc = bleak_uuid_from_u16(0x2a05);
  vctl_attr *a = vctl_db_char_by_uuid(&p->db, &sc, 0);
  if (!a)
    return;
  uint8_t v[4];
  bk_put_le16(v, start);
  bk_put_le16(v + 2, end);
  vctl_att_notify_all(p, a->handle, v, sizeof v);
}

/* -- the connection -- */

vctl_att_conn *vctl_att_conn_new(vctl_peripheral *p, uint16_t max_mtu, const vctl_att_io *io) {
  if (!p || !io || !io->send || !io->disconnect)
    return NULL;
  vctl_att_conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  if (p->n_conns == p->cap_conns) {
    size_t cap = p->cap_conns ? p->cap_conns * 2 : 4;
    vctl_att_conn **v = realloc(p->conns, cap * sizeof *v);
    if (!v) {
      free(c);
      return NULL;
    }
    p->conns = v;
    p->cap_conns = cap;
  }
  if (p->n_behaviours && !(c->streams = calloc(p->n_behaviours, sizeof *c->streams))) {
    free(c);
    return NULL;
  }
  p->conns[p->n_conns++] = c;
  c->p = p;
  c->io = *io;
  c->mtu = ATT_MIN_MTU;
  c->max_mtu = max_mtu < ATT_MIN_MTU ? ATT_MIN_MTU : max_mtu > ATT_MAX_MTU ? ATT_MAX_MTU : max_mtu;
  c->disconnect_at = VCTL_NEVER;
  c->drop_on_request = p->drop_next;
  p->drop_next = false;
  c->faults = p->faults;
  return c;
}

void vctl_att_conn_free(vctl_att_conn *c) {
  if (!c)
    return;
  vctl_peripheral *p = c->p;
  for (size_t i = 0; i < p->n_conns; i++)
    if (p->conns[i] == c) {
      p->conns[i] = p->conns[--p->n_conns];
      break;
    }
  free_list(c->head);
  free_list(c->ind_head);
  free_list(c->late_head);
  free(c->prep);
  free(c->cccd);
  free(c->streams);
  free(c);
}

void vctl_att_conn_writable(vctl_att_conn *c, uint64_t now_ms) {
  if (!c || c->dead)
    return;
  c->now = now_ms;
  c->stalled = false;
  if (flush(c))
    vctl_bhv_run(c, now_ms);
}

uint64_t vctl_att_conn_deadline(const vctl_att_conn *c) {
  if (!c || c->dead)
    return VCTL_NEVER;
  uint64_t d = vctl_bhv_deadline(c);
  if (c->late_head && c->late_head->due < d)
    d = c->late_head->due;
  return c->disconnect_at < d ? c->disconnect_at : d;
}

void vctl_att_conn_tick(vctl_att_conn *c, uint64_t now_ms) {
  if (!c || c->dead)
    return;
  c->now = now_ms;
  if (c->disconnect_at <= now_ms) {
    c->dead = true;
    c->io.disconnect(c->io.ctx, 0x13); /* Remote User Terminated Connection */
    return;
  }
  release_late(c, now_ms);
  vctl_bhv_run(c, now_ms);
}

void vctl_att_conn_set_security(vctl_att_conn *c, bool encrypted, bool authenticated,
                                uint8_t key_size) {
  if (!c)
    return;
  c->encrypted = encrypted;
  c->authenticated = encrypted && authenticated;
  c->key_size = key_size;
}

void vctl_att_conn_set_faults(vctl_att_conn *c, const vctl_att_faults *f) {
  if (!c)
    return;
  if (f)
    c->faults = *f;
  else
    memset(&c->faults, 0, sizeof c->faults);
  c->pdus_in = 0;
}

void vctl_att_conn_send_raw(vctl_att_conn *c, const uint8_t *pdu, size_t len, uint64_t now_ms) {
  if (!c || !pdu || !len)
    return;
  c->now = now_ms;
  out_pdu(c, pdu, len < c->mtu ? len : c->mtu);
}
