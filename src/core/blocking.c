/* SPDX-License-Identifier: MIT */
/*
 * The blocking calls: one driver for all. Each starts its async twin with
 * a completion that fills a waiter on this stack frame, then runs the
 * client's loop until the waiter is done (as curl's easy API drives multi).
 * When the loop itself fails, the op is forgotten by the backend and its
 * completion detached from this frame before the call returns.
 */
#include <string.h>

#include "core/client_priv.h"
#include "core/internal.h"

typedef struct waiter {
  bool done;
  int status;
  uint8_t *buf;
  size_t cap;
  size_t *len;
} waiter;

/* What a blocking call asks for: its async twin and that one's arguments. */
typedef struct call {
  bk_op_kind kind;
  const bleak_gatt_characteristic *ch;
  const bleak_gatt_descriptor *desc;
  const uint8_t *data;
  size_t len;
  bleak_write_mode mode;
  bleak_notify_fn notify;
  void *notify_user;
  const bleak_read_options *read_opts;
  const bleak_notify_options *notify_opts;
} call;

static void on_done(bleak_client *c, int status, void *user) {
  (void)c;
  waiter *w = user;
  w->status = status;
  w->done = true;
}

static void on_read(bleak_client *c, int status, const uint8_t *data, size_t len, void *user) {
  (void)c;
  waiter *w = user;
  w->done = true;
  w->status = status;
  if (status < 0)
    return;
  if (w->len)
    *w->len = len;
  if (len > w->cap) {
    w->status =
        bk_fail(BLEAK_ERR_BUFFER_TOO_SMALL, "value of %zu bytes, buffer of %zu", len, w->cap);
    return;
  }
  if (len)
    memcpy(w->buf, data, len);
}

static int start(bleak_client *c, const call *a, waiter *w) {
  switch (a->kind) {
  case BK_OP_CONNECT:
    return bleak_client_connect_async(c, on_done, w);
  case BK_OP_DISCONNECT:
    return bleak_client_disconnect_async(c, on_done, w);
  case BK_OP_READ_CHAR:
    return bleak_client_read_gatt_char_opts_async(c, a->ch, a->read_opts, on_read, w);
  case BK_OP_WRITE_CHAR:
    return bleak_client_write_gatt_char_async(c, a->ch, a->data, a->len, a->mode, on_done, w);
  case BK_OP_START_NOTIFY:
    return bleak_client_start_notify_opts_async(c, a->ch, a->notify_opts, a->notify,
                                                a->notify_user, on_done, w);
  case BK_OP_STOP_NOTIFY:
    return bleak_client_stop_notify_async(c, a->ch, on_done, w);
  case BK_OP_READ_DESC:
    return bleak_client_read_gatt_descriptor_opts_async(c, a->desc, a->read_opts, on_read, w);
  case BK_OP_WRITE_DESC:
    return bleak_client_write_gatt_descriptor_async(c, a->desc, a->data, a->len, on_done, w);
  case BK_OP_PAIR:
    return bleak_client_pair_async(c, on_done, w);
  case BK_OP_UNPAIR:
    return bleak_client_unpair_async(c, on_done, w);
  }
  return bk_fail(BLEAK_ERR_INVALID_ARG, "unknown operation %d", (int)a->kind);
}

static int run(bleak_client *c, const call *a, uint8_t *buf, size_t cap, size_t *len) {
  if (!c)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "client is NULL");
  if (bleak_loop_in_callback(c->loop))
    return bk_fail(BLEAK_ERR_STATE, "blocking call from inside a loop callback: use the "
                                    "_async form there");
  if (!buf && cap)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "read: buf is NULL");
  waiter w = {.buf = buf, .cap = cap, .len = len};
  int id = start(c, a, &w);
  if (id < 0)
    return id;
  int r = bleak_loop_run_until(c->loop, &w.done, -1);
  if (r < 0 && !w.done) {
    /* The loop itself failed: nothing may point at this frame once we
     * return. A pending op is forgotten; a recorded one is detached. */
    bk_op *op = bk_op_find(c, id);
    if (op) {
      c->be->abort(c, op);
      op->no_retry = true;
      bk_op_record(op, r);
    }
    for (bk_qnode *n = bk_queue_head(&c->done); n; n = bk_qnode_next(n)) {
      bk_op *d = BK_QUEUE_ENTRY(n, bk_op, node);
      if (!bk_client_is_event(c, d) && d->id == id)
        d->done_cb = NULL, d->read_cb = NULL;
    }
    return r;
  }
  return w.status;
}

int bleak_client_connect(bleak_client *c) {
  return run(c, &(call){.kind = BK_OP_CONNECT}, NULL, 0, NULL);
}

int bleak_client_disconnect(bleak_client *c) {
  return run(c, &(call){.kind = BK_OP_DISCONNECT}, NULL, 0, NULL);
}

int bleak_client_read_gatt_char_opts(bleak_client *c, const bleak_gatt_characteristic *ch,
                                     const bleak_read_options *opts, uint8_t *buf, size_t cap,
                                     size_t *len) {
  return run(c, &(call){.kind = BK_OP_READ_CHAR, .ch = ch, .read_opts = opts}, buf, cap, len);
}

int bleak_client_read_gatt_char(bleak_client *c, const bleak_gatt_characteristic *ch,
                                uint8_t *buf, size_t cap, size_t *len) {
  return bleak_client_read_gatt_char_opts(c, ch, NULL, buf, cap, len);
}

int bleak_client_write_gatt_char(bleak_client *c, const bleak_gatt_characteristic *ch,
                                 const uint8_t *data, size_t len, bleak_write_mode mode) {
  return run(c, &(call){.kind = BK_OP_WRITE_CHAR, .ch = ch, .data = data, .len = len, .mode = mode},
             NULL, 0, NULL);
}

int bleak_client_start_notify_opts(bleak_client *c, const bleak_gatt_characteristic *ch,
                                   const bleak_notify_options *opts, bleak_notify_fn cb,
                                   void *user) {
  return run(c,
             &(call){.kind = BK_OP_START_NOTIFY,
                     .ch = ch,
                     .notify = cb,
                     .notify_user = user,
                     .notify_opts = opts},
             NULL, 0, NULL);
}

int bleak_client_start_notify(bleak_client *c, const bleak_gatt_characteristic *ch,
                              bleak_notify_fn cb, void *user) {
  return bleak_client_start_notify_opts(c, ch, NULL, cb, user);
}

int bleak_client_stop_notify(bleak_client *c, const bleak_gatt_characteristic *ch) {
  return run(c, &(call){.kind = BK_OP_STOP_NOTIFY, .ch = ch}, NULL, 0, NULL);
}

int bleak_client_read_gatt_descriptor_opts(bleak_client *c, const bleak_gatt_descriptor *d,
                                           const bleak_read_options *opts, uint8_t *buf,
                                           size_t cap, size_t *len) {
  return run(c, &(call){.kind = BK_OP_READ_DESC, .desc = d, .read_opts = opts}, buf, cap, len);
}

int bleak_client_read_gatt_descriptor(bleak_client *c, const bleak_gatt_descriptor *d,
                                      uint8_t *buf, size_t cap, size_t *len) {
  return bleak_client_read_gatt_descriptor_opts(c, d, NULL, buf, cap, len);
}

int bleak_client_write_gatt_descriptor(bleak_client *c, const bleak_gatt_descriptor *d,
                                       const uint8_t *data, size_t len) {
  return run(c, &(call){.kind = BK_OP_WRITE_DESC, .desc = d, .data = data, .len = len}, NULL, 0,
             NULL);
}

int bleak_client_pair(bleak_client *c) {
  return run(c, &(call){.kind = BK_OP_PAIR}, NULL, 0, NULL);
}

int bleak_client_unpair(bleak_client *c) {
  return run(c, &(call){.kind = BK_OP_UNPAIR}, NULL, 0, NULL);
}
