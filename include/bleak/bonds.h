/* SPDX-License-Identifier: MIT */
/**
 * @file bonds.h
 * @brief The hci backend's bonds: list them, remove them, without a
 * connection.
 *
 * A bond is what pairing left: the keys, the peer's identity, its GATT
 * database. The hci backend keeps each in a file of its bond directory
 * (bleak_pairing_options.bond_dir: one file per pair of our address and
 * the peer's identity; the format is in docs/DESIGN.md). These calls read
 * and change that directory only; they do no I/O on a controller, so they
 * are plain calls (no loop, no async twin). BlueZ keeps its own bonds:
 * there, bleak_client_unpair() and bluetoothctl remove them.
 *
 * Keys never leave the library through this API: a bond's summary says
 * what the keys are worth, not what they are.
 */
#ifndef BLEAK_BONDS_H
#define BLEAK_BONDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One bond, summarised. */
typedef struct bleak_bond_info {
  char local[18];          /**< our address when it was made, "AA:BB:..." */
  bool local_random;       /**< ours is a random (static) address */
  char peer[18];           /**< the peer's identity address */
  bool peer_random;        /**< the peer's identity is a random static address */
  int64_t created;         /**< when, in seconds since the epoch (UTC) */
  int key_size;            /**< 7..16 octets */
  bool authenticated;      /**< the pairing was protected against a man in the middle */
  bool secure_connections; /**< LE Secure Connections (else legacy pairing) */
  bool has_irk;            /**< the peer gave its IRK: its private addresses resolve */
  bool has_database;       /**< the peer's GATT database is kept with the bond */
} bleak_bond_info;

/**
 * The bonds in @p dir (NULL: the default directory, as
 * bleak_pairing_options.bond_dir documents), sorted by (our address, the
 * peer's). @p out gets an array the caller frees with free() (NULL when
 * there are none), @p n its length. A file that is not a good bond is
 * skipped and counted in *@p bad (when @p bad is not NULL); a missing
 * directory has no bonds.
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL out or n; no directory: no HOME
 *         and not root, the detail says to set BLEAK_BOND_DIR),
 *         BLEAK_ERR_IO (the directory cannot be read), BLEAK_ERR_NO_MEMORY.
 */
int bleak_bonds_list(const char *dir, bleak_bond_info **out, size_t *n, size_t *bad);

/**
 * Remove every bond with the peer whose identity is @p peer
 * ("AA:BB:CC:DD:EE:FF", any case) from @p dir (NULL: the default), whatever
 * our address was when it was made. The peer keeps its half: pairing with
 * it again may need it to forget us too.
 * @return the number of bonds removed (> 0), BLEAK_ERR_NOT_FOUND (none),
 *         BLEAK_ERR_INVALID_ARG (a malformed address; no directory),
 *         BLEAK_ERR_IO (the detail says which file and why).
 */
int bleak_bonds_remove(const char *dir, const char *peer);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_BONDS_H */
