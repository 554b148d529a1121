/* SPDX-License-Identifier: MIT */
/*
 * The last value seen of each attribute of one connection, by ATT handle:
 * what use_cached reads answer with on a backend that keeps no values of
 * its own (hci; BlueZ keeps its own, the Value property). Best effort: when
 * memory runs out the attribute's entry is dropped, never left stale, and
 * the read goes to the peer.
 */
#ifndef BLEAK_CORE_VALUE_CACHE_H
#define BLEAK_CORE_VALUE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bk_cached_value {
  uint16_t handle;
  uint16_t len;
  uint8_t *data; /* len bytes (NULL when 0) */
} bk_cached_value;

typedef struct bk_value_cache {
  bk_cached_value *items;
  size_t n, cap;
} bk_value_cache;

/* Remember @p data (@p len bytes, at most 512: a longer one is ignored) as the
 * value of @p handle, replacing the one before. */
void bk_value_cache_put(bk_value_cache *vc, uint16_t handle, const uint8_t *data, size_t len);
/* The value of @p handle: true with it in data and len (owned by the cache,
 * valid until its next put or clear), false when there is none. */
bool bk_value_cache_get(const bk_value_cache *vc, uint16_t handle, const uint8_t **data,
                        size_t *len);
/* Forget every value (the link went, the database changed). */
void bk_value_cache_clear(bk_value_cache *vc);

#endif /* BLEAK_CORE_VALUE_CACHE_H */
