/* SPDX-License-Identifier: MIT */
/*
 * The client's discovered services: installing them (with the services
 * filter), Service Changed (the old collection retired, not freed, until
 * the link goes, so that pointers the user holds stay valid), lookups, and
 * the check that a characteristic or descriptor is this client's.
 */
#include <stdlib.h>

#include "core/client_priv.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define LOG_MOD "client"

void bk_client_drop_services(bleak_client *c) {
  bleak_gatt_services_unref(c->services);
  c->services = NULL;
  for (size_t i = 0; i < c->n_retired; i++)
    bleak_gatt_services_unref(c->retired[i]);
  free(c->retired);
  c->retired = NULL;
  c->n_retired = 0;
  bk_value_cache_clear(&c->values); /* the values were this link's */
}

void bk_client_set_services(bleak_client *c, bleak_gatt_services *services) {
  if (services && c->opts.n_services)
    bk_gatt_services_filter(services, c->services_filter, c->opts.n_services);
  bleak_gatt_services_unref(c->services);
  c->services = services;
}

/* The twin of @p old in @p s: the same value handle and UUID, or NULL. */
static const bleak_gatt_characteristic *same_char(const bleak_gatt_services *s,
                                                  const bleak_gatt_characteristic *old) {
  const bleak_gatt_characteristic *ch = bleak_gatt_services_get_characteristic_by_value_handle(
      s, bleak_gatt_characteristic_value_handle(old));
  return ch && bleak_uuid_equal(bleak_gatt_characteristic_uuid(ch),
                                bleak_gatt_characteristic_uuid(old))
             ? ch
             : NULL;
}

int bk_client_replace_services(bleak_client *c, bleak_gatt_services *services) {
  if (c->state != BK_CONN_CONNECTED || !c->services) {
    bleak_gatt_services_unref(services);
    return BLEAK_ERR_STATE;
  }
  bleak_gatt_services **r = realloc(c->retired, (c->n_retired + 1) * sizeof *r);
  if (!r) {
    bleak_gatt_services_unref(services);
    return BLEAK_ERR_NO_MEMORY;
  }
  c->retired = r;
  bk_value_cache_clear(&c->values); /* the database changed under them */
  if (c->opts.n_services)
    bk_gatt_services_filter(services, c->services_filter, c->opts.n_services);
  /* Subscriptions follow their characteristic, or end with it. */
  for (bk_qnode *n = bk_queue_head(&c->subs); n;) {
    subscription *sub = BK_QUEUE_ENTRY(n, subscription, node);
    n = bk_qnode_next(n);
    const bleak_gatt_characteristic *now = same_char(services, sub->ch);
    if (now) {
      sub->ch = now;
    } else {
      BK_INFO(LOG_MOD, "%s: a subscribed characteristic is gone from the database",
              c->address);
      bk_queue_remove(&c->subs, &sub->node);
      free(sub);
    }
  }
  c->retired[c->n_retired++] = c->services;
  c->services = services;
  BK_INFO(LOG_MOD, "%s: services changed: %zu services now", c->address,
          bleak_gatt_services_count(services));
  return 0;
}

bleak_gatt_services *bleak_client_services(const bleak_client *c) {
  return c && c->state == BK_CONN_CONNECTED ? c->services : NULL;
}

int bleak_client_get_services(bleak_client *c, bleak_gatt_services **out) {
  if (out)
    *out = NULL;
  if (!c || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "get_services: NULL argument");
  if (c->state != BK_CONN_CONNECTED || !c->services)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "%s: not connected", c->address);
  *out = c->services;
  return 0;
}

int bk_client_need_services(const bleak_client *c) {
  int r = bk_client_usable(c);
  if (r < 0)
    return r;
  if (c->state != BK_CONN_CONNECTED || !c->services)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "%s: not connected", c->address);
  return 0;
}

int bleak_client_char_by_uuid(const bleak_client *c, const char *uuid,
                              const bleak_gatt_characteristic **out) {
  if (out)
    *out = NULL;
  int r = bk_client_need_services(c);
  if (r < 0)
    return r;
  return bleak_gatt_services_find_characteristic_str(c->services, uuid, out);
}

int bleak_client_char_by_handle(const bleak_client *c, uint16_t handle,
                                const bleak_gatt_characteristic **out) {
  if (out)
    *out = NULL;
  int r = bk_client_need_services(c);
  if (r < 0)
    return r;
  if (!out)
    return BLEAK_ERR_INVALID_ARG;
  *out = bleak_gatt_services_get_characteristic_by_handle(c->services, handle);
  return *out ? 0
              : bk_fail(BLEAK_ERR_NOT_FOUND, "no characteristic with handle 0x%04x",
                        handle);
}

/* A characteristic of a collection that Service Changed replaced: the
 * current one with the same handle and UUID, or NULL. */
static const bleak_gatt_characteristic *
from_retired(const bleak_client *c, const bleak_gatt_characteristic *ch) {
  uint16_t h = bleak_gatt_characteristic_handle(ch);
  for (size_t i = 0; i < c->n_retired; i++)
    if (bleak_gatt_services_get_characteristic_by_handle(c->retired[i], h) == ch) {
      const bleak_gatt_characteristic *now =
          bleak_gatt_services_get_characteristic_by_handle(c->services, h);
      if (now && bleak_uuid_equal(bleak_gatt_characteristic_uuid(now),
                                  bleak_gatt_characteristic_uuid(ch)))
        return now;
      return NULL;
    }
  return NULL;
}

/* Check @p *ch is this client's; one from before a Service Changed is
 * swapped for its current twin (same handle and UUID). */
int bk_client_check_char(const bleak_client *c, const bleak_gatt_characteristic **ch) {
  int r = bk_client_need_services(c);
  if (r < 0)
    return r;
  if (!*ch)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "characteristic is NULL");
  if (bleak_gatt_services_get_characteristic_by_handle(
          c->services, bleak_gatt_characteristic_handle(*ch)) == *ch)
    return 0;
  const bleak_gatt_characteristic *now = from_retired(c, *ch);
  if (!now)
    return bk_fail(BLEAK_ERR_NOT_FOUND,
                   "characteristic is not among this client's services");
  *ch = now;
  return 0;
}

int bk_client_check_desc(const bleak_client *c, const bleak_gatt_descriptor **d) {
  int r = bk_client_need_services(c);
  if (r < 0)
    return r;
  if (!*d)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "descriptor is NULL");
  uint16_t h = bleak_gatt_descriptor_handle(*d);
  if (bleak_gatt_services_get_descriptor_by_handle(c->services, h) == *d)
    return 0;
  for (size_t i = 0; i < c->n_retired; i++)
    if (bleak_gatt_services_get_descriptor_by_handle(c->retired[i], h) == *d) {
      const bleak_gatt_descriptor *now = bleak_gatt_services_get_descriptor_by_handle(c->services, h);
      if (now && bleak_uuid_equal(bleak_gatt_descriptor_uuid(now), bleak_gatt_descriptor_uuid(*d))) {
        *d = now;
        return 0;
      }
      break;
    }
  return bk_fail(BLEAK_ERR_NOT_FOUND, "descriptor is not among this client's services");
}

