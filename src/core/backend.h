/* SPDX-License-Identifier: MIT */
/*
 * The interface between the backend-neutral client (src/core/client.c) and a
 * backend (bluez, hci, a fake in the unit tests).
 *
 * The core owns the life cycle of every operation (bk_op): ids, exactly-once
 * completion, cancel, timeouts, failing everything pending on disconnect.
 * A backend only starts operations and reports their results:
 *
 *   core                         backend
 *   ----                         -------
 *   ops->start(c, op)     --->   begins the work (D-Bus call, ATT request)
 *                         <---   bk_op_done(op, status) / bk_op_done_read()
 *   ops->abort(c, op)     --->   forget op: drop the in-flight call without
 *                                completing it (cancel, timeout, disconnect)
 *                         <---   bk_client_disconnected(c, reason)
 *                         <---   bk_client_notify(c, value_handle, data, len)
 *
 * A backend may call bk_op_done() from inside start(): the core then defers
 * the user's callback to the loop, so an async call never completes before
 * it returns.
 */
#ifndef BLEAK_CORE_BACKEND_H
#define BLEAK_CORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/client.h"
#include "bleak/gatt.h"

typedef enum bk_op_kind {
  BK_OP_CONNECT,
  BK_OP_DISCONNECT,
  BK_OP_READ_CHAR,
  BK_OP_WRITE_CHAR,
  BK_OP_START_NOTIFY,
  BK_OP_STOP_NOTIFY,
  BK_OP_READ_DESC,
  BK_OP_WRITE_DESC,
  BK_OP_PAIR,
  BK_OP_UNPAIR,
} bk_op_kind;

typedef struct bk_op bk_op;

/* An operation in flight. The request fields are set by the core before
 * start() and stay valid until the operation completes or is aborted. */
struct bk_op {
  bleak_client *client;
  int id;
  bk_op_kind kind;
  /* request */
  const bleak_gatt_characteristic *ch;  /* READ/WRITE_CHAR, START/STOP_NOTIFY */
  const bleak_gatt_descriptor *desc;    /* READ/WRITE_DESC */
  uint8_t *data;                        /* WRITE_*: owned copy */
  size_t len;
  bool with_response;                   /* WRITE_CHAR: resolved mode */
  bool indicate;                        /* START_NOTIFY: indications */
  /* for the backend: its in-flight handle (an sd_bus_slot, an ATT id).
   * Deprecated: use bk_op_state() (typed, sized by the backend). */
  void *backend_data;
  /* core bookkeeping */
  bleak_done_fn done_cb;
  bleak_read_fn read_cb;
  void *user_data;
  bleak_source *timer;  /* timeout (connect) or deferred completion */
  int status;           /* result, while a deferred completion waits */
  uint8_t *result;      /* read result copy, while deferred */
  size_t result_len;
  bool starting;        /* inside ops->start() */
  bool finished;        /* result recorded; completion pending */
  bk_op *next;
};

typedef struct bk_client_backend {
  const char *name; /* "bluez", "hci" */
  /* Bytes of per-operation state the backend keeps (its own struct, cast
   * from bk_op_state()): allocated and zeroed with every op, freed with it,
   * so starting work never allocates a second record. */
  size_t op_state_size;
  /* Set up per-client state in *state. Errors: any bleak error; detail
   * message set. */
  int (*init)(bleak_client *c, const bleak_client_options *opts,
              void **state);
  /* Free per-client state. The core has aborted every operation and the
   * link is to be dropped without waiting. */
  void (*destroy)(bleak_client *c, void *state);
  /* Begin @p op. Return 0 when started (a result follows through
   * bk_op_done*), or a negative error: the core completes the op with it. */
  int (*start)(bleak_client *c, bk_op *op);
  /* Forget @p op without completing it; release what start() took. */
  void (*abort)(bleak_client *c, bk_op *op);
  /* Negotiated ATT MTU, 23 when unknown. */
  int (*mtu)(const bleak_client *c);
  /* The device's name if the backend knows one, else NULL. */
  const char *(*device_name)(const bleak_client *c);
  /* Answer a pending pairing question (bleak_client_pairing_reply()). */
  int (*pairing_reply)(bleak_client *c, bool accept, uint32_t passkey);
} bk_client_backend;

/* The backend's per-operation state: op_state_size bytes, zeroed when the
 * op is created, aligned for any type; NULL when op_state_size is 0. */
void *bk_op_state(bk_op *op);

/* Backend state set up by init(). */
void *bk_client_backend_state(const bleak_client *c);

/* Report the result of @p op (exactly once; not after abort()). CONNECT
 * includes service discovery (bk_client_set_services() first) and, when the
 * options ask, pairing. */
void bk_op_done(bk_op *op, int status);
/* Report a read result; @p data is copied when needed. */
void bk_op_done_read(bk_op *op, int status, const uint8_t *data, size_t len);

/* The link is down (reason: 0 for a local disconnect, else an error code).
 * Every pending operation but a disconnect completes with
 * BLEAK_ERR_DISCONNECTED (with @p reason itself when it is BLEAK_ERR_IO or
 * BLEAK_ERR_NO_BACKEND: the controller or bluetoothd went away),
 * subscriptions end, services go, and the user's disconnected callback
 * fires (once per connection). */
void bk_client_disconnected(bleak_client *c, int reason);

/* A notification or indication value for the characteristic whose value
 * handle (or, for bluez, characteristic) is given. Dropped when nobody is
 * subscribed. */
void bk_client_notify(bleak_client *c, const bleak_gatt_characteristic *ch,
                      const uint8_t *data, size_t len);

/* Install the discovered services (the client takes over the reference;
 * the services filter of the options is applied). Call before completing
 * the connect operation. */
void bk_client_set_services(bleak_client *c, bleak_gatt_services *services);

/* The peer's database changed (Service Changed) while connected: install
 * the re-discovered @p services (the client takes the reference; the
 * services filter applies). The old collection stays valid until the link
 * goes (the user may hold pointers into it); subscriptions move to the
 * characteristic with the same value handle and UUID, or end.
 * @return 0, BLEAK_ERR_STATE (not connected: @p services is dropped),
 * BLEAK_ERR_NO_MEMORY. */
int bk_client_replace_services(bleak_client *c, bleak_gatt_services *services);

/* The client's options and address, for backends. */
const bleak_client_options *bk_client_options(const bleak_client *c);
const char *bk_client_address(const bleak_client *c);

/* Create a client on a given backend (tests use a fake one). */
int bk_client_new_with_backend(const char *address,
                               const bleak_client_options *opts,
                               const bk_client_backend *backend,
                               bleak_client **out);

/* The backend for @p kind: resolves BLEAK_BACKEND_AUTO ($BLEAK_BACKEND,
 * else bluez). NULL with a detail message when not built in. */
const bk_client_backend *bk_client_backend_for(bleak_backend_kind kind);

/* Parse and normalize "aa:bb:cc:dd:ee:ff" to upper case in @p out (18
 * bytes). Returns 0 or BLEAK_ERR_INVALID_ARG. */
int bk_normalize_address(const char *in, char out[18]);

#endif /* BLEAK_CORE_BACKEND_H */
