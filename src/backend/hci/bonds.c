/* SPDX-License-Identifier: MIT */
/* The public face of the hci backend's bond store (bleak/bonds.h): a
 * summary of each bond, never its keys; removal by the peer's identity. */
#include "bleak/bonds.h"

#include <stdlib.h>
#include <string.h>

#include "backend/hci/bond_store.h"
#include "backend/hci/hci.h"
#include "bleak/error.h"
#include "core/internal.h"

typedef struct listing {
  bleak_bond_info *v;
  size_t n, cap;
} listing;

static int add_one(const bk_bond *b, void *user) {
  listing *l = user;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    bleak_bond_info *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return bk_fail(BLEAK_ERR_NO_MEMORY, "no memory for the list of bonds");
    l->v = v;
    l->cap = cap;
  }
  bleak_bond_info *i = &l->v[l->n++];
  memset(i, 0, sizeof *i);
  bk_hci_format_address(b->id.local.addr, i->local);
  i->local_random = b->id.local.type == BK_BOND_ADDR_RANDOM;
  bk_hci_format_address(b->id.peer.addr, i->peer);
  i->peer_random = b->id.peer.type == BK_BOND_ADDR_RANDOM;
  i->created = b->created;
  i->key_size = b->key_size;
  i->authenticated = b->authenticated;
  i->secure_connections = b->secure_connections;
  i->has_irk = b->has_irk;
  i->has_database = b->gatt != NULL;
  return 0;
}

int bleak_bonds_list(const char *dir, bleak_bond_info **out, size_t *n, size_t *bad) {
  if (out)
    *out = NULL;
  if (n)
    *n = 0;
  if (bad)
    *bad = 0;
  if (!out || !n)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "NULL out or n");
  char *path = NULL;
  int r = bk_bond_dir_resolve(dir, &path);
  if (r < 0)
    return r;
  listing l = {0};
  r = bk_bond_foreach(path, add_one, &l, bad);
  free(path);
  if (r < 0) {
    free(l.v);
    return r;
  }
  *out = l.v;
  *n = l.n;
  return 0;
}

int bleak_bonds_remove(const char *dir, const char *peer) {
  uint8_t addr[6];
  if (!peer || bk_hci_parse_address(peer, addr) != 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "'%s' is not an address (AA:BB:CC:DD:EE:FF)",
                   peer ? peer : "(null)");
  char *path = NULL;
  int r = bk_bond_dir_resolve(dir, &path);
  if (r < 0)
    return r;
  int removed = bk_bond_remove_peer(path, addr);
  free(path);
  if (removed < 0)
    return removed;
  if (!removed)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "no bond with %s", peer);
  return removed;
}
