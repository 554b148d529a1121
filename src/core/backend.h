/* SPDX-License-Identifier: MIT */
/*
 * The interface between the backend-neutral client (src/core/client*.c) and
 * a backend (bluez, hci, a fake in the unit tests). docs/DESIGN.md ("The
 * life of an operation") is the long form of this comment.
 *
 * The core owns the life cycle of every operation (bk_op): ids, exactly-once
 * completion, cancel, timeouts, failing what is pending on disconnect, and
 * the connection state. A backend starts operations, reports their results
 * and the link's events, and keeps only the state of its own protocol:
 *
 *   core                         backend
 *   ----                         -------
 *   ops->start(c, op)     --->   begins the work (D-Bus call, ATT request)
 *                         <---   bk_op_done(op, status) / bk_op_done_read()
 *   ops->abort(c, op)     --->   forget op: drop the in-flight call without
 *                                completing it (cancel, timeout, disconnect)
 *                         <---   bk_connect_search(op): find the device first
 *   ops->connect_found()  --->   the device search saw it: go on
 *                         <---   bk_client_link_up(c), bk_client_pairing(c)
 *                         <---   bk_client_disconnected(c, reason)
 *                         <---   bk_client_notify(c, ch, data, len)
 *
 * Results are only recorded by bk_op_done*(): the user's callback runs
 * later, from the loop (the client's drain source), never inside the
 * backend's call. So a backend may report from anywhere, inside start()
 * too, and nothing it calls here re-enters it: after bk_op_done() returns
 * its own state is as it left it. Recording never fails (the op carries
 * the room for its result). Notifications are the one synchronous path
 * (a hot path, and no operation completes there).
 */
#ifndef BLEAK_CORE_BACKEND_H
#define BLEAK_CORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/client.h"
#include "bleak/gatt.h"
#include "core/queue.h"

struct bk_scanner_backend;

/* The connection, as the core knows it (one owner). Allowed changes:
 *   DISCONNECTED -> CONNECTING                  connect
 *   CONNECTING   -> FINDING                     bk_connect_search()
 *   FINDING      -> CONNECTING                  the search saw the device
 *   CONNECTING   -> DISCOVERING                 bk_client_link_up()
 *   DISCOVERING  -> PAIRING                     bk_client_pairing()
 *   DISCOVERING | PAIRING -> CONNECTED          connect op succeeded
 *   CONNECTED    -> DISCONNECTING               disconnect
 *   DISCONNECTING -> CONNECTED                  the disconnect failed
 *   any          -> DISCONNECTED                failure, cancel, link down
 *   FINDING..PAIRING -> CONNECTING              a retry */
typedef enum bk_conn_state {
  BK_CONN_DISCONNECTED,
  BK_CONN_FINDING,
  BK_CONN_CONNECTING,
  BK_CONN_DISCOVERING,
  BK_CONN_PAIRING,
  BK_CONN_CONNECTED,
  BK_CONN_DISCONNECTING,
} bk_conn_state;

const char *bk_conn_state_name(bk_conn_state s);

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
  bool use_start_notify;                /* START_NOTIFY: bluez's StartNotify */
  bool use_cached;                      /* READ_*: a value the backend holds
                                         * may answer (the core's had none);
                                         * a backend without one reads */
  /* core bookkeeping: not for backends */
  bleak_done_fn done_cb;
  bleak_read_fn read_cb;
  void *user_data;
  uint64_t deadline_ms; /* loop time the timeout ends (connect), else 0 */
  bleak_source *timer;  /* the timeout (connect) */
  bleak_source *step;   /* connect: the search's and the retries' timer */
  int attempts;         /* connect: links tried */
  bool no_retry;        /* canceled, timed out, or the link is down */
  int status;           /* the recorded result */
  uint8_t *result;      /* reads: BLEAK_MAX_ATTR_VALUE bytes of the op's own */
  size_t result_len;
  bool finished;        /* result recorded; delivery pending */
  bk_qnode node;        /* in the client's pending or done queue */
};

typedef struct bk_client_backend {
  const char *name; /* "bluez", "hci" */
  /* Bytes of per-operation state the backend keeps (its own struct, cast
   * from bk_op_state()): allocated and zeroed with every op, freed with it,
   * so starting work never allocates a second record. */
  size_t op_state_size;
  /* The backend answers use_cached reads itself (bluez: BlueZ's Value
   * property). false: the core answers them from the last value it saw
   * read or notified this connection, and starts only those it has none
   * for (with use_cached false). */
  bool caches_values;
  /* Set up per-client state in *state. Errors: any bleak error; detail
   * message set. */
  int (*init)(bleak_client *c, const bleak_client_options *opts,
              void **state);
  /* Free per-client state. The core has aborted every operation and the
   * link is to be dropped without waiting. */
  void (*destroy)(bleak_client *c, void *state);
  /* Begin @p op. Return 0 when started (a result follows through
   * bk_op_done*), or a negative error: the core completes the op with it.
   * CONNECT: may ask for the device search (bk_connect_search) instead of
   * linking; it is started again for a retry (see transient). */
  int (*start)(bleak_client *c, bk_op *op);
  /* CONNECT: the device search saw the device; link to it now. Errors as
   * start(). */
  int (*connect_found)(bleak_client *c, bk_op *op);
  /* Is @p err, a connect's failure, one worth another try within the
   * connect's timeout (a link that failed to be established, BlueZ's
   * le-connection-abort-by-local)? NULL: none is. */
  bool (*transient)(int err);
  /* The scanner backend the device search uses (NULL: connect never
   * searches). */
  const struct bk_scanner_backend *scanner;
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
 * op is created (and before each retry of a connect), aligned for any type;
 * NULL when op_state_size is 0. */
void *bk_op_state(bk_op *op);

/* Backend state set up by init(). */
void *bk_client_backend_state(const bleak_client *c);

/* Report the result of @p op (exactly once; not after abort()). CONNECT
 * includes service discovery (bk_client_set_services() first) and, when the
 * options ask, pairing; a transient failure of CONNECT may be retried by the
 * core (start() again). Never calls back into the backend. */
void bk_op_done(bk_op *op, int status);
/* Report a read result; @p data (at most BLEAK_MAX_ATTR_VALUE bytes: a
 * longer one completes with BLEAK_ERR_PROTOCOL) is copied into the op. */
void bk_op_done_read(bk_op *op, int status, const uint8_t *data, size_t len);

/* What is left of @p op's timeout, in ms (UINT64_MAX: it has none). */
uint64_t bk_op_time_left_ms(const bk_op *op);

/* CONNECT: the backend does not know the device: the core searches for it
 * (a scanner of the backend's kind, filtered by address), then calls
 * connect_found(), or completes the op with BLEAK_ERR_DEVICE_NOT_FOUND just
 * before its timeout. Never calls back from inside. */
void bk_connect_search(bk_op *op);

/* The connection's state (the core owns it). */
bk_conn_state bk_client_state(const bleak_client *c);
/* The link is up: the connect goes on with discovery (CONNECTING ->
 * DISCOVERING). */
void bk_client_link_up(bleak_client *c);
/* The connect pairs before it completes (DISCOVERING -> PAIRING). */
void bk_client_pairing(bleak_client *c);
/* The name the device search heard in its advertising, or NULL. */
const char *bk_client_found_name(const bleak_client *c);

/* The link is down (reason: 0 for a local disconnect, else an error code).
 * Every pending operation but a disconnect completes with
 * BLEAK_ERR_DISCONNECTED (with @p reason itself when it is BLEAK_ERR_IO or
 * BLEAK_ERR_NO_BACKEND: the controller or bluetoothd went away), a pending
 * connect included, subscriptions end, services go, the user's
 * disconnected callback is queued (once per connection that was up), then
 * the disconnects succeed. Nothing is delivered before the backend returns
 * to the loop; the backend's own ops are aborted (abort()) first. */
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

/* Ask the user's pairing callback (bleak_pairing_fn) @p kind, with
 * @p passkey where it has one: delivered from the loop, in order with the
 * completions recorded before it; a question not yet delivered is replaced
 * by a newer one. The answer comes through the backend's pairing_reply.
 * Without a pairing callback nothing is delivered: the backend decides
 * what that means (before asking). */
void bk_client_ask_pairing(bleak_client *c, bleak_pairing_request kind, uint32_t passkey);

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
