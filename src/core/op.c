/* SPDX-License-Identifier: MIT */
/*
 * The life of an operation (see docs/DESIGN.md, "The life of an operation").
 *
 *   bk_op_new -> bk_op_start -> pending --bk_op_record--> done --drain--> freed
 *
 * An op is started by the user's async call and sits in the client's
 * pending queue until its result is recorded: by the backend
 * (bk_op_done*), by cancel, by its timeout, or by the link going down.
 * Recording moves it to the done queue and arms the client's drain, a 0 ms
 * timer made with the client; the drain, running from the loop, calls the
 * user back and frees the op. So a callback never runs inside the user's
 * call, nor inside a backend's or a protocol layer's handler, and recording
 * cannot fail: the op already has the room for its result, the queues are
 * intrusive, and re-arming a timer never allocates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/client_priv.h"
#include "core/internal.h"

#define LOG_MOD "client"

/* The op header, then the backend's state, then a read's result buffer;
 * each part aligned for any type. */
#define ALIGN_UP(n) (((n) + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t))
#define OP_STATE_OFFSET ALIGN_UP(sizeof(bk_op))

static bool is_read(bk_op_kind kind) {
  return kind == BK_OP_READ_CHAR || kind == BK_OP_READ_DESC;
}

void *bk_op_state(bk_op *op) {
  return op && op->client->be->op_state_size ? (char *)op + OP_STATE_OFFSET : NULL;
}

bk_op *bk_op_new(bleak_client *c, bk_op_kind kind) {
  size_t state = ALIGN_UP(c->be->op_state_size);
  size_t size = OP_STATE_OFFSET + state + (is_read(kind) ? BLEAK_MAX_ATTR_VALUE : 0);
  bk_op *op = calloc(1, size);
  if (!op)
    return NULL;
  op->client = c;
  op->kind = kind;
  if (is_read(kind))
    op->result = (uint8_t *)op + OP_STATE_OFFSET + state;
  c->last_id = c->last_id == INT32_MAX ? 1 : c->last_id + 1;
  op->id = c->last_id;
  return op;
}

bk_op *bk_op_new_for(bleak_client *c, bk_op_kind kind, const bleak_gatt_characteristic *ch,
                     const bleak_gatt_descriptor *desc, bleak_done_fn done, bleak_read_fn read,
                     void *user) {
  bk_op *op = bk_op_new(c, kind);
  if (op) {
    op->ch = ch;
    op->desc = desc;
    op->done_cb = done;
    op->read_cb = read;
    op->user_data = user;
  }
  return op;
}

void bk_op_free(bk_op *op) {
  bleak_source_free(op->timer);
  bleak_source_free(op->step);
  free(op->data);
  free(op);
}

uint64_t bk_op_time_left_ms(const bk_op *op) {
  if (!op->deadline_ms)
    return UINT64_MAX;
  uint64_t now = bleak_loop_now_ms(op->client->loop);
  return op->deadline_ms > now ? op->deadline_ms - now : 0;
}

void bk_client_arm_drain(bleak_client *c) {
  /* Never fails: the drain exists from bleak_client_new() on, and
   * re-arming a timer does not allocate. */
  if (!bleak_source_timer_armed(c->drain))
    (void)bleak_source_set_timer(c->drain, 0);
}

void bk_op_record(bk_op *op, int status) {
  bleak_client *c = op->client;
  if (op->finished) {
    BK_ERROR(LOG_MOD, "operation %d completed twice: ignored", op->id);
    return;
  }
  if (op->kind == BK_OP_CONNECT && status < 0 && bk_connect_retry(c, op, status))
    return;
  op->finished = true;
  op->status = status;
  if (op->timer)
    bleak_source_stop_timer(op->timer);
  if (op->step)
    bleak_source_stop_timer(op->step);
  if (status < 0)
    BK_DEBUG(LOG_MOD, "op %d (kind %d) failed: %s%s%s", op->id, (int)op->kind,
             bleak_strerror(status), *bleak_error_detail() ? ": " : "",
             bleak_error_detail());
  bk_queue_remove(&c->pending, &op->node);
  bk_client_apply_result(c, op, status);
  bk_queue_push(&c->done, &op->node);
  bk_client_arm_drain(c);
}

void bk_op_done_read(bk_op *op, int status, const uint8_t *data, size_t len) {
  if (!op) {
    BK_ERROR(LOG_MOD, "backend completed a NULL operation: ignored");
    return;
  }
  if (op->finished) {
    BK_ERROR(LOG_MOD, "operation %d completed twice: ignored", op->id);
    return;
  }
  if (status == 0 && op->result) {
    if (len > BLEAK_MAX_ATTR_VALUE || (len && !data)) {
      status = bk_fail(BLEAK_ERR_PROTOCOL, "a value of %zu bytes (at most %d)", len,
                       BLEAK_MAX_ATTR_VALUE);
    } else {
      if (len)
        memcpy(op->result, data, len);
      op->result_len = len;
      if (!op->client->be->caches_values)
        bk_value_cache_put(&op->client->values, bk_op_attr_handle(op), data, len);
    }
  }
  bk_op_record(op, status);
}

void bk_op_done(bk_op *op, int status) { bk_op_done_read(op, status, NULL, 0); }

static void op_timeout(bleak_source *src, void *user) {
  (void)src;
  bk_op *op = user;
  bleak_client *c = op->client;
  c->be->abort(c, op);
  bk_fail(BLEAK_ERR_TIMEOUT, "no answer within %d ms", c->opts.timeout_ms);
  op->no_retry = true;
  bk_op_record(op, BLEAK_ERR_TIMEOUT);
}

uint16_t bk_op_attr_handle(const bk_op *op) {
  if (op->desc)
    return bleak_gatt_descriptor_handle(op->desc);
  return op->ch ? bleak_gatt_characteristic_value_handle(op->ch) : 0;
}

int bk_op_start_cached(bleak_client *c, bk_op *op) {
  const uint8_t *data = NULL;
  size_t len = 0;
  if (!bk_value_cache_get(&c->values, bk_op_attr_handle(op), &data, &len)) {
    /* Nothing seen yet: the backend's own cache (bluez: BlueZ's Value),
     * else the peer. */
    return bk_op_start(c, op, 0);
  }
  bk_queue_push(&c->pending, &op->node);
  int id = op->id;
  bk_op_done_read(op, 0, data, len); /* delivered from the loop, as any */
  return id;
}

int bk_op_start(bleak_client *c, bk_op *op, int timeout_ms) {
  if (timeout_ms > 0) {
    if (bleak_loop_add_timer(c->loop, (uint64_t)timeout_ms, op_timeout, op, &op->timer) < 0) {
      bk_op_free(op);
      return BLEAK_ERR_NO_MEMORY;
    }
    op->deadline_ms = bleak_loop_now_ms(c->loop) + (uint64_t)timeout_ms;
  }
  bk_queue_push(&c->pending, &op->node);
  int id = op->id;
  int r = op->kind == BK_OP_CONNECT ? bk_connect_begin(c, op) : c->be->start(c, op);
  /* The op is not freed before the drain runs: reading it is safe. */
  if (r < 0 && !op->finished)
    bk_op_record(op, r);
  return id;
}

bk_op *bk_op_find(bleak_client *c, int id) {
  for (bk_qnode *n = bk_queue_head(&c->pending); n; n = bk_qnode_next(n)) {
    bk_op *op = BK_QUEUE_ENTRY(n, bk_op, node);
    if (op->id == id)
      return op;
  }
  return NULL;
}

int bleak_client_cancel(bleak_client *c, int op_id) {
  if (!c || op_id <= 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_client_cancel: bad argument");
  bk_op *op = bk_op_find(c, op_id);
  if (!op)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "operation %d is not pending", op_id);
  c->be->abort(c, op);
  op->no_retry = true;
  bk_op_record(op, BLEAK_ERR_CANCELED);
  return 0;
}

/* The oldest pending op not of @p keep_kind (-1: any), or NULL. */
static bk_op *first_pending(bleak_client *c, int keep_kind, bool only) {
  for (bk_qnode *n = bk_queue_head(&c->pending); n; n = bk_qnode_next(n)) {
    bk_op *op = BK_QUEUE_ENTRY(n, bk_op, node);
    if (only ? (int)op->kind == keep_kind : (int)op->kind != keep_kind)
      return op;
  }
  return NULL;
}

/* Abort and record every pending op that matches, one at a time from the
 * head: an abort may make the backend start or report another op (the
 * next queued write), so no iterator is kept across it. */
static void finish_pending(bleak_client *c, int status, int kind, bool only) {
  bk_op *op;
  while ((op = first_pending(c, kind, only))) {
    c->be->abort(c, op);
    if (op->finished)
      continue; /* the backend reported it meanwhile */
    if (status < 0)
      bk_fail(status, "the link is down");
    op->no_retry = true; /* the link's end is not retried */
    bk_op_record(op, status);
  }
}

void bk_op_fail_pending(bleak_client *c, int status, int keep_kind) {
  finish_pending(c, status, keep_kind, false);
}

void bk_op_succeed_pending(bleak_client *c, bk_op_kind kind) {
  finish_pending(c, 0, (int)kind, true);
}

/* Deliver one recorded op (or the disconnected event) to the user. */
static void deliver(bleak_client *c, bk_op *op) {
  if (op == &c->disconnected_event) {
    unsigned n = (unsigned)op->status;
    op->status = 0;
    while (n-- && c->disconnected_cb && !c->free_requested)
      c->disconnected_cb(c, c->disconnected_user_data);
    return;
  }
  if (op == &c->pairing_event) {
    const bleak_client_options *o = &c->opts;
    if (o->pairing_callback && !c->free_requested)
      o->pairing_callback(c, c->pairing_kind, c->pairing_passkey, o->pairing_user_data);
    return;
  }
  if (op->kind == BK_OP_CONNECT)
    bk_connect_stop_search(c);
  if (op->read_cb)
    op->read_cb(c, op->status, op->status < 0 ? NULL : op->result,
                op->status < 0 ? 0 : op->result_len, op->user_data);
  else if (op->done_cb)
    op->done_cb(c, op->status, op->user_data);
  bk_op_free(op);
}

/* Deliver what was recorded before this call; what the callbacks record
 * meanwhile waits for the next pass. Stops early when a callback frees
 * the client. */
static void deliver_batch(bleak_client *c) {
  bk_queue batch;
  bk_queue_init(&batch);
  bk_queue_splice(&batch, &c->done);
  c->callback_depth++;
  bk_qnode *n;
  while (!c->free_requested && (n = bk_queue_pop(&batch)))
    deliver(c, BK_QUEUE_ENTRY(n, bk_op, node));
  c->callback_depth--;
  /* What was not delivered goes back in front, in order. */
  bk_queue_splice(&batch, &c->done);
  bk_queue_splice(&c->done, &batch);
  /* Services of a link that is down go once its callbacks have run. */
  if (c->state == BK_CONN_DISCONNECTED && bk_queue_empty(&c->done))
    bk_client_drop_services(c);
}

void bk_op_deliver_all(bleak_client *c) {
  while (!bk_queue_empty(&c->done) && !c->free_requested)
    deliver_batch(c);
}

void bk_op_drain(bleak_source *src, void *user) {
  (void)src;
  bleak_client *c = user;
  deliver_batch(c);
  if (c->free_requested && c->callback_depth == 0) {
    bk_client_free_now(c);
    return;
  }
  if (!bk_queue_empty(&c->done))
    bk_client_arm_drain(c);
}
