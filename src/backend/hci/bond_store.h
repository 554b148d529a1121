/* SPDX-License-Identifier: MIT */
/*
 * Bonds that last, for the hci backend's pairing: one text file per
 * (our identity, the peer's identity) in a directory, holding the keys SMP
 * distributed and the peer's GATT database (as BlueZ keeps it for bonded
 * devices), so that a new process can encrypt the link to a bonded peer and
 * skip a full discovery when the Database Hash has not changed.
 *
 * The files are secrets: mode 0600 in a directory made 0700, written
 * atomically (a temporary file in the same directory, fsync'd, renamed
 * over the old one, then the directory fsync'd), so a reader sees the old
 * bond or the new one, never half of one. Key values are never logged, and
 * no error detail quotes them (details name the line and the key's name).
 *
 * A file is as hostile as a peer: everything read is checked, and a
 * corrupt, truncated, oversized or foreign file is BLEAK_ERR_PROTOCOL with
 * a detail (bleak_error_detail()) naming the line; the GATT tree goes
 * through the builder, whose finish() refuses hostile shapes.
 *
 * The format (version 1), one "key = value" a line, '#' starts a comment
 * line, blank lines are ignored:
 *
 *   version = 1                        first, always
 *   local = C0:FF:EE:00:00:01          our identity address
 *   local_type = random                public | random
 *   peer = 11:22:33:44:55:66           the peer's identity address
 *   peer_type = public
 *   created = 1733140800               when it was made (s since the epoch, UTC)
 *   ltk = <32 hex digits>
 *   key_size = 16                      7..16
 *   authenticated = true               true | false (MITM protection)
 *   secure_connections = true          true | false (LE Secure Connections)
 *   ediv = 0000                        4 hex digits (0 for Secure Connections)
 *   rand = 0000000000000000            16 hex digits (0 for Secure Connections)
 *   irk = <32 hex digits>              optional
 *   local_csrk = <32 hex digits>       optional, with local_sign_counter
 *   local_sign_counter = 0             decimal, 32 bit
 *   peer_csrk = <32 hex digits>        optional, with peer_sign_counter
 *   peer_sign_counter = 0
 *   [gatt]                             optional: the peer's database
 *   database_hash = <32 hex digits>    optional
 *   service = 0x0001 0x0005 primary 00001800-0000-1000-8000-00805f9b34fb
 *   characteristic = 0x0002 0x0003 read,notify 00002a00-0000-1000-8000-00805f9b34fb
 *   descriptor = 0x0004 00002902-0000-1000-8000-00805f9b34fb
 *   [end]                              last, always: a file cut short lacks it
 *
 * A characteristic belongs to the service line before it, a descriptor to
 * the characteristic line before it. Handles are "0x" and 4 hex digits;
 * UUIDs are anything bleak_uuid_parse() takes (written in the full form);
 * properties are Bleak's names joined by ',' (bleak_gatt_properties_format)
 * or "-" for none; services are "primary" or "secondary". Keys (ltk, irk,
 * csrks) and the hash are written as their 16 bytes in the order they are
 * held in bk_bond (the order SMP's PDUs carry them: least significant
 * octet first), as hex; either letter case is read.
 *
 * File names: <LOCAL>-<type>_<PEER>-<type>.bond, the addresses as 12
 * upper-case hex digits in the order they are written with colons
 * (C0FFEE000001-random_112233445566-public.bond). Other names in the
 * directory are not bonds and are left alone (temporary files start with
 * a '.').
 *
 * Not thread-safe per directory: two processes storing the same bond at
 * once each write whole files, and the last rename wins.
 */
#ifndef BLEAK_HCI_BOND_STORE_H
#define BLEAK_HCI_BOND_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/gatt.h"

/* The format version this code reads and writes. */
#define BK_BOND_VERSION 1
/* The largest bond file read or written (a larger one is refused). */
#define BK_BOND_MAX_FILE (1024u * 1024u)
/* The root's directory when no HOME is set (a service started by init). */
#define BK_BOND_SYSTEM_DIR "/var/lib/bleak/bonds"

/* Address types, as HCI and SMP have them. */
enum { BK_BOND_ADDR_PUBLIC = 0, BK_BOND_ADDR_RANDOM = 1 };

/* A Bluetooth device address: 6 bytes little-endian (as HCI carries them,
 * and as bk_hci_parse_address() gives them) and its type. */
typedef struct bk_bond_addr {
  uint8_t addr[6];
  uint8_t type; /* BK_BOND_ADDR_PUBLIC or BK_BOND_ADDR_RANDOM */
} bk_bond_addr;

/* Which bond: our identity and the peer's (what names a file). */
typedef struct bk_bond_id {
  bk_bond_addr local;
  bk_bond_addr peer;
} bk_bond_id;

/*
 * A bond. A plain struct that the caller owns, but for @c gatt: a
 * reference of its own (or NULL), dropped by bk_bond_clear(). Clear a
 * bond when done with it: that also wipes its keys from memory.
 */
typedef struct bk_bond {
  bk_bond_id id;
  int64_t created; /* when it was made: seconds since the epoch (UTC), >= 0 */

  /* The Long Term Key and what it is worth. */
  uint8_t ltk[16];
  uint8_t key_size;        /* 7..16: the encryption key size negotiated */
  bool authenticated;      /* MITM protection (not Just Works) */
  bool secure_connections; /* LE Secure Connections (then ediv, rand are 0) */
  uint16_t ediv;           /* legacy pairing: the peer's EDIV */
  uint64_t rand;           /* legacy pairing: the peer's Rand */

  /* The peer's Identity Resolving Key: resolves its private addresses. */
  bool has_irk;
  uint8_t irk[16];

  /* Signing keys (data signing), each with its sign counter. */
  bool has_local_csrk;
  uint8_t local_csrk[16];
  uint32_t local_sign_counter;
  bool has_peer_csrk;
  uint8_t peer_csrk[16];
  uint32_t peer_sign_counter;

  /* The peer's GATT database (a finished collection) and its Database
   * Hash (Characteristic 0x2B2A), or NULL: none kept. The bond holds one
   * reference; has_db_hash needs a database. */
  bleak_gatt_services *gatt;
  bool has_db_hash;
  uint8_t db_hash[16];
} bk_bond;

/* Drop the bond's GATT reference and zero it all (keys wiped with
 * explicit_bzero). NULL-safe; a cleared bond can be cleared again. */
void bk_bond_clear(bk_bond *b);

/*
 * The bond directory, the first of:
 *   1. @p option (the client option), when not NULL and not empty;
 *   2. $BLEAK_BOND_DIR, when set and not empty;
 *   3. $XDG_STATE_HOME/bleak/bonds, when XDG_STATE_HOME is an absolute
 *      path (the XDG spec ignores a relative one);
 *   4. $HOME/.local/state/bleak/bonds, when HOME is set and not empty;
 *   5. with no HOME (a service started by init): BK_BOND_SYSTEM_DIR when
 *      running as root (effective uid 0);
 *   6. else BLEAK_ERR_INVALID_ARG, whose detail says to set BLEAK_BOND_DIR.
 * The directory need not exist (bk_bond_store() makes it).
 * @p out gets a string the caller frees (NULL on error).
 * Errors: INVALID_ARG (NULL out, or case 6), NO_MEMORY, TOO_LONG (longer
 * than PATH_MAX).
 */
int bk_bond_dir_resolve(const char *option, char **out);

/* The same from explicit inputs instead of the environment and the
 * effective uid (what bk_bond_dir_resolve() reads and passes here). Any
 * string may be NULL: not set. */
typedef struct bk_bond_env {
  const char *bond_dir;       /* $BLEAK_BOND_DIR */
  const char *xdg_state_home; /* $XDG_STATE_HOME */
  const char *home;           /* $HOME */
  bool root;                  /* the effective uid is 0 */
} bk_bond_env;
int bk_bond_dir_resolve_env(const char *option, const bk_bond_env *env, char **out);

/*
 * The file name of bond @p id (not the path), into @p out.
 * Errors: INVALID_ARG (NULL, an address type other than 0 or 1).
 */
#define BK_BOND_NAME_LEN 45 /* 44 characters and the NUL */
int bk_bond_file_name(const bk_bond_id *id, char out[BK_BOND_NAME_LEN]);
/* The other way: @p name is a bond's file name (exactly). Errors:
 * INVALID_ARG (not one). */
int bk_bond_parse_file_name(const char *name, bk_bond_id *out);

/*
 * Load the bond of (@p local, @p peer) from directory @p dir into @p out
 * (which the caller clears afterwards; on error it is left cleared).
 * Errors: NOT_FOUND (no such file, or no such directory), PROTOCOL (the
 * file is not a good bond: not a regular file, larger than
 * BK_BOND_MAX_FILE, or what bk_bond_parse() refuses; the detail names the
 * line and the file), IO (cannot read it: permissions...), NO_MEMORY,
 * INVALID_ARG (NULL arguments, bad address types), TOO_LONG (the path).
 */
int bk_bond_load(const char *dir, const bk_bond_addr *local, const bk_bond_addr *peer,
                 bk_bond *out);

/*
 * Store @p b (not taken: the caller still owns it) in directory @p dir,
 * atomically replacing the bond of the same identities. @p dir and its
 * missing parents are made with mode 0700 (an existing directory keeps
 * its mode); the file is 0600. When this fails, the bond stored before
 * (if any) is untouched and no temporary file is left; but for one case:
 * the directory cannot be synced after the rename (IO, the detail says
 * "stored, but cannot sync"): the new bond is in place, maybe not for good.
 * Errors: INVALID_ARG (NULL or empty dir, NULL b, a field out of its
 * range: address type, key_size, created < 0, ediv or rand not 0 with
 * secure_connections, a hash without a database, an unfinished database,
 * property bits bleak has no name for), TOO_LONG (the file would be
 * larger than BK_BOND_MAX_FILE: a huge database; or the path), IO (the
 * detail says which step and why), NO_MEMORY.
 */
int bk_bond_store(const char *dir, const bk_bond *b);

/*
 * Remove the bond of (@p local, @p peer) from @p dir (then sync @p dir).
 * Errors: NOT_FOUND (none), IO (the detail says "removed, but cannot
 * sync" when only the sync failed), INVALID_ARG, TOO_LONG.
 */
int bk_bond_remove(const char *dir, const bk_bond_addr *local, const bk_bond_addr *peer);

/*
 * Remove every bond in @p dir with the peer whose address is @p peer
 * (little-endian; either address type), whatever our address was when it
 * was made. @return how many were removed (0: none), or the errors of
 * bk_bond_list() and bk_bond_remove() (a bond gone meanwhile is not one).
 */
int bk_bond_remove_peer(const char *dir, const uint8_t peer[6]);

/*
 * The bonds in @p dir, from the file names alone (nothing is parsed: load
 * one to read it), sorted by (local, peer) file name. *out gets an array
 * the caller frees (NULL when there are none), *n its length. A missing
 * directory has no bonds (0, not an error).
 * Errors: IO (cannot read the directory), NO_MEMORY, INVALID_ARG.
 */
int bk_bond_list(const char *dir, bk_bond_id **out, size_t *n);

/*
 * Load every bond in @p dir (in bk_bond_list()'s order) and call @p fn
 * with each; the bond is valid during the call only (take a GATT
 * reference to keep its database). What a peer's resolvable private
 * address lookup needs: every IRK. A file that does not load is skipped,
 * logged (a warning with the error's detail, never a key) and counted in
 * *bad (when @p bad is not NULL). @p fn returns 0 to go on; anything else
 * stops the walk and is returned.
 * Errors: those of bk_bond_list(), or what @p fn returned.
 */
typedef int (*bk_bond_fn)(const bk_bond *b, void *user);
int bk_bond_foreach(const char *dir, bk_bond_fn fn, void *user, size_t *bad);

/*
 * The file format on a buffer (for bk_bond_load(), tests and the fuzz
 * target): parse @p len bytes at @p text (no NUL needed; a NUL inside is
 * an error) into @p out, which the caller clears afterwards (on error it
 * is left cleared). When @p expect is not NULL the file's identities must
 * be those (the file's name says whose it is).
 * Errors: PROTOCOL (with "line N: ..." in the detail), NO_MEMORY,
 * INVALID_ARG (NULL text with len > 0, NULL out).
 */
int bk_bond_parse(const char *text, size_t len, const bk_bond_id *expect, bk_bond *out);

/*
 * Format @p b as a file: *out gets a NUL-terminated buffer the caller
 * frees (it holds keys: wipe it first, e.g. explicit_bzero over *len
 * bytes), *len its length without the NUL.
 * Errors: as bk_bond_store()'s INVALID_ARG and TOO_LONG, NO_MEMORY.
 */
int bk_bond_format(const bk_bond *b, char **out, size_t *len);

#endif /* BLEAK_HCI_BOND_STORE_H */
