/* SPDX-License-Identifier: MIT */
/*
 * The client core's own header: the bleak_client object and what its files
 * share. Backends never include it (they see src/core/backend.h).
 *
 *   client.c       construction, free, properties, connect and disconnect,
 *                  the connection state machine, the disconnected event
 *   op.c           the life cycle of an operation: start, record the
 *                  result, deliver it from the loop, cancel, timeout
 *   connect.c      connect's device search (through a scanner) and retries
 *   services.c     the discovered services, Service Changed, lookups
 *   client_ops.c   the attribute operations' checks and starts
 *   blocking.c     the blocking calls, one driver for all
 */
#ifndef BLEAK_CORE_CLIENT_PRIV_H
#define BLEAK_CORE_CLIENT_PRIV_H

#include "bleak/client.h"
#include "bleak/scanner.h"
#include "core/backend.h"
#include "core/queue.h"
#include "core/value_cache.h"

typedef struct subscription {
  const bleak_gatt_characteristic *ch;
  bleak_notify_fn cb;
  void *user_data;
  bool active;   /* start_notify succeeded */
  bool stopping; /* stop_notify called: no more values */
  bk_qnode node; /* in the client's subs */
} subscription;

/* The device search of one connect (connect.c). */
typedef struct bk_find {
  bleak_scanner *scanner; /* non-NULL while searching */
  bool seen;              /* advertising seen, waiting for the name */
  int next;               /* what the connect op's step timer does next */
} bk_find;

struct bleak_client {
  bleak_loop *loop;
  bleak_client_options opts; /* strings and arrays below are owned copies */
  char *adapter;
  char *hci_transport;
  char *bond_dir;
  bleak_oob_data oob; /* opts.pairing.oob points here when given */
  bleak_uuid *services_filter;
  char address[18];
  char found_name[249];   /* what the device search heard */
  const bk_client_backend *be;
  void *be_state;
  bk_conn_state state;
  bleak_gatt_services *services;
  /* Collections replaced while connected (Service Changed): kept until
   * the link goes, so that pointers the user holds stay valid. */
  bleak_gatt_services **retired;
  size_t n_retired;
  bk_queue pending;   /* started, no result yet */
  bk_queue done;      /* result recorded, callback not yet delivered */
  bleak_source *drain; /* 0 ms timer that delivers `done`, made with the client */
  int last_id;
  bk_queue subs;
  bleak_disconnected_fn disconnected_cb;
  void *disconnected_user_data;
  /* Disconnected events waiting in `done` order: delivered after the ops
   * recorded before them (a counter: nothing to allocate). */
  bk_op disconnected_event;
  /* The pairing question waiting for delivery (a newer one replaces it). */
  bk_op pairing_event;
  bleak_pairing_request pairing_kind;
  uint32_t pairing_passkey;
  unsigned callback_depth; /* > 0 while a user callback of ours runs */
  bool free_requested;     /* bleak_client_free() from inside a callback */
  bool freeing;            /* inside bleak_client_free(): no new ops */
  bk_find find;
  /* The last values read or notified this connection: use_cached reads
   * of a backend without caches_values (value_cache.h). */
  bk_value_cache values;
};

/* The per-op area after the bk_op header holds, in this order: the
 * backend's state (op_state_size), then for reads the result buffer. */
bk_op *bk_op_new(bleak_client *c, bk_op_kind kind);
/* The same, with its target and its callback (@p done or @p read). */
bk_op *bk_op_new_for(bleak_client *c, bk_op_kind kind, const bleak_gatt_characteristic *ch,
                     const bleak_gatt_descriptor *desc, bleak_done_fn done, bleak_read_fn read,
                     void *user);
void bk_op_free(bk_op *op);
/* Link @p op, arm its timeout (> 0 ms), start it. Returns its id: from
 * here on the op completes exactly once, also when the backend refuses to
 * start it; BLEAK_ERR_NO_MEMORY (the op is freed, nothing started). */
int bk_op_start(bleak_client *c, bk_op *op, int timeout_ms);
/* A use_cached read on a backend without caches_values: completed with
 * the value the core saw last (from the loop, as any), else started on
 * the backend as a plain read. Returns the id, or BLEAK_ERR_NO_MEMORY. */
int bk_op_start_cached(bleak_client *c, bk_op *op);
/* The ATT handle a read or write op is about (a characteristic's value
 * handle, a descriptor's handle). */
uint16_t bk_op_attr_handle(const bk_op *op);
/* Record @p status for @p op and queue its delivery (never fails, never
 * calls back). */
void bk_op_record(bk_op *op, int status);
/* Complete every pending op but those of @p keep_kind (-1: none) with
 * @p status; the backend forgets each (abort). */
void bk_op_fail_pending(bleak_client *c, int status, int keep_kind);
/* Complete every pending op of @p kind with success (abort() first). */
void bk_op_succeed_pending(bleak_client *c, bk_op_kind kind);
bk_op *bk_op_find(bleak_client *c, int id);
/* Deliver what is queued now (bleak_client_free uses it). */
void bk_op_deliver_all(bleak_client *c);
/* The drain source's callback (made by bleak_client_new). */
void bk_op_drain(bleak_source *src, void *user);
/* Free now: what bleak_client_free() does when no callback of the client
 * is on the stack. */
void bk_client_free_now(bleak_client *c);
void bk_client_arm_drain(bleak_client *c);

/* State changes of the connection; debug builds assert allowed pairs. */
void bk_client_set_state(bleak_client *c, bk_conn_state to);

/* What an op's result changes in the client, applied when it is recorded:
 * the core's state is the truth as of now, callbacks follow in order. */
void bk_client_apply_result(bleak_client *c, bk_op *op, int status);

/* connect.c: start a connect op (search first when the backend asks),
 * the retry of a transient failure, cleanup of the search. */
int bk_connect_begin(bleak_client *c, bk_op *op);
void bk_connect_step(bleak_source *src, void *user); /* the op's step timer */
bool bk_connect_retry(bleak_client *c, bk_op *op, int status);
void bk_connect_stop_search(bleak_client *c);

/* services.c */
void bk_client_drop_services(bleak_client *c);
int bk_client_need_services(const bleak_client *c);
int bk_client_check_char(const bleak_client *c, const bleak_gatt_characteristic **ch);
int bk_client_check_desc(const bleak_client *c, const bleak_gatt_descriptor **d);

/* Subscriptions (client.c). */
subscription *bk_sub_find(bleak_client *c, const bleak_gatt_characteristic *ch);
void bk_sub_remove(bleak_client *c, const bleak_gatt_characteristic *ch);
void bk_sub_drop_all(bleak_client *c);

/* Is @p op one of the client's embedded events (the disconnected event,
 * the pairing question) rather than an operation of its own? */
static inline bool bk_client_is_event(const bleak_client *c, const bk_op *op) {
  return op == &c->disconnected_event || op == &c->pairing_event;
}

/* Refuse a new operation while the client is being freed. */
int bk_client_usable(const bleak_client *c);

#endif /* BLEAK_CORE_CLIENT_PRIV_H */
