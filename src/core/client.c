/* SPDX-License-Identifier: MIT */
/*
 * The backend-neutral client: options, state, subscriptions, and the life
 * cycle of every operation (ids, exactly-once completion, cancel, timeouts,
 * failing what is pending on disconnect). Backends only start operations and
 * report results (src/core/backend.h).
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/client.h"
#include "core/backend.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define LOG_MOD "client"
#define DEFAULT_TIMEOUT_MS 10000

typedef enum client_state {
  ST_DISCONNECTED,
  ST_CONNECTING,
  ST_CONNECTED,
  ST_DISCONNECTING,
} client_state;

typedef struct subscription {
  const bleak_gatt_characteristic *ch;
  bleak_notify_fn cb;
  void *user_data;
  bool active;   /* start_notify succeeded */
  bool stopping; /* stop_notify called: no more values */
  struct subscription *next;
} subscription;

struct bleak_client {
  bleak_loop *loop;
  bleak_client_options opts; /* strings and arrays below are owned copies */
  char *adapter;
  char *hci_transport;
  bleak_uuid *services_filter;
  char address[18];
  const bk_client_backend *be;
  void *be_state;
  client_state state;
  bleak_gatt_services *services;
  /* Collections replaced while connected (Service Changed): kept until
   * the link goes, so that pointers the user holds stay valid. */
  bleak_gatt_services **retired;
  size_t n_retired;
  bk_op *ops;
  int last_id;
  subscription *subs;
  bleak_disconnected_fn disconnected_cb;
  void *disconnected_user_data;
};

/* ---- helpers ---- */

static void drop_services(bleak_client *c) {
  bleak_gatt_services_unref(c->services);
  c->services = NULL;
  for (size_t i = 0; i < c->n_retired; i++)
    bleak_gatt_services_unref(c->retired[i]);
  free(c->retired);
  c->retired = NULL;
  c->n_retired = 0;
}


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

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

void *bk_client_backend_state(const bleak_client *c) { return c->be_state; }
const bleak_client_options *bk_client_options(const bleak_client *c) {
  return &c->opts;
}
const char *bk_client_address(const bleak_client *c) { return c->address; }

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
  if ((o->adapter && !c->adapter) || (o->hci_transport && !c->hci_transport))
    return BLEAK_ERR_NO_MEMORY;
  if (o->n_services) {
    if (!o->services)
      return bk_fail(BLEAK_ERR_INVALID_ARG, "n_services > 0 but services is NULL");
    c->services_filter = malloc(o->n_services * sizeof *c->services_filter);
    if (!c->services_filter)
      return BLEAK_ERR_NO_MEMORY;
    memcpy(c->services_filter, o->services,
           o->n_services * sizeof *c->services_filter);
  }
  c->opts.adapter = c->adapter;
  c->opts.hci_transport = c->hci_transport;
  c->opts.services = c->services_filter;
  c->disconnected_cb = o->disconnected_callback;
  c->disconnected_user_data = o->disconnected_user_data;
  return 0;
}

static void client_release(bleak_client *c) {
  free(c->adapter);
  free(c->hci_transport);
  free(c->services_filter);
  free(c);
}

int bk_client_new_with_backend(const char *address,
                               const bleak_client_options *opts,
                               const bk_client_backend *backend,
                               bleak_client **out) {
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
  if (bk_normalize_address(address, c->address) < 0) {
    client_release(c);
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "not a Bluetooth address: \"%.40s\" (want AA:BB:CC:DD:EE:FF)",
                   address);
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
  const bk_client_backend *be =
      bk_client_backend_for(opts ? opts->backend : BLEAK_BACKEND_AUTO);
  if (!be)
    return BLEAK_ERR_NO_BACKEND;
  return bk_client_new_with_backend(address, opts, be, out);
}

/* ---- the operation life cycle ---- */

static void op_free(bk_op *op) {
  bleak_source_free(op->timer);
  free(op->data);
  free(op->result);
  free(op);
}

static void op_unlink(bleak_client *c, bk_op *op) {
  for (bk_op **p = &c->ops; *p; p = &(*p)->next) {
    if (*p == op) {
      *p = op->next;
      op->next = NULL;
      return;
    }
  }
}

static void subscription_remove(bleak_client *c, const bleak_gatt_characteristic *ch) {
  for (subscription **p = &c->subs; *p; p = &(*p)->next) {
    if ((*p)->ch == ch) {
      subscription *s = *p;
      *p = s->next;
      free(s);
      return;
    }
  }
}

static subscription *subscription_find(bleak_client *c,
                                       const bleak_gatt_characteristic *ch) {
  for (subscription *s = c->subs; s; s = s->next)
    if (s->ch == ch)
      return s;
  return NULL;
}

/* State changes that follow from an operation's result. */
static void apply_result(bleak_client *c, bk_op *op, int status) {
  switch (op->kind) {
  case BK_OP_CONNECT:
    if (status == 0) {
      c->state = ST_CONNECTED;
    } else if (c->state == ST_CONNECTING) {
      c->state = ST_DISCONNECTED;
      drop_services(c);
    }
    break;
  case BK_OP_START_NOTIFY: {
    subscription *s = subscription_find(c, op->ch);
    if (s && status == 0 && !s->stopping)
      s->active = true;
    else if (s && status < 0 && !s->active)
      subscription_remove(c, op->ch);
    break;
  }
  case BK_OP_STOP_NOTIFY:
    subscription_remove(c, op->ch);
    break;
  case BK_OP_DISCONNECT:
    /* The backend could not take the link down (BlueZ did not answer, say):
     * as far as we know it is still up, so the client is connected again,
     * and the caller may retry, or free it. Stuck in "disconnecting", it
     * would refuse every later connect. A link that is down shows later
     * through bk_client_disconnected(). */
    if (status < 0 && c->state == ST_DISCONNECTING)
      c->state = c->services ? ST_CONNECTED : ST_DISCONNECTED;
    break;
  default:
    break;
  }
}

/* Unlink, update state, call the user's callback once, free. */
static void op_complete_now(bk_op *op, int status, const uint8_t *data,
                            size_t len) {
  bleak_client *c = op->client;
  op_unlink(c, op);
  apply_result(c, op, status);
  if (status < 0)
    BK_DEBUG(LOG_MOD, "op %d (kind %d) failed: %s%s%s", op->id, (int)op->kind,
             bleak_strerror(status), *bleak_error_detail() ? ": " : "",
             bleak_error_detail());
  if (op->read_cb) {
    if (status < 0) {
      data = NULL;
      len = 0;
    }
    op->read_cb(c, status, data, len, op->user_data);
  } else if (op->done_cb) {
    op->done_cb(c, status, op->user_data);
  }
  op_free(op);
}

static void deferred_completion(bleak_source *src, void *user) {
  (void)src;
  bk_op *op = user;
  op_complete_now(op, op->status, op->result, op->result_len);
}

/* Record the result and complete from the loop: used when a result comes
 * while the user's call is still on the stack. */
static void op_finish_deferred(bk_op *op, int status, const uint8_t *data,
                               size_t len) {
  op->finished = true;
  op->status = status;
  if (status == 0 && data && len) {
    op->result = malloc(len);
    if (op->result) {
      memcpy(op->result, data, len);
      op->result_len = len;
    } else {
      op->status = BLEAK_ERR_NO_MEMORY;
    }
  }
  bleak_source_free(op->timer);
  op->timer = NULL;
  if (bleak_loop_add_timer(op->client->loop, 0, deferred_completion, op,
                           &op->timer) < 0) {
    /* Out of memory for a timer: completing now is the only way left. */
    op_complete_now(op, op->status, op->result, op->result_len);
  }
}

void bk_op_done_read(bk_op *op, int status, const uint8_t *data, size_t len) {
  if (!op || op->finished) {
    BK_ERROR(LOG_MOD, "backend completed an operation twice: ignored");
    return;
  }
  if (op->starting)
    op_finish_deferred(op, status, data, len);
  else
    op_complete_now(op, status, data, len);
}

void bk_op_done(bk_op *op, int status) { bk_op_done_read(op, status, NULL, 0); }

static void op_timeout(bleak_source *src, void *user) {
  (void)src;
  bk_op *op = user;
  bleak_client *c = op->client;
  c->be->abort(c, op);
  bk_fail(BLEAK_ERR_TIMEOUT, "no answer within %d ms", c->opts.timeout_ms);
  op_complete_now(op, BLEAK_ERR_TIMEOUT, NULL, 0);
}

/* The backend's per-op state follows the op in the same allocation. */
#define OP_STATE_OFFSET                                                            \
  ((sizeof(bk_op) + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) *          \
   _Alignof(max_align_t))

void *bk_op_state(bk_op *op) {
  return op && op->client->be->op_state_size ? (char *)op + OP_STATE_OFFSET : NULL;
}

static bk_op *op_new(bleak_client *c, bk_op_kind kind) {
  bk_op *op = calloc(1, OP_STATE_OFFSET + c->be->op_state_size);
  if (!op)
    return NULL;
  op->client = c;
  op->kind = kind;
  c->last_id = c->last_id == INT_MAX ? 1 : c->last_id + 1;
  op->id = c->last_id;
  return op;
}

/* Link and start @p op. Returns its id: from here on the op completes
 * exactly once, also when the backend refuses to start it. */
static int op_start(bleak_client *c, bk_op *op, int timeout_ms) {
  op->next = c->ops;
  c->ops = op;
  if (timeout_ms > 0 &&
      bleak_loop_add_timer(c->loop, (uint64_t)timeout_ms, op_timeout, op,
                           &op->timer) < 0) {
    op_unlink(c, op);
    op_free(op);
    return BLEAK_ERR_NO_MEMORY;
  }
  int id = op->id;
  op->starting = true;
  int r = c->be->start(c, op);
  op->starting = false;
  if (r < 0 && !op->finished)
    op_finish_deferred(op, r, NULL, 0);
  return id;
}

static bk_op *op_find(bleak_client *c, int id) {
  for (bk_op *op = c->ops; op; op = op->next)
    if (op->id == id)
      return op;
  return NULL;
}

int bleak_client_cancel(bleak_client *c, int op_id) {
  if (!c || op_id <= 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_client_cancel: bad argument");
  bk_op *op = op_find(c, op_id);
  if (!op || op->finished)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "operation %d is not pending", op_id);
  c->be->abort(c, op);
  if (op->kind == BK_OP_CONNECT && c->state == ST_CONNECTING)
    c->state = ST_DISCONNECTED;
  op_finish_deferred(op, BLEAK_ERR_CANCELED, NULL, 0);
  return 0;
}

/* Complete every pending op (but those of @p keep_kind) with @p status,
 * now. The list is detached first: callbacks may start new operations. */
static void fail_pending(bleak_client *c, int status, int keep_kind) {
  bk_op *list = c->ops, *keep = NULL;
  c->ops = NULL;
  while (list) {
    bk_op *op = list;
    list = op->next;
    op->next = NULL;
    if ((int)op->kind == keep_kind && !op->finished) {
      op->next = keep;
      keep = op;
      continue;
    }
    /* Put it back so op_complete_now() can unlink it. */
    op->next = c->ops;
    c->ops = op;
    if (!op->finished)
      c->be->abort(c, op);
    bk_fail(status, "the link is down");
    op_complete_now(op, status, NULL, 0);
  }
  while (keep) {
    bk_op *op = keep;
    keep = op->next;
    op->next = c->ops;
    c->ops = op;
  }
}

static void drop_subscriptions(bleak_client *c) {
  while (c->subs) {
    subscription *s = c->subs;
    c->subs = s->next;
    free(s);
  }
}

void bk_client_disconnected(bleak_client *c, int reason) {
  client_state was = c->state;
  c->state = ST_DISCONNECTED;
  BK_INFO(LOG_MOD, "%s: disconnected (%s)", c->address,
          reason ? bleak_strerror(reason) : "local");
  drop_subscriptions(c);
  /* The backend itself gone (bluetoothd, the controller's transport):
   * pending operations say so; a link that ended says DISCONNECTED. */
  fail_pending(c,
               reason == BLEAK_ERR_IO || reason == BLEAK_ERR_NO_BACKEND ? reason
                                                                        : BLEAK_ERR_DISCONNECTED,
               BK_OP_DISCONNECT);
  if ((was == ST_CONNECTED || was == ST_DISCONNECTING) && c->disconnected_cb)
    c->disconnected_cb(c, c->disconnected_user_data);
  /* Now the disconnect operations, if any, succeed (deferred when one is
   * still being started: its caller is on the stack). */
  for (bk_op *op = c->ops, *next; op; op = next) {
    next = op->next;
    if (op->kind != BK_OP_DISCONNECT || op->finished)
      continue;
    c->be->abort(c, op);
    if (op->starting) {
      op_finish_deferred(op, 0, NULL, 0);
    } else {
      op_complete_now(op, 0, NULL, 0);
      next = c->ops; /* the callback may have changed the list */
    }
  }
  if (c->state == ST_DISCONNECTED)
    drop_services(c);
}

void bk_client_notify(bleak_client *c, const bleak_gatt_characteristic *ch,
                      const uint8_t *data, size_t len) {
  subscription *s = subscription_find(c, ch);
  if (!s || s->stopping) {
    BK_DEBUG(LOG_MOD, "%s: value for an unsubscribed characteristic dropped",
             c->address);
    return;
  }
  s->cb(c, ch, data, len, s->user_data);
}

void bk_client_set_services(bleak_client *c, bleak_gatt_services *services) {
  if (services && c->opts.n_services)
    bk_gatt_services_filter(services, c->services_filter, c->opts.n_services);
  bleak_gatt_services_unref(c->services);
  c->services = services;
}

/* The characteristic of @p s with @p value_handle and @p uuid, or NULL. */
static const bleak_gatt_characteristic *same_char(const bleak_gatt_services *s,
                                                  const bleak_gatt_characteristic *old) {
  uint16_t vh = bleak_gatt_characteristic_value_handle(old);
  for (size_t i = 0; i < bleak_gatt_services_count(s); i++) {
    const bleak_gatt_service *svc = bleak_gatt_services_at(s, i);
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(svc); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(svc, j);
      if (bleak_gatt_characteristic_value_handle(ch) == vh &&
          bleak_uuid_equal(bleak_gatt_characteristic_uuid(ch),
                           bleak_gatt_characteristic_uuid(old)))
        return ch;
    }
  }
  return NULL;
}

int bk_client_replace_services(bleak_client *c, bleak_gatt_services *services) {
  if (c->state != ST_CONNECTED || !c->services) {
    bleak_gatt_services_unref(services);
    return BLEAK_ERR_STATE;
  }
  bleak_gatt_services **r = realloc(c->retired, (c->n_retired + 1) * sizeof *r);
  if (!r) {
    bleak_gatt_services_unref(services);
    return BLEAK_ERR_NO_MEMORY;
  }
  c->retired = r;
  if (c->opts.n_services)
    bk_gatt_services_filter(services, c->services_filter, c->opts.n_services);
  /* Subscriptions follow their characteristic, or end with it. */
  for (subscription **p = &c->subs; *p;) {
    const bleak_gatt_characteristic *now = same_char(services, (*p)->ch);
    if (now) {
      (*p)->ch = now;
      p = &(*p)->next;
    } else {
      subscription *gone = *p;
      *p = gone->next;
      BK_INFO(LOG_MOD, "%s: a subscribed characteristic is gone from the database",
              c->address);
      free(gone);
    }
  }
  c->retired[c->n_retired++] = c->services;
  c->services = services;
  BK_INFO(LOG_MOD, "%s: services changed: %zu services now", c->address,
          bleak_gatt_services_count(services));
  return 0;
}

void bleak_client_free(bleak_client *c) {
  if (!c)
    return;
  drop_subscriptions(c);
  fail_pending(c, BLEAK_ERR_DISCONNECTED, -1);
  c->be->destroy(c, c->be_state);
  drop_services(c);
  client_release(c);
}

/* ---- the blocking driver ---- */

typedef struct sync_wait {
  bool done;
  int status;
  uint8_t *buf;
  size_t cap;
  size_t *len;
} sync_wait;

static void sync_done(bleak_client *c, int status, void *user) {
  (void)c;
  sync_wait *w = user;
  w->status = status;
  w->done = true;
}

static void sync_read_done(bleak_client *c, int status, const uint8_t *data,
                           size_t len, void *user) {
  (void)c;
  sync_wait *w = user;
  w->done = true;
  w->status = status;
  if (status < 0)
    return;
  if (w->len)
    *w->len = len;
  if (len > w->cap) {
    w->status = bk_fail(BLEAK_ERR_BUFFER_TOO_SMALL,
                        "value of %zu bytes, buffer of %zu", len, w->cap);
    return;
  }
  if (len)
    memcpy(w->buf, data, len);
}

static int blocking_check(bleak_client *c) {
  if (!c)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "client is NULL");
  if (bleak_loop_in_callback(c->loop))
    return bk_fail(BLEAK_ERR_STATE,
                   "blocking call from inside a loop callback: use the "
                   "_async form there");
  return 0;
}

/* Run the loop until the operation @p id (just started) completes. */
static int sync_run(bleak_client *c, int id, sync_wait *w) {
  if (id < 0)
    return id;
  int r = bleak_loop_run_until(c->loop, &w->done, -1);
  if (r < 0 && !w->done) {
    /* The loop itself failed: complete the op now, so that nothing points
     * at this stack frame any more. */
    bk_op *op = op_find(c, id);
    if (op) {
      if (!op->finished)
        c->be->abort(c, op);
      op_complete_now(op, r, NULL, 0);
    }
    return r;
  }
  return w->status;
}

/* ---- connection ---- */

int bleak_client_connect_async(bleak_client *c, bleak_done_fn cb, void *user) {
  if (!c || !cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "connect: NULL argument");
  if (c->state != ST_DISCONNECTED)
    return bk_fail(BLEAK_ERR_ALREADY, "%s: already %s", c->address,
                   c->state == ST_CONNECTED ? "connected" : "busy");
  bk_op *op = op_new(c, BK_OP_CONNECT);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  op->done_cb = cb;
  op->user_data = user;
  c->state = ST_CONNECTING;
  return op_start(c, op, c->opts.timeout_ms);
}

int bleak_client_connect(bleak_client *c) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c, bleak_client_connect_async(c, sync_done, &w), &w);
}

static void done_immediately(bleak_client *c, bk_op *op, int status) {
  (void)c;
  op->starting = true; /* defer the callback: the caller is on the stack */
  op_finish_deferred(op, status, NULL, 0);
  op->starting = false;
}

int bleak_client_disconnect_async(bleak_client *c, bleak_done_fn cb, void *user) {
  if (!c || !cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "disconnect: NULL argument");
  bk_op *op = op_new(c, BK_OP_DISCONNECT);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  op->done_cb = cb;
  op->user_data = user;
  if (c->state == ST_DISCONNECTED) {
    op->next = c->ops;
    c->ops = op;
    done_immediately(c, op, 0);
    return op->id;
  }
  if (c->state == ST_CONNECTING) {
    /* Abort the connect attempt first: it completes with CANCELED. */
    for (bk_op *p = c->ops; p; p = p->next)
      if (p->kind == BK_OP_CONNECT && !p->finished) {
        bleak_client_cancel(c, p->id);
        break;
      }
  }
  c->state = ST_DISCONNECTING;
  return op_start(c, op, 0);
}

int bleak_client_disconnect(bleak_client *c) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c, bleak_client_disconnect_async(c, sync_done, &w), &w);
}

bool bleak_client_is_connected(const bleak_client *c) {
  return c && c->state == ST_CONNECTED;
}

void bleak_client_set_disconnected_callback(bleak_client *c,
                                            bleak_disconnected_fn cb,
                                            void *user) {
  if (!c)
    return;
  c->disconnected_cb = cb;
  c->disconnected_user_data = cb ? user : NULL;
}

/* ---- properties ---- */

const char *bleak_client_address(const bleak_client *c) {
  return c ? c->address : NULL;
}

const char *bleak_client_name(const bleak_client *c) {
  if (!c)
    return NULL;
  const char *n = c->be->device_name ? c->be->device_name(c) : NULL;
  return n ? n : c->address;
}

int bleak_client_mtu_size(const bleak_client *c) {
  if (!c)
    return BLEAK_ERR_INVALID_ARG;
  return c->be->mtu ? c->be->mtu(c) : 23;
}

const char *bleak_client_backend_id(const bleak_client *c) {
  return c ? c->be->name : NULL;
}

bleak_loop *bleak_client_loop(const bleak_client *c) { return c ? c->loop : NULL; }

bleak_gatt_services *bleak_client_services(const bleak_client *c) {
  return c && c->state == ST_CONNECTED ? c->services : NULL;
}

int bleak_client_get_services(bleak_client *c, bleak_gatt_services **out) {
  if (out)
    *out = NULL;
  if (!c || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "get_services: NULL argument");
  if (c->state != ST_CONNECTED || !c->services)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "%s: not connected", c->address);
  *out = c->services;
  return 0;
}

static int need_services(const bleak_client *c) {
  if (!c)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "client is NULL");
  if (c->state != ST_CONNECTED || !c->services)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "%s: not connected", c->address);
  return 0;
}

int bleak_client_char_by_uuid(const bleak_client *c, const char *uuid,
                              const bleak_gatt_characteristic **out) {
  if (out)
    *out = NULL;
  int r = need_services(c);
  if (r < 0)
    return r;
  return bleak_gatt_services_find_characteristic_str(c->services, uuid, out);
}

int bleak_client_char_by_handle(const bleak_client *c, uint16_t handle,
                                const bleak_gatt_characteristic **out) {
  if (out)
    *out = NULL;
  int r = need_services(c);
  if (r < 0)
    return r;
  if (!out)
    return BLEAK_ERR_INVALID_ARG;
  *out = bleak_gatt_services_get_characteristic_by_handle(c->services, handle);
  return *out ? 0
              : bk_fail(BLEAK_ERR_NOT_FOUND, "no characteristic with handle 0x%04x",
                        handle);
}

/* ---- attribute operations ---- */

/* The characteristic must be one of the client's current services: a stale
 * pointer from before a reconnect is refused, not followed. */
/* A characteristic of a collection that Service Changed replaced: the
 * current one with the same handle and UUID, or NULL. */
static const bleak_gatt_characteristic *
from_retired(const bleak_client *c, const bleak_gatt_characteristic *ch) {
  uint16_t h = bleak_gatt_characteristic_handle(ch);
  for (size_t i = 0; i < c->n_retired; i++)
    if (bleak_gatt_services_get_characteristic_by_handle(c->retired[i], h) == ch) {
      const bleak_gatt_characteristic *now =
          bleak_gatt_services_get_characteristic_by_handle(c->services, h);
      if (now && bleak_uuid_equal(bleak_gatt_characteristic_uuid(now),
                                  bleak_gatt_characteristic_uuid(ch)))
        return now;
      return NULL;
    }
  return NULL;
}

/* Check @p *ch is this client's; one from before a Service Changed is
 * swapped for its current twin (same handle and UUID). */
static int check_char(const bleak_client *c, const bleak_gatt_characteristic **ch) {
  int r = need_services(c);
  if (r < 0)
    return r;
  if (!*ch)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "characteristic is NULL");
  if (bleak_gatt_services_get_characteristic_by_handle(
          c->services, bleak_gatt_characteristic_handle(*ch)) == *ch)
    return 0;
  const bleak_gatt_characteristic *now = from_retired(c, *ch);
  if (!now)
    return bk_fail(BLEAK_ERR_NOT_FOUND,
                   "characteristic is not among this client's services");
  *ch = now;
  return 0;
}

static int check_desc(const bleak_client *c, const bleak_gatt_descriptor **d) {
  int r = need_services(c);
  if (r < 0)
    return r;
  if (!*d)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "descriptor is NULL");
  uint16_t h = bleak_gatt_descriptor_handle(*d);
  if (bleak_gatt_services_get_descriptor_by_handle(c->services, h) == *d)
    return 0;
  for (size_t i = 0; i < c->n_retired; i++)
    if (bleak_gatt_services_get_descriptor_by_handle(c->retired[i], h) == *d) {
      const bleak_gatt_descriptor *now = bleak_gatt_services_get_descriptor_by_handle(c->services, h);
      if (now && bleak_uuid_equal(bleak_gatt_descriptor_uuid(now), bleak_gatt_descriptor_uuid(*d))) {
        *d = now;
        return 0;
      }
      break;
    }
  return bk_fail(BLEAK_ERR_NOT_FOUND, "descriptor is not among this client's services");
}

static int start_read(bleak_client *c, bk_op_kind kind,
                      const bleak_gatt_characteristic *ch,
                      const bleak_gatt_descriptor *d, bleak_read_fn cb,
                      void *user) {
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "read: callback is NULL");
  bk_op *op = op_new(c, kind);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  op->ch = ch;
  op->desc = d;
  op->read_cb = cb;
  op->user_data = user;
  return op_start(c, op, 0);
}

int bleak_client_read_gatt_char_async(bleak_client *c,
                                      const bleak_gatt_characteristic *ch,
                                      bleak_read_fn cb, void *user) {
  int r = check_char(c, &ch);
  return r < 0 ? r : start_read(c, BK_OP_READ_CHAR, ch, NULL, cb, user);
}

/* The blocking read of a characteristic, or of a descriptor when
 * @p is_desc. */
static int blocking_read(bleak_client *c, bool is_desc,
                         const bleak_gatt_characteristic *ch,
                         const bleak_gatt_descriptor *d, uint8_t *buf,
                         size_t cap, size_t *len) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  if (!buf && cap)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "read: buf is NULL");
  sync_wait w = {.buf = buf, .cap = cap, .len = len};
  int id = is_desc ? bleak_client_read_gatt_descriptor_async(c, d, sync_read_done, &w)
                   : bleak_client_read_gatt_char_async(c, ch, sync_read_done, &w);
  return sync_run(c, id, &w);
}

int bleak_client_read_gatt_char(bleak_client *c,
                                const bleak_gatt_characteristic *ch,
                                uint8_t *buf, size_t cap, size_t *len) {
  return blocking_read(c, false, ch, NULL, buf, cap, len);
}

static int start_write(bleak_client *c, bk_op_kind kind,
                       const bleak_gatt_characteristic *ch,
                       const bleak_gatt_descriptor *d, const uint8_t *data,
                       size_t len, bool with_response, bleak_done_fn cb,
                       void *user) {
  if (!cb || (!data && len))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "write: NULL argument");
  if (len > BLEAK_MAX_ATTR_VALUE)
    return bk_fail(BLEAK_ERR_TOO_LONG, "value of %zu bytes: at most %d", len,
                   BLEAK_MAX_ATTR_VALUE);
  bk_op *op = op_new(c, kind);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  if (len) {
    op->data = malloc(len);
    if (!op->data) {
      free(op);
      return BLEAK_ERR_NO_MEMORY;
    }
    memcpy(op->data, data, len);
  }
  op->len = len;
  op->ch = ch;
  op->desc = d;
  op->with_response = with_response;
  op->done_cb = cb;
  op->user_data = user;
  return op_start(c, op, 0);
}

int bleak_client_write_gatt_char_async(bleak_client *c,
                                       const bleak_gatt_characteristic *ch,
                                       const uint8_t *data, size_t len,
                                       bleak_write_mode mode, bleak_done_fn cb,
                                       void *user) {
  int r = check_char(c, &ch);
  if (r < 0)
    return r;
  uint32_t props = bleak_gatt_characteristic_properties(ch);
  bool with_response;
  switch (mode) {
  case BLEAK_WRITE_AUTO:
    /* Bleak: response = "write" in properties. */
    with_response = (props & BLEAK_GATT_PROP_WRITE) ||
                    !(props & BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE);
    break;
  case BLEAK_WRITE_WITH_RESPONSE:
    with_response = true;
    break;
  case BLEAK_WRITE_WITHOUT_RESPONSE:
    with_response = false;
    break;
  default:
    return bk_fail(BLEAK_ERR_INVALID_ARG, "unknown write mode %d", (int)mode);
  }
  /* A Write Command to a characteristic that does not take one would be
   * dropped by the peer without a word: refuse it here. (A Write Request
   * the peer does not allow comes back as an ATT error, which says why.) */
  if (!with_response && !(props & BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE))
    return bk_fail(BLEAK_ERR_NOT_SUPPORTED,
                   "characteristic 0x%04x does not take writes without response",
                   bleak_gatt_characteristic_handle(ch));
  if (!with_response) {
    size_t max = bleak_gatt_characteristic_max_write_without_response_size(ch);
    if (len > max)
      return bk_fail(BLEAK_ERR_TOO_LONG,
                     "write without response of %zu bytes: at most %zu "
                     "(max_write_without_response_size)",
                     len, max);
  }
  return start_write(c, BK_OP_WRITE_CHAR, ch, NULL, data, len, with_response,
                     cb, user);
}

int bleak_client_write_gatt_char(bleak_client *c,
                                 const bleak_gatt_characteristic *ch,
                                 const uint8_t *data, size_t len,
                                 bleak_write_mode mode) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c,
                  bleak_client_write_gatt_char_async(c, ch, data, len, mode,
                                                     sync_done, &w),
                  &w);
}

int bleak_client_start_notify_async(bleak_client *c,
                                    const bleak_gatt_characteristic *ch,
                                    bleak_notify_fn cb, void *notify_user,
                                    bleak_done_fn done, void *done_user) {
  int r = check_char(c, &ch);
  if (r < 0)
    return r;
  if (!cb || !done)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "start_notify: NULL callback");
  uint32_t props = bleak_gatt_characteristic_properties(ch);
  if (!(props & (BLEAK_GATT_PROP_NOTIFY | BLEAK_GATT_PROP_INDICATE)))
    return bk_fail(BLEAK_ERR_NOT_SUPPORTED,
                   "characteristic 0x%04x has neither notify nor indicate",
                   bleak_gatt_characteristic_handle(ch));
  if (subscription_find(c, ch))
    return bk_fail(BLEAK_ERR_ALREADY,
                   "characteristic 0x%04x is subscribed already",
                   bleak_gatt_characteristic_handle(ch));
  subscription *s = calloc(1, sizeof *s);
  bk_op *op = op_new(c, BK_OP_START_NOTIFY);
  if (!s || !op) {
    free(s);
    free(op);
    return BLEAK_ERR_NO_MEMORY;
  }
  s->ch = ch;
  s->cb = cb;
  s->user_data = notify_user;
  s->next = c->subs;
  c->subs = s;
  op->ch = ch;
  op->indicate = !(props & BLEAK_GATT_PROP_NOTIFY);
  op->done_cb = done;
  op->user_data = done_user;
  return op_start(c, op, 0);
}

int bleak_client_start_notify(bleak_client *c,
                              const bleak_gatt_characteristic *ch,
                              bleak_notify_fn cb, void *user) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c,
                  bleak_client_start_notify_async(c, ch, cb, user, sync_done, &w),
                  &w);
}

int bleak_client_stop_notify_async(bleak_client *c,
                                   const bleak_gatt_characteristic *ch,
                                   bleak_done_fn cb, void *user) {
  int r = check_char(c, &ch);
  if (r < 0)
    return r;
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "stop_notify: NULL callback");
  subscription *s = subscription_find(c, ch);
  if (!s || s->stopping)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "characteristic 0x%04x is not subscribed",
                   bleak_gatt_characteristic_handle(ch));
  bk_op *op = op_new(c, BK_OP_STOP_NOTIFY);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  s->stopping = true; /* no value callback from now on */
  op->ch = ch;
  op->done_cb = cb;
  op->user_data = user;
  return op_start(c, op, 0);
}

int bleak_client_stop_notify(bleak_client *c,
                             const bleak_gatt_characteristic *ch) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c, bleak_client_stop_notify_async(c, ch, sync_done, &w), &w);
}

int bleak_client_read_gatt_descriptor_async(bleak_client *c,
                                            const bleak_gatt_descriptor *d,
                                            bleak_read_fn cb, void *user) {
  int r = check_desc(c, &d);
  return r < 0 ? r : start_read(c, BK_OP_READ_DESC, NULL, d, cb, user);
}

int bleak_client_read_gatt_descriptor(bleak_client *c,
                                      const bleak_gatt_descriptor *d,
                                      uint8_t *buf, size_t cap, size_t *len) {
  return blocking_read(c, true, NULL, d, buf, cap, len);
}

int bleak_client_write_gatt_descriptor_async(bleak_client *c,
                                             const bleak_gatt_descriptor *d,
                                             const uint8_t *data, size_t len,
                                             bleak_done_fn cb, void *user) {
  int r = check_desc(c, &d);
  return r < 0 ? r
               : start_write(c, BK_OP_WRITE_DESC, NULL, d, data, len, true, cb,
                             user);
}

int bleak_client_write_gatt_descriptor(bleak_client *c,
                                       const bleak_gatt_descriptor *d,
                                       const uint8_t *data, size_t len) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c,
                  bleak_client_write_gatt_descriptor_async(c, d, data, len,
                                                           sync_done, &w),
                  &w);
}

/* ---- pairing ---- */

static int start_simple(bleak_client *c, bk_op_kind kind, bleak_done_fn cb,
                        void *user) {
  if (!c || !cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "NULL argument");
  if (c->state != ST_CONNECTED && kind == BK_OP_PAIR)
    return bk_fail(BLEAK_ERR_NOT_CONNECTED, "%s: not connected", c->address);
  bk_op *op = op_new(c, kind);
  if (!op)
    return BLEAK_ERR_NO_MEMORY;
  op->done_cb = cb;
  op->user_data = user;
  return op_start(c, op, 0);
}

int bleak_client_pair_async(bleak_client *c, bleak_done_fn cb, void *user) {
  return start_simple(c, BK_OP_PAIR, cb, user);
}

int bleak_client_pair(bleak_client *c) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c, bleak_client_pair_async(c, sync_done, &w), &w);
}

int bleak_client_unpair_async(bleak_client *c, bleak_done_fn cb, void *user) {
  return start_simple(c, BK_OP_UNPAIR, cb, user);
}

int bleak_client_unpair(bleak_client *c) {
  int r = blocking_check(c);
  if (r < 0)
    return r;
  sync_wait w = {0};
  return sync_run(c, bleak_client_unpair_async(c, sync_done, &w), &w);
}

int bleak_client_pairing_reply(bleak_client *c, bool accept, uint32_t passkey) {
  if (!c)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "client is NULL");
  if (!c->be->pairing_reply)
    return bk_fail(BLEAK_ERR_STATE, "no pairing request is pending");
  return c->be->pairing_reply(c, accept, passkey);
}
