/* SPDX-License-Identifier: MIT */
/* A virtual peripheral's life and BlueZ's own GATT services: see
 * peripheral_priv.h. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "vctl/att_conn_priv.h"

vctl_peripheral *vctl_peripheral_new(void) {
  vctl_peripheral *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->adv.connectable = true;
  p->adv.interval_ms = 100;
  p->mtu = 517;
  vctl_db_init(&p->db);
  return p;
}

void vctl_peripheral_free(vctl_peripheral *p) {
  if (!p)
    return;
  vctl_db_free(&p->db);
  free(p->behaviours);
  free(p->conns);
  free(p);
}

void vctl_peripherals_free(vctl_peripheral **list, size_t count) {
  if (!list)
    return;
  for (size_t i = 0; i < count; i++)
    vctl_peripheral_free(list[i]);
  free(list);
}

const vctl_adv *vctl_peripheral_adv(const vctl_peripheral *p) { return p ? &p->adv : NULL; }

const char *vctl_peripheral_name(const vctl_peripheral *p) { return p ? p->name : NULL; }

uint16_t vctl_peripheral_find_char(const vctl_peripheral *p, const char *uuid, unsigned nth) {
  bleak_uuid u;
  if (!p || bleak_uuid_parse(uuid, &u))
    return 0;
  const vctl_attr *a = vctl_db_char_by_uuid(&p->db, &u, nth);
  return a ? a->handle : 0;
}

int vctl_peripheral_set_value(vctl_peripheral *p, uint16_t handle, const uint8_t *value,
                              size_t len, bool notify) {
  vctl_attr *a = p ? vctl_db_find(&p->db, handle) : NULL;
  if (!a || (a->kind != VCTL_ATTR_CHAR_VALUE && a->kind != VCTL_ATTR_DESCRIPTOR) ||
      len > VCTL_ATTR_MAX_LEN || (len && !value))
    return -1;
  vctl_attr_set(a, value, len);
  if (notify && a->kind == VCTL_ATTR_CHAR_VALUE)
    vctl_att_notify_all(p, handle, value, len);
  return 0;
}

void vctl_peripheral_observe_writes(vctl_peripheral *p, vctl_write_observer cb, void *ctx) {
  if (!p)
    return;
  p->observer = cb;
  p->observer_ctx = ctx;
}

/* BlueZ 5.66's populate_gap_service and populate_gatt_service (with EATT,
 * as in the guest): the same handles, so that a test written against the
 * fixture behind bluetoothd finds the same ones here. */
int vctl_peripheral_add_builtin_services(vctl_peripheral *p) {
  vctl_gatt_db *db = &p->db;
  bleak_uuid u;
  uint8_t appearance[2], zero[16] = {0};
  bk_put_le16(appearance, p->appearance);
  bool ok = (u = bleak_uuid_from_u16(0x1800), vctl_db_add_service(db, &u, true)) &&
            (u = bleak_uuid_from_u16(0x2a00),
             vctl_db_add_char(db, &u, VCTL_PROP_READ, 0, VCTL_PERM_READ, (const uint8_t *)p->name,
                              strlen(p->name))) &&
            (u = bleak_uuid_from_u16(0x2a01),
             vctl_db_add_char(db, &u, VCTL_PROP_READ, 0, VCTL_PERM_READ, appearance, 2)) &&
            (u = bleak_uuid_from_u16(0x1801), vctl_db_add_service(db, &u, true)) &&
            (u = bleak_uuid_from_u16(0x2a05),
             vctl_db_add_char(db, &u, VCTL_PROP_INDICATE, 0, 0, zero, 4)) &&
            (u = bleak_uuid_from_u16(0x2b29),
             vctl_db_add_char(db, &u, VCTL_PROP_READ | VCTL_PROP_WRITE, 0,
                              VCTL_PERM_READ | VCTL_PERM_WRITE, zero, 1)) &&
            (u = bleak_uuid_from_u16(0x2b2a),
             vctl_db_add_char(db, &u, VCTL_PROP_READ, 0, VCTL_PERM_READ, zero, 16)) &&
            /* Server Supported Features: where BlueZ with EATT has it (the
             * handles stay the guest's), but 0: this server has one ATT
             * bearer, on CID 4, and a client must not look for more. */
            (u = bleak_uuid_from_u16(0x2b3a),
             vctl_db_add_char(db, &u, VCTL_PROP_READ, 0, VCTL_PERM_READ, zero, 1));
  vctl_db_close(db);
  return ok ? 0 : -1;
}

void vctl_peripheral_set_faults(vctl_peripheral *p, const vctl_att_faults *f) {
  if (!p)
    return;
  if (f)
    p->faults = *f;
  else
    memset(&p->faults, 0, sizeof p->faults);
  for (size_t i = 0; i < p->n_conns; i++)
    vctl_att_conn_set_faults(p->conns[i], &p->faults);
}

const vctl_att_faults *vctl_peripheral_faults(const vctl_peripheral *p) {
  return p ? &p->faults : NULL;
}

int vctl_peripheral_replace_db(vctl_peripheral *p, vctl_peripheral *from) {
  if (!p || !from)
    return -1;
  /* Each connection's streams (one per behaviour) first: all or none. */
  vctl_stream **fresh = calloc(p->n_conns ? p->n_conns : 1, sizeof *fresh);
  if (!fresh)
    return -1;
  for (size_t i = 0; i < p->n_conns; i++)
    if (from->n_behaviours &&
        !(fresh[i] = calloc(from->n_behaviours, sizeof *fresh[i]))) {
      for (size_t j = 0; j < i; j++)
        free(fresh[j]);
      free(fresh);
      return -1;
    }
  for (size_t i = 0; i < p->n_conns; i++) {
    free(p->conns[i]->streams);
    p->conns[i]->streams = fresh[i];
  }
  free(fresh);
  vctl_gatt_db db = p->db;
  p->db = from->db;
  from->db = db;
  vctl_behaviour *b = p->behaviours;
  size_t nb = p->n_behaviours;
  p->behaviours = from->behaviours;
  p->n_behaviours = from->n_behaviours;
  from->behaviours = b;
  from->n_behaviours = nb;
  p->extra_start = 0; /* control 07's service was in the old database */
  p->extra_count = 0;
  vctl_att_service_changed(p, 0x0001, 0xffff);
  return 0;
}
