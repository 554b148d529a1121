/* SPDX-License-Identifier: MIT */
/* The last value seen of each attribute (see value_cache.h). A linear
 * table: a connection reads or hears from a handful of attributes. */
#include <stdlib.h>
#include <string.h>

#include "bleak/client.h"
#include "core/value_cache.h"

static bk_cached_value *find(const bk_value_cache *vc, uint16_t handle) {
  for (size_t i = 0; i < vc->n; i++)
    if (vc->items[i].handle == handle)
      return &vc->items[i];
  return NULL;
}

static void drop(bk_value_cache *vc, bk_cached_value *v) {
  free(v->data);
  *v = vc->items[--vc->n];
}

void bk_value_cache_put(bk_value_cache *vc, uint16_t handle, const uint8_t *data, size_t len) {
  if (len > BLEAK_MAX_ATTR_VALUE || (len && !data))
    return;
  bk_cached_value *v = find(vc, handle);
  if (!v) {
    if (vc->n == vc->cap) {
      size_t ncap = vc->cap ? vc->cap * 2 : 8;
      bk_cached_value *p = realloc(vc->items, ncap * sizeof *p);
      if (!p)
        return; /* nothing was cached for it: nothing stale either */
      vc->items = p;
      vc->cap = ncap;
    }
    v = &vc->items[vc->n++];
    *v = (bk_cached_value){.handle = handle};
  }
  if (len > v->len || !v->data) {
    uint8_t *p = len ? realloc(v->data, len) : v->data;
    if (len && !p) {
      drop(vc, v); /* better no value than the old one */
      return;
    }
    v->data = p;
  }
  if (len)
    memcpy(v->data, data, len);
  v->len = (uint16_t)len;
}

bool bk_value_cache_get(const bk_value_cache *vc, uint16_t handle, const uint8_t **data,
                        size_t *len) {
  const bk_cached_value *v = find(vc, handle);
  if (!v)
    return false;
  *data = v->data;
  *len = v->len;
  return true;
}

void bk_value_cache_clear(bk_value_cache *vc) {
  for (size_t i = 0; i < vc->n; i++)
    free(vc->items[i].data);
  free(vc->items);
  *vc = (bk_value_cache){0};
}
