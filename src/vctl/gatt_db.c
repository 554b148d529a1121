/* SPDX-License-Identifier: MIT */
/* The GATT database of a virtual peripheral: see gatt_db.h. */
#include "vctl/gatt_db.h"

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "vctl/db_hash.h"

void vctl_db_init(vctl_gatt_db *db) {
  memset(db, 0, sizeof *db);
  db->open_service = SIZE_MAX;
}

void vctl_db_free(vctl_gatt_db *db) {
  for (size_t i = 0; i < db->n; i++)
    free(db->attrs[i].value);
  free(db->attrs);
  vctl_db_init(db);
}

bool vctl_attr_is(const vctl_attr *a, uint16_t u16) {
  uint16_t v;
  return bleak_uuid_is_16bit(&a->type, &v) && v == u16;
}

void vctl_attr_set(vctl_attr *a, const uint8_t *value, size_t len) {
  if (len > VCTL_ATTR_MAX_LEN)
    len = VCTL_ATTR_MAX_LEN;
  if (len)
    memcpy(a->value, value, len);
  a->len = (uint16_t)len;
}

static uint16_t next_handle(const vctl_gatt_db *db) {
  return db->n ? (uint16_t)(db->attrs[db->n - 1].handle + 1) : 1;
}

/* Append one attribute after the last; NULL when out of memory or handles. */
static vctl_attr *append(vctl_gatt_db *db, uint8_t kind, const bleak_uuid *type,
                         const uint8_t *value, size_t len) {
  if (len > VCTL_ATTR_MAX_LEN || (db->n && db->attrs[db->n - 1].handle == 0xffff))
    return NULL;
  if (db->n == db->cap) {
    size_t cap = db->cap ? db->cap * 2 : 32;
    vctl_attr *a = realloc(db->attrs, cap * sizeof *a);
    if (!a)
      return NULL;
    db->attrs = a;
    db->cap = cap;
  }
  uint8_t *buf = malloc(VCTL_ATTR_MAX_LEN);
  if (!buf)
    return NULL;
  vctl_attr *a = &db->attrs[db->n];
  memset(a, 0, sizeof *a);
  a->handle = next_handle(db);
  a->kind = kind;
  a->type = *type;
  a->behaviour = -1;
  a->value = buf;
  vctl_attr_set(a, value, len);
  db->n++;
  return a;
}

/* The UUID's wire form: 2 or 16 bytes. */
static size_t uuid_wire(const bleak_uuid *u, uint8_t out[16]) {
  int n = bleak_uuid_to_le_bytes(u, out, 16);
  return n > 0 ? (size_t)n : 0;
}

static void close_open(vctl_gatt_db *db) {
  if (db->open_service != SIZE_MAX)
    db->attrs[db->open_service].end = db->attrs[db->n - 1].handle;
  db->open_service = SIZE_MAX;
}

uint16_t vctl_db_add_service(vctl_gatt_db *db, const bleak_uuid *uuid, bool primary) {
  close_open(db);
  uint8_t v[16];
  size_t n = uuid_wire(uuid, v);
  bleak_uuid type = bleak_uuid_from_u16(primary ? 0x2800 : 0x2801);
  vctl_attr *a = append(db, VCTL_ATTR_SERVICE, &type, v, n);
  if (!a)
    return 0;
  a->perm = VCTL_PERM_READ;
  a->end = a->handle;
  db->open_service = db->n - 1;
  return a->handle;
}

uint16_t vctl_db_add_char(vctl_gatt_db *db, const bleak_uuid *uuid, uint8_t props,
                          uint16_t ext_props, uint16_t perm, const uint8_t *value, size_t len) {
  if (db->open_service == SIZE_MAX || len > VCTL_ATTR_MAX_LEN)
    return 0;
  if (ext_props)
    props |= VCTL_PROP_EXTENDED;
  size_t n0 = db->n;
  uint8_t decl[19];
  decl[0] = props;
  bk_put_le16(decl + 1, next_handle(db) + 1);
  size_t dn = 3 + uuid_wire(uuid, decl + 3);
  bleak_uuid t2803 = bleak_uuid_from_u16(0x2803);
  vctl_attr *d = append(db, VCTL_ATTR_CHAR_DECL, &t2803, decl, dn);
  vctl_attr *v = d ? append(db, VCTL_ATTR_CHAR_VALUE, uuid, value, len) : NULL;
  if (!v)
    goto fail;
  uint16_t vh = v->handle;
  v->props = props;
  v->perm = perm;
  v->value_handle = vh;
  db->attrs[n0].props = props;
  db->attrs[n0].perm = VCTL_PERM_READ;
  db->attrs[n0].value_handle = vh;
  if (props & (VCTL_PROP_NOTIFY | VCTL_PROP_INDICATE)) {
    bleak_uuid t2902 = bleak_uuid_from_u16(0x2902);
    static const uint8_t off[2] = {0, 0};
    vctl_attr *c = append(db, VCTL_ATTR_CCCD, &t2902, off, 2);
    if (!c)
      goto fail;
    c->props = props;
    c->perm = VCTL_PERM_READ | VCTL_PERM_WRITE;
    c->value_handle = vh;
  }
  if (ext_props) {
    bleak_uuid t2900 = bleak_uuid_from_u16(0x2900);
    uint8_t ev[2];
    bk_put_le16(ev, ext_props);
    vctl_attr *e = append(db, VCTL_ATTR_EXT_PROPS, &t2900, ev, 2);
    if (!e)
      goto fail;
    e->perm = VCTL_PERM_READ;
    e->value_handle = vh;
  }
  return vh;
fail:
  while (db->n > n0)
    free(db->attrs[--db->n].value);
  return 0;
}

uint16_t vctl_db_add_desc(vctl_gatt_db *db, const bleak_uuid *uuid, uint16_t perm,
                          const uint8_t *value, size_t len) {
  /* A descriptor belongs to the last characteristic of the open service. */
  if (db->open_service == SIZE_MAX || db->n - 1 == db->open_service)
    return 0;
  uint16_t vh = db->attrs[db->n - 1].value_handle;
  vctl_attr *a = append(db, VCTL_ATTR_DESCRIPTOR, uuid, value, len);
  if (!a)
    return 0;
  a->perm = perm;
  a->value_handle = vh;
  return a->handle;
}

void vctl_db_close(vctl_gatt_db *db) {
  close_open(db);
  vctl_db_update_hash(db);
}

size_t vctl_db_lower_bound(const vctl_gatt_db *db, uint16_t handle) {
  size_t lo = 0, hi = db->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (db->attrs[mid].handle < handle)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

vctl_attr *vctl_db_find(const vctl_gatt_db *db, uint16_t handle) {
  size_t i = vctl_db_lower_bound(db, handle);
  return i < db->n && db->attrs[i].handle == handle ? &db->attrs[i] : NULL;
}

vctl_attr *vctl_db_char_by_uuid(const vctl_gatt_db *db, const bleak_uuid *uuid, unsigned nth) {
  for (size_t i = 0; i < db->n; i++)
    if (db->attrs[i].kind == VCTL_ATTR_CHAR_VALUE && bleak_uuid_equal(&db->attrs[i].type, uuid) &&
        nth-- == 0)
      return &db->attrs[i];
  return NULL;
}

vctl_attr *vctl_db_cccd_of(const vctl_gatt_db *db, uint16_t value_handle) {
  for (size_t i = vctl_db_lower_bound(db, value_handle); i < db->n; i++) {
    if (db->attrs[i].value_handle != value_handle)
      return NULL;
    if (db->attrs[i].kind == VCTL_ATTR_CCCD)
      return &db->attrs[i];
  }
  return NULL;
}

vctl_attr *vctl_db_service_of(const vctl_gatt_db *db, uint16_t handle) {
  size_t i = vctl_db_lower_bound(db, handle);
  if (i == db->n || db->attrs[i].handle != handle)
    return NULL;
  for (;; i--) {
    if (db->attrs[i].kind == VCTL_ATTR_SERVICE)
      return db->attrs[i].end >= handle ? &db->attrs[i] : NULL;
    if (i == 0)
      return NULL;
  }
}

uint16_t vctl_db_remove_service(vctl_gatt_db *db, uint16_t start) {
  vctl_attr *s = vctl_db_find(db, start);
  if (!s || s->kind != VCTL_ATTR_SERVICE)
    return 0;
  uint16_t end = s->end;
  size_t from = (size_t)(s - db->attrs), to = vctl_db_lower_bound(db, (uint16_t)(end + 1));
  if (end == 0xffff)
    to = db->n;
  for (size_t i = from; i < to; i++)
    free(db->attrs[i].value);
  memmove(db->attrs + from, db->attrs + to, (db->n - to) * sizeof *db->attrs);
  db->n -= to - from;
  if (db->open_service != SIZE_MAX && db->open_service >= from)
    db->open_service = SIZE_MAX;
  vctl_db_update_hash(db);
  return end;
}

void vctl_db_update_hash(vctl_gatt_db *db) {
  vctl_db_hash(db, db->hash);
  for (size_t i = 0; i < db->n; i++)
    if (db->attrs[i].kind == VCTL_ATTR_CHAR_VALUE && vctl_attr_is(&db->attrs[i], 0x2b2a))
      vctl_attr_set(&db->attrs[i], db->hash, sizeof db->hash);
}
