/* SPDX-License-Identifier: MIT */
/*
 * Peer privacy, host-side: the identities of bonded peers (their Identity
 * Resolving Key and identity address) and the resolution of the
 * resolvable private addresses they advertise and connect with (Core
 * Vol 6, Part B, 1.3.2.3; ah in smp_crypto.h). The controller's own
 * resolving list is not used: btvirt and many controllers lack it, and
 * with the host resolving, a report's address is the identity for every
 * user of the controller alike (scanners, connects, the bond store).
 *
 * Sans-I/O and time-free: identities in, questions answered. A small cache
 * of recent answers (resolved or not) keeps a busy air from costing an
 * AES per known IRK per report; adding an identity empties it.
 *
 * IRKs are secrets: wiped when removed or cleared, never logged.
 */
#ifndef BLEAK_HCI_RESOLVER_H
#define BLEAK_HCI_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/bond_store.h"

#define BK_RESOLVER_CACHE 16

typedef struct bk_resolver_identity {
  uint8_t irk[16];
  bk_bond_addr id;
} bk_resolver_identity;

typedef struct bk_resolver {
  bk_resolver_identity *ids; /* owned */
  size_t n, cap;
  struct {
    bool used;
    uint8_t rpa[6];
    size_t idx; /* into ids, or SIZE_MAX: not resolvable by any */
  } cache[BK_RESOLVER_CACHE];
  size_t cache_next;
} bk_resolver;

/* A zeroed resolver is empty and ready; so is one after this. */
void bk_resolver_init(bk_resolver *r);
/* Wipe and free every identity. NULL-safe. */
void bk_resolver_clear(bk_resolver *r);

/* Random (type 1) with the top two bits 01: a resolvable private address
 * (@p addr little-endian, as HCI carries it). */
bool bk_resolver_is_rpa(const uint8_t addr[6], uint8_t type);

/*
 * Know @p id by @p irk (an identity already known gets the new IRK).
 * An all-zero IRK is no IRK (the spec's "no IRK" value): refused.
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL, zero IRK, address type not 0
 *         or 1), BLEAK_ERR_NO_MEMORY.
 */
int bk_resolver_add(bk_resolver *r, const uint8_t irk[16], const bk_bond_addr *id);
/* Forget @p id (no error when unknown). */
void bk_resolver_remove(bk_resolver *r, const bk_bond_addr *id);
/* How many identities are known. */
size_t bk_resolver_count(const bk_resolver *r);

/*
 * The identity behind @p addr of @p type: true and *id when @p addr is a
 * resolvable private address one known IRK made; false otherwise (an
 * identity address, an unknown RPA, AES failing).
 */
bool bk_resolver_resolve(bk_resolver *r, const uint8_t addr[6], uint8_t type,
                         bk_bond_addr *id);

#endif
