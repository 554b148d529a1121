/* SPDX-License-Identifier: MIT */
/*
 * GATT client procedures (Core Vol 3 Part G 4) over an ATT bearer,
 * sans-I/O: each procedure is a small state machine that queues ATT
 * requests on the bearer and completes exactly once through its callback
 * (never from inside the call that starts it), unless canceled first.
 *
 * Discovery takes the fewest round trips it can for the database at hand:
 * primary services by Read By Group Type, characteristics by Read By Type
 * over the whole span of the services (not per service), descriptors by
 * Find Information over spans that merge neighbouring characteristics'
 * descriptor ranges whenever the attributes between them are known 16-bit
 * ones (so one response carries many characteristics' descriptors).
 * Included services are not part of it (Bleak does not show them):
 * bk_gattc_find_included() finds them when asked.
 */
#ifndef BLEAK_HCI_GATT_CLIENT_H
#define BLEAK_HCI_GATT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "backend/hci/att_bearer.h"
#include "bleak/gatt.h"
#include "bleak/uuid.h"

/* The longest attribute value (Vol 3 Part F 3.2.9). */
#define BK_GATT_MAX_VALUE 512

typedef struct bk_gattc_proc bk_gattc_proc;

/* Discovery result: @p services (owned by the callee: unref it) is NULL
 * unless status is 0; @p requests is the number of ATT requests used. */
typedef void (*bk_gattc_discover_fn)(void *user, int status, bleak_gatt_services *services,
                                     unsigned requests);
/* A value (valid during the call) or an error. */
typedef void (*bk_gattc_value_fn)(void *user, int status, const uint8_t *value, size_t len);
typedef void (*bk_gattc_done_fn)(void *user, int status);
/* A list result: @p handles / @p ends / @p uuids (n entries; any may be
 * NULL for a procedure that has no such column). */
typedef void (*bk_gattc_list_fn)(void *user, int status, size_t n, const uint16_t *handles,
                                 const uint16_t *ends, const bleak_uuid *uuids);

/*
 * Every start function takes @p now, the caller's clock (ms): the first
 * request's 30 s count from it (later ones from the answers' times).
 * @return 0 and (when @p out is not NULL) the
 * procedure for bk_gattc_cancel(); or BLEAK_ERR_NO_MEMORY,
 * BLEAK_ERR_NOT_CONNECTED (bearer closed), BLEAK_ERR_INVALID_ARG,
 * BLEAK_ERR_TOO_LONG; the callback does not run then. The callback's
 * status is 0, BLEAK_ERR_ATT(code) (the server's error), BLEAK_ERR_PROTOCOL
 * (a malformed answer, handles out of order or out of range),
 * BLEAK_ERR_TIMEOUT or BLEAK_ERR_DISCONNECTED. The procedure is freed after
 * its callback returns.
 */

/* Discover all primary services, characteristics and descriptors. */
int bk_gattc_discover(bk_att *a, bk_gattc_discover_fn cb, void *user, uint64_t now,
                      bk_gattc_proc **out);

/* Service Changed: discover the services that start in [start, end]
 * again, and keep those of @p base (the collection before the change; a
 * reference is taken while the procedure runs) that lie wholly outside
 * it. The result is a new collection: base is not modified. */
int bk_gattc_discover_range(bk_att *a, uint16_t start, uint16_t end, bleak_gatt_services *base,
                            bk_gattc_discover_fn cb, void *user, uint64_t now,
                            bk_gattc_proc **out);

/* A copy of a finished collection (for a cache: the client's own copy
 * gets filtered and must not be shared). NULL when out of memory. */
bleak_gatt_services *bk_gattc_copy_services(const bleak_gatt_services *src);

/* Primary services of one UUID (Find By Type Value): handles and ends. */
int bk_gattc_discover_primary_by_uuid(bk_att *a, const bleak_uuid *uuid, bk_gattc_list_fn cb,
                                      void *user, uint64_t now, bk_gattc_proc **out);

/* Included service declarations in [start, end]: the declaration handles
 * (handles), the included services' start (ends: their end handles), and
 * their UUIDs when the declaration carries a 16-bit one (else the nil
 * UUID: a 128-bit one needs a read, which this procedure does not do). */
int bk_gattc_find_included(bk_att *a, uint16_t start, uint16_t end, bk_gattc_list_fn cb,
                           void *user, uint64_t now, bk_gattc_proc **out);

/* Read a value, long values with Read Blob up to 512 bytes. */
int bk_gattc_read(bk_att *a, uint16_t handle, bk_gattc_value_fn cb, void *user, uint64_t now,
                  bk_gattc_proc **out);

/* Read Using Characteristic UUID in [start, end]: the first value found
 * and its handle (through @p handle_out, set before @p cb runs). */
int bk_gattc_read_by_uuid(bk_att *a, uint16_t start, uint16_t end, const bleak_uuid *uuid,
                          uint16_t *handle_out, bk_gattc_value_fn cb, void *user, uint64_t now,
                          bk_gattc_proc **out);

/* Read Multiple (values concatenated, as the server sends them) or,
 * @p variable, Read Multiple Variable (the response's length/value tuples,
 * as received: walk them with bk_att_tuple_next() semantics). */
int bk_gattc_read_multiple(bk_att *a, const uint16_t *handles, size_t n, bool variable,
                           bk_gattc_value_fn cb, void *user, uint64_t now, bk_gattc_proc **out);

/* Write with response; values longer than MTU-3 go as a reliable long
 * write (Prepare Write, each echo checked, then Execute Write; a wrong
 * echo cancels the queue and fails with BLEAK_ERR_PROTOCOL). @p reliable
 * forces the prepared-write path for short values too. */
int bk_gattc_write(bk_att *a, uint16_t handle, const uint8_t *value, size_t len, bool reliable,
                   bk_gattc_done_fn cb, void *user, uint64_t now, bk_gattc_proc **out);

/* Write Without Response (at most MTU-3 bytes): sent now, no callback (and
 * no time: a command has no timeout).
 * @return 0, BLEAK_ERR_TOO_LONG, BLEAK_ERR_NOT_CONNECTED, a send error. */
int bk_gattc_write_command(bk_att *a, uint16_t handle, const uint8_t *value, size_t len);

/* Forget a procedure: its callback never runs. NULL-safe. Not from inside
 * its own callback. */
void bk_gattc_cancel(bk_gattc_proc *p);

#endif
