/* SPDX-License-Identifier: MIT */
/*
 * The backend-neutral client: construction and free, properties, connect
 * and disconnect, the connection's state machine, subscriptions and the
 * link's events from the backend. The life of an operation is in op.c.
 */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/client_priv.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define LOG_MOD "client"
#define DEFAULT_TIMEOUT_MS 30000 /* Bleak 2.1.1 */

/* ---- helpers ---- */

int bk_normalize_address(const char *in, char out[18]) {
  if (!in || strlen(in) != 17)
    return BLEAK_ERR_INVALID_ARG;
  for (int i = 0; i < 17; i++) {
    char ch = in[i];
    if (i % 3 == 2) {
      if (ch != ':')
        return BLEAK_ERR_INVALID_ARG;
      out[i] = ':';
    } else {
      if (!isxdigit((unsigned char)ch))
        return BLEAK_ERR_INVALID_ARG;
      out[i] = (char)toupper((unsigned char)ch);
    }
  }
  out[17] = '\0';
  return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void *bk_client_backend_state(const bleak_client *c) { return c->be_state; }
const bleak_client_options *bk_client_options(const bleak_client *c) { return &c->opts; }
const char *bk_client_address(const bleak_client *c) { return c->address; }
bk_conn_state bk_client_state(const bleak_client *c) { return c->state; }
const char *bk_client_found_name(const bleak_client *c) {
  return c->found_name[0] ? c->found_name : NULL;
}

int bk_client_usable(const bleak_client *c) {
  if (!c)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "client is NULL");
  if (c->freeing || c->free_requested)
    return bk_fail(BLEAK_ERR_STATE, "%s: the client is being freed", c->address);
  return 0;
}

/* ---- the connection's state ---- */

const char *bk_conn_state_name(bk_conn_state s) {
  static const char *const names[] = {"disconnected", "finding",   "connecting",
                                      "discovering",  "pairing",   "connected",
                                      "disconnecting"};
  return (unsigned)s < BK_ARRAY_SIZE(names) ? names[s] : "?";
}

static bool connecting(bk_conn_state s) {
  return s == BK_CONN_FINDING || s == BK_CONN_CONNECTING || s == BK_CONN_DISCOVERING ||
         s == BK_CONN_PAIRING;
}

/* The pairs of the table in backend.h. */
static bool allowed(bk_conn_state from, bk_conn_state to) {
  if (to == BK_CONN_DISCONNECTED || from == to)
    return true;
  switch (from) {
  case BK_CONN_DISCONNECTED:
    return to == BK_CONN_FINDING || to == BK_CONN_CONNECTING;
  case BK_CONN_FINDING:
    return to == BK_CONN_CONNECTING;
  case BK_CONN_CONNECTING:
    return to == BK_CONN_DISCOVERING || to == BK_CONN_FINDING;
  case BK_CONN_DISCOVERING:
    return to == BK_CONN_PAIRING || to == BK_CONN_CONNECTED || to == BK_CONN_CONNECTING;
  case BK_CONN_PAIRING:
    return to == BK_CONN_CONNECTED || to == BK_CONN_CONNECTING;
  case BK_CONN_CONNECTED:
    return to == BK_CONN_DISCONNECTING;
  case BK_CONN_DISCONNECTING:
    return to == BK_CONN_CONNECTED;
  }
  return false;
}

void bk_client_set_state(bleak_client *c, bk_conn_state to) {
  if (c->state == to)
    return;
  if (!allowed(c->state, to)) {
    BK_ERROR(LOG_MOD, "%s: state %s -> %s is not allowed", c->address,
             bk_conn_state_name(c->state), bk_conn_state_name(to));
    assert(!"connection state change not allowed");
  }
  BK_DEBUG(LOG_MOD, "%s: %s -> %s", c->address, bk_conn_state_name(c->state),
           bk_conn_state_name(to));
  c->state = to;
}

void bk_client_link_up(bleak_client *c) {
  if (c->state == BK_CONN_CONNECTING)
    bk_client_set_state(c, BK_CONN_DISCOVERING);
}

void bk_client_pairing(bleak_client *c) {
  if (c->state == BK_CONN_DISCOVERING)
    bk_client_set_state(c, BK_CONN_PAIRING);
}

/* ---- subscriptions ---- */

subscription *bk_sub_find(bleak_client *c, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&c->subs); n; n = bk_qnode_next(n)) {
    subscription *s = BK_QUEUE_ENTRY(n, subscription, node);
    if (s->ch == ch)
      return s;
  }
  return NULL;
}

void bk_sub_remove(bleak_client *c, const bleak_gatt_characteristic *ch) {
  subscription *s = bk_sub_find(c, ch);
  if (s) {
    bk_queue_remove(&c->subs, &s->node);
    free(s);
  }
}

void bk_sub_drop_all(bleak_client *c) {
  bk_qnode *n;
  while ((n = bk_queue_pop(&c->subs)))
    free(BK_QUEUE_ENTRY(n, subscription, node));
}

/* ---- construction ---- */

void bleak_client_options_init(bleak_client_options *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->timeout_ms = DEFAULT_TIMEOUT_MS;
}

static int copy_options(bleak_client *c, const bleak_client_options *o) {
  c->opts = *o;
  if (c->opts.timeout_ms <= 0)
    c->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
  c->adapter = dup_or_null(o->adapter);
  c->hci_transport = dup_or_null(o->hci_transport);
  c->bond_dir = dup_or_null(o->pairing.bond_dir);
  if ((o->adapter && !c->adapter) || (o->hci_transport && !c->hci_transport) ||
      (o->pairing.bond_dir && !c->bond_dir))
    return BLEAK_ERR_NO_MEMORY;
  if (o->att_timeout_ms < 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "att_timeout_ms %d", o->att_timeout_ms);
  if ((unsigned)o->pairing.io_capability > BLEAK_IO_CAP_KEYBOARD_DISPLAY)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "unknown IO capability %d",
                   (int)o->pairing.io_capability);
  if (o->pairing.min_key_size && (o->pairing.min_key_size < 7 || o->pairing.min_key_size > 16))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "minimum key size %d: 7 to 16 octets",
                   o->pairing.min_key_size);
  if (!c->opts.pairing.min_key_size)
    c->opts.pairing.min_key_size = 7;
  if (o->pairing.oob) {
    if (o->pairing.oob->has_legacy_tk && o->pairing.sc_only)
      return bk_fail(BLEAK_ERR_INVALID_ARG,
                     "a legacy OOB key with sc_only: legacy pairing is refused");
    c->oob = *o->pairing.oob;
    c->opts.pairing.oob = &c->oob;
  }
  if (o->n_services) {
    if (!o->services)
      return bk_fail(BLEAK_ERR_INVALID_ARG, "n_services > 0 but services is NULL");
    c->services_filter = malloc(o->n_services * sizeof *c->services_filter);
    if (!c->services_filter)
      return BLEAK_ERR_NO_MEMORY;
    memcpy(c->services_filter, o->services, o->n_services * sizeof *c->services_filter);
  }
  c->opts.adapter = c->adapter;
  c->opts.hci_transport = c->hci_transport;
  c->opts.pairing.bond_dir = c->bond_dir;
  c->opts.services = c->services_filter;
  c->disconnected_cb = o->disconnected_callback;
  c->disconnected_user_data = o->disconnected_user_data;
  return 0;
}

static void client_release(bleak_client *c) {
  explicit_bzero(&c->oob, sizeof c->oob); /* a secret */
  bleak_source_free(c->drain);
  free(c->adapter);
  free(c->hci_transport);
  free(c->bond_dir);
  free(c->services_filter);
  free(c);
}

int bk_client_new_with_backend(const char *address, const bleak_client_options *opts,
                               const bk_client_backend *backend, bleak_client **out) {
  if (out)
    *out = NULL;
  if (!address || !out || !backend)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_client_new: NULL argument");
  bleak_client_options defaults;
  if (!opts) {
    bleak_client_options_init(&defaults);
    opts = &defaults;
  }
  if ((unsigned)opts->backend > BLEAK_BACKEND_HCI)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "unknown backend %d", (int)opts->backend);
  bleak_client *c = calloc(1, sizeof *c);
  if (!c)
    return BLEAK_ERR_NO_MEMORY;
  bk_queue_init(&c->pending);
  bk_queue_init(&c->subs);
  bk_queue_init(&c->done);
  c->disconnected_event.client = c;
  c->pairing_event.client = c;
  if (bk_normalize_address(address, c->address) < 0) {
    client_release(c);
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "not a Bluetooth address: \"%.40s\" (want AA:BB:CC:DD:EE:FF)", address);
  }
  int r = copy_options(c, opts);
  if (r < 0) {
    client_release(c);
    return r;
  }
  c->loop = opts->loop ? opts->loop : bleak_loop_default();
  if (!c->loop) {
    client_release(c);
    return bk_fail(BLEAK_ERR_IO, "cannot create the default loop");
  }
  c->opts.loop = c->loop;
  c->be = backend;
  /* The drain, made now so that completing never needs memory. */
  if (bleak_loop_add_timer(c->loop, 0, bk_op_drain, c, &c->drain) < 0) {
    client_release(c);
    return BLEAK_ERR_NO_MEMORY;
  }
  bleak_source_stop_timer(c->drain);
  r = backend->init(c, &c->opts, &c->be_state);
  if (r < 0) {
    client_release(c);
    return r;
  }
  *out = c;
  return 0;
}

int bleak_client_new(const char *address, const bleak_client_options *opts,
                     bleak_client **out) {
  if (out)
    *out = NULL;
  const bk_client_backend *be = bk_client_backend_for(opts ? opts->backend : BLEAK_BACKEND_AUTO);
  if (!be)
    return BLEAK_ERR_NO_BACKEND;
  return bk_client_new_with_backend(address, opts, be, out);
}

void bk_client_free_now(bleak_client *c) {
  c->freeing = true;
  c->free_requested = false;
  bk_sub_drop_all(c);
  bk_op_fail_pending(c, BLEAK_ERR_DISCONNECTED, -1);
  bk_connect_stop_search(c);
  /* The pending ops' callbacks, from the caller's clean stack. */
  bk_op_deliver_all(c);
  c->be->destroy(c, c->be_state);
  /* Nothing is left to deliver; should a backend have recorded something
   * while going, it is freed without a call. */
  bk_qnode *n;
  while ((n = bk_queue_pop(&c->done)))
    if (!bk_client_is_event(c, BK_QUEUE_ENTRY(n, bk_op, node)))
      bk_op_free(BK_QUEUE_ENTRY(n, bk_op, node));
  bk_client_drop_services(c);
  client_release(c);
}

void bleak_client_free(bleak_client *c) {
  if (!c || c->freeing)
    return;
  if (c->callback_depth > 0) {
    /* From one of this client's callbacks: the rest of the drain, or the
     * backend below a notification, is still on the stack. Free once it
     * has returned, from the loop. */
    c->free_requested = true;
    bk_client_arm_drain(c);
    return;
  }
  bk_client_free_now(c);
}

/* ---- results and events ---- */

void bk_client_apply_result(bleak_client *c, bk_op *op, int status) {
  switch (op->kind) {
  case BK_OP_CONNECT:
    if (status == 0) {
      bk_client_link_up(c); /* a backend that reports no link-up of its own */
      bk_client_set_state(c, BK_CONN_CONNECTED);
    } else if (connecting(c->state)) {
      bk_client_set_state(c, BK_CONN_DISCONNECTED);
    }
    break;
  case BK_OP_START_NOTIFY: {
    subscription *s = bk_sub_find(c, op->ch);
    if (s && status == 0 && !s->stopping)
      s->active = true;
    else if (s && status < 0 && !s->active)
      bk_sub_remove(c, op->ch);
    break;
  }
  case BK_OP_STOP_NOTIFY:
    bk_sub_remove(c, op->ch);
    break;
  case BK_OP_DISCONNECT:
    /* The backend could not take the link down (BlueZ did not answer, say):
     * as far as we know it is still up, so the client is connected again,
     * and the caller may retry, or free it. Stuck in "disconnecting", it
     * would refuse every later connect. A link that is down shows later
     * through bk_client_disconnected(). */
    if (status < 0 && c->state == BK_CONN_DISCONNECTING)
      bk_client_set_state(c, c->services ? BK_CONN_CONNECTED : BK_CONN_DISCONNECTED);
    break;
  default:
    break;
  }
}

void bk_client_disconnected(bleak_client *c, int reason) {
  bk_conn_state was = c->state;
  bk_client_set_state(c, BK_CONN_DISCONNECTED);
  BK_INFO(LOG_MOD, "%s: disconnected (%s)", c->address,
          reason ? bleak_strerror(reason) : "local");
  bk_sub_drop_all(c);
  /* The backend itself gone (bluetoothd, the controller's transport):
   * pending operations say so; a link that ended says DISCONNECTED. */
  int status = reason == BLEAK_ERR_IO || reason == BLEAK_ERR_NO_BACKEND ? reason
                                                                         : BLEAK_ERR_DISCONNECTED;
  bk_op_fail_pending(c, status, BK_OP_DISCONNECT);
  if ((was == BK_CONN_CONNECTED || was == BK_CONN_DISCONNECTING) && c->disconnected_cb) {
    /* One event per connection, after the ops it failed. */
    bk_op *ev = &c->disconnected_event;
    ev->status++;
    if (!bk_qnode_linked(&ev->node))
      bk_queue_push(&c->done, &ev->node);
  }
  /* Now the disconnects succeed. */
  bk_op_succeed_pending(c, BK_OP_DISCONNECT);
  bk_client_arm_drain(c); /* services go once the callbacks have run */
}

void bk_client_ask_pairing(bleak_client *c, bleak_pairing_request kind, uint32_t passkey) {
  c->pairing_kind = kind;
  c->pairing_passkey = passkey;
  if (!bk_qnode_linked(&c->pairing_event.node))
    bk_queue_push(&c->done, &c->pairing_event.node);
  bk_client_arm_drain(c);
}

void bk_client_notify(bleak_client *c, const bleak_gatt_characteristic *ch,
                      const uint8_t *data, size_t len) {
  if (!c->be->caches_values && ch)
    bk_value_cache_put(&c->values, bleak_gatt_characteristic_value_handle(ch), data, len);
  subscription *s = bk_sub_find(c, ch);
  if (!s || s->stopping || c->freeing || c->free_requested) {
    BK_DEBUG(LOG_MOD, "%s: value for an unsubscribed characteristic dropped", c->address);
    return;
  }
  c->callback_depth++;
  s->cb(c, ch, data, len, s->user_data);
  c->callback_depth--;
}

/* ---- connection ---- */

int bleak_client_connect_async(bleak_client *c, bleak_done_fn cb, void *user) {
  int r = bk_client_usable(c);
  if (r < 0)
    return r;
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "connect: NULL argument");
  if (c->state != BK_CONN_DISCONNECTED)
    return bk_fail(BLEAK_ERR_ALREADY, "%s: already %s", c->address,
                   c->state == BK_CONN_CONNECTED ? "connected" : bk_conn_state_name(c->state));
  bk_op *op = bk_op_new_for(c, BK_OP_CONNECT, NULL, NULL, cb, NULL, user);
  /* The search's and the retries' timer, made now: no allocation later. */
  if (op && bleak_loop_add_timer(c->loop, 0, bk_connect_step, op, &op->step) < 0) {
    bk_op_free(op);
    op = NULL;
  }
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  bleak_source_stop_timer(op->step);
  /* A new connection: the last one's services go now. */
  bk_client_drop_services(c);
  c->found_name[0] = '\0';
  bk_client_set_state(c, BK_CONN_CONNECTING);
  int id = bk_op_start(c, op, c->opts.timeout_ms);
  if (id < 0) /* no memory for the timeout: nothing was started */
    bk_client_set_state(c, BK_CONN_DISCONNECTED);
  return id;
}

int bleak_client_disconnect_async(bleak_client *c, bleak_done_fn cb, void *user) {
  int r = bk_client_usable(c);
  if (r < 0)
    return r;
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "disconnect: NULL argument");
  bk_op *op = bk_op_new_for(c, BK_OP_DISCONNECT, NULL, NULL, cb, NULL, user);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  int id = op->id;
  if (connecting(c->state)) {
    /* Abort the connect attempt: it completes with CANCELED, and taking
     * the attempt back takes down whatever link it had. */
    for (bk_qnode *n = bk_queue_head(&c->pending); n; n = bk_qnode_next(n)) {
      bk_op *p = BK_QUEUE_ENTRY(n, bk_op, node);
      if (p->kind == BK_OP_CONNECT) {
        bleak_client_cancel(c, p->id);
        break;
      }
    }
  }
  if (c->state == BK_CONN_DISCONNECTED) {
    bk_queue_push(&c->pending, &op->node);
    bk_op_record(op, 0);
    return id;
  }
  bk_client_set_state(c, BK_CONN_DISCONNECTING);
  return bk_op_start(c, op, 0);
}

bool bleak_client_is_connected(const bleak_client *c) {
  return c && c->state == BK_CONN_CONNECTED;
}

void bleak_client_set_disconnected_callback(bleak_client *c, bleak_disconnected_fn cb,
                                            void *user) {
  if (!c)
    return;
  c->disconnected_cb = cb;
  c->disconnected_user_data = cb ? user : NULL;
}

/* ---- properties ---- */

const char *bleak_client_address(const bleak_client *c) { return c ? c->address : NULL; }

const char *bleak_client_name(const bleak_client *c) {
  if (!c)
    return NULL;
  const char *n = c->be->device_name ? c->be->device_name(c) : NULL;
  if (!n && c->found_name[0])
    n = c->found_name;
  return n ? n : c->address;
}

int bleak_client_mtu_size(const bleak_client *c) {
  if (!c)
    return BLEAK_ERR_INVALID_ARG;
  return c->be->mtu ? c->be->mtu(c) : 23;
}

const char *bleak_client_backend_id(const bleak_client *c) { return c ? c->be->name : NULL; }

bleak_loop *bleak_client_loop(const bleak_client *c) { return c ? c->loop : NULL; }

int bleak_client_pairing_reply(bleak_client *c, bool accept, uint32_t passkey) {
  if (!c)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "client is NULL");
  if (!c->be->pairing_reply)
    return bk_fail(BLEAK_ERR_STATE, "no pairing request is pending");
  return c->be->pairing_reply(c, accept, passkey);
}
