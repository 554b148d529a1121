/* SPDX-License-Identifier: MIT */
/* Peer privacy, host-side: see resolver.h. */
#include "backend/hci/resolver.h"

#include <stdlib.h>
#include <string.h>

#include "backend/hci/smp_crypto.h"
#include "bleak/error.h"
#include "core/internal.h"

#define NONE SIZE_MAX

void bk_resolver_init(bk_resolver *r) { memset(r, 0, sizeof *r); }

static void forget_cache(bk_resolver *r) {
  memset(r->cache, 0, sizeof r->cache);
  r->cache_next = 0;
}

void bk_resolver_clear(bk_resolver *r) {
  if (!r)
    return;
  if (r->ids) {
    explicit_bzero(r->ids, r->cap * sizeof *r->ids);
    free(r->ids);
  }
  bk_resolver_init(r);
}

bool bk_resolver_is_rpa(const uint8_t addr[6], uint8_t type) {
  return addr && type == BK_BOND_ADDR_RANDOM && (addr[5] & 0xc0) == 0x40;
}

static size_t find(const bk_resolver *r, const bk_bond_addr *id) {
  for (size_t i = 0; i < r->n; i++)
    if (r->ids[i].id.type == id->type && !memcmp(r->ids[i].id.addr, id->addr, 6))
      return i;
  return NONE;
}

int bk_resolver_add(bk_resolver *r, const uint8_t irk[16], const bk_bond_addr *id) {
  static const uint8_t zero[16];
  if (!r || !irk || !id || id->type > BK_BOND_ADDR_RANDOM)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "resolver: bad identity");
  if (!memcmp(irk, zero, 16))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "resolver: an all-zero IRK resolves nothing");
  size_t i = find(r, id);
  if (i == NONE) {
    if (r->n == r->cap) {
      size_t cap = r->cap ? r->cap * 2 : 4;
      bk_resolver_identity *ids = calloc(cap, sizeof *ids);
      if (!ids)
        return bk_fail(BLEAK_ERR_NO_MEMORY, "resolver: no memory");
      if (r->ids) {
        memcpy(ids, r->ids, r->n * sizeof *ids);
        explicit_bzero(r->ids, r->cap * sizeof *r->ids);
        free(r->ids);
      }
      r->ids = ids;
      r->cap = cap;
    }
    i = r->n++;
    r->ids[i].id = *id;
  }
  memcpy(r->ids[i].irk, irk, 16);
  forget_cache(r); /* "not resolvable" may no longer be true */
  return 0;
}

void bk_resolver_remove(bk_resolver *r, const bk_bond_addr *id) {
  if (!r || !id)
    return;
  size_t i = find(r, id);
  if (i == NONE)
    return;
  r->ids[i] = r->ids[r->n - 1];
  r->n--;
  explicit_bzero(&r->ids[r->n], sizeof r->ids[r->n]);
  forget_cache(r); /* indexes moved */
}

size_t bk_resolver_count(const bk_resolver *r) { return r ? r->n : 0; }

bool bk_resolver_resolve(bk_resolver *r, const uint8_t addr[6], uint8_t type,
                         bk_bond_addr *id) {
  if (!r || !id || !r->n || !bk_resolver_is_rpa(addr, type))
    return false;
  size_t idx = NONE;
  bool cached = false;
  for (size_t c = 0; c < BK_RESOLVER_CACHE && !cached; c++)
    if (r->cache[c].used && !memcmp(r->cache[c].rpa, addr, 6)) {
      idx = r->cache[c].idx;
      cached = true;
    }
  for (size_t i = 0; !cached && i < r->n && idx == NONE; i++)
    if (bk_smp_rpa_matches(r->ids[i].irk, addr) == 1)
      idx = i;
  if (!cached) {
    r->cache[r->cache_next].used = true;
    memcpy(r->cache[r->cache_next].rpa, addr, 6);
    r->cache[r->cache_next].idx = idx;
    r->cache_next = (r->cache_next + 1) % BK_RESOLVER_CACHE;
  }
  if (idx == NONE)
    return false;
  *id = r->ids[idx].id;
  return true;
}
