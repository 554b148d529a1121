/* SPDX-License-Identifier: MIT */
/*
 * Connect's two jobs that both backends share: find the device first when
 * the backend does not know it (a scanner of the backend's kind, filtered
 * by address, waiting a moment for the scan response's name), and try
 * again after a failure the backend calls transient, with backoff, while
 * the connect's one timeout leaves room.
 *
 * Everything here that calls the backend runs from the connect op's step
 * timer, so a backend's report (bk_connect_search, a failure) never comes
 * back into it from inside.
 */
#include <stdio.h>
#include <string.h>

#include "core/client_priv.h"
#include "core/internal.h"
#include "core/scanner_backend.h"

#define LOG_MOD "connect"

/* The search gives up this long before the connect's own timeout, so that
 * the error says what happened: the device was not found. */
#define NOT_FOUND_MARGIN_MS 100
/* Backoff between attempts: 100 ms, doubling, at most 1 s; an attempt is
 * only made when this much is left of the timeout after the wait. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 1000
#define RETRY_ROOM_MS 100

typedef enum step {
  STEP_NONE,
  STEP_SEARCH,    /* start the scanner */
  STEP_NOT_FOUND, /* the search's deadline */
  STEP_FOUND,     /* seen (and the name heard, or waited for): link */
  STEP_RETRY,     /* start the backend again */
} step;

/* The op's step timer carries what to do next in the search state. */
static step next_step(const bleak_client *c) { return (step)c->find.next; }

static void arm(bk_op *op, step what, uint64_t ms) {
  op->client->find.next = (int)what;
  (void)bleak_source_set_timer(op->step, ms); /* never fails: made with the op */
}

int bk_connect_begin(bleak_client *c, bk_op *op) {
  op->attempts++;
  if (c->be->op_state_size)
    memset(bk_op_state(op), 0, c->be->op_state_size);
  return c->be->start(c, op);
}

void bk_connect_search(bk_op *op) {
  bleak_client *c = op->client;
  if (op->finished || op->kind != BK_OP_CONNECT || c->find.scanner ||
      next_step(c) == STEP_SEARCH)
    return;
  if (!c->be->scanner) {
    bk_fail(BLEAK_ERR_DEVICE_NOT_FOUND, "%s: unknown to the backend, which cannot scan",
            c->address);
    bk_op_record(op, BLEAK_ERR_DEVICE_NOT_FOUND);
    return;
  }
  bk_client_set_state(c, BK_CONN_FINDING);
  arm(op, STEP_SEARCH, 0);
}

void bk_connect_stop_search(bleak_client *c) {
  if (c->find.scanner) {
    bleak_scanner_free(c->find.scanner);
    c->find.scanner = NULL;
  }
  c->find.seen = false;
  c->find.next = STEP_NONE;
}

static bk_op *connect_op(bleak_client *c) {
  for (bk_qnode *n = bk_queue_head(&c->pending); n; n = bk_qnode_next(n)) {
    bk_op *op = BK_QUEUE_ENTRY(n, bk_op, node);
    if (op->kind == BK_OP_CONNECT)
      return op;
  }
  return NULL;
}

/* From the scanner (perhaps inside its backend's handler): note, and let
 * the step timer act. */
static void on_detect(bleak_scanner *s, const bleak_device *dev, const bleak_adv_data *adv,
                      void *user) {
  (void)s;
  bleak_client *c = user;
  bk_op *op = connect_op(c);
  if (!op || strcmp(bleak_device_address(dev), c->address) != 0)
    return;
  if (adv->local_name)
    snprintf(c->found_name, sizeof c->found_name, "%s", adv->local_name);
  if (next_step(c) == STEP_FOUND)
    return;
  if (c->found_name[0]) {
    arm(op, STEP_FOUND, 0);
  } else if (!c->find.seen) {
    /* Seen without a name: the scan response usually follows. */
    c->find.seen = true;
    arm(op, STEP_FOUND, BK_SCAN_RESPONSE_WAIT_MS);
  }
}

static void on_search_started(bleak_scanner *s, int status, void *user) {
  (void)s;
  bleak_client *c = user;
  bk_op *op = connect_op(c);
  if (status < 0 && op && !op->finished)
    bk_op_record(op, status);
}

static void start_search(bleak_client *c, bk_op *op) {
  bleak_scanner_options so;
  bleak_scanner_options_init(&so);
  so.loop = c->loop;
  so.adapter = c->opts.adapter;
  so.backend = c->opts.backend;
  so.hci_transport = c->opts.hci_transport;
  so.scanning_mode = BLEAK_SCAN_ACTIVE; /* for the name in the scan response */
  so.detection_callback = on_detect;
  so.user_data = c;
  int r = bk_scanner_new_with_backend(&so, c->be->scanner, &c->find.scanner);
  if (r == 0)
    r = bleak_scanner_start_async(c->find.scanner, on_search_started, c);
  if (r < 0) {
    bk_op_record(op, r);
    return;
  }
  BK_DEBUG(LOG_MOD, "%s: not known yet: scanning for it", c->address);
  uint64_t left = bk_op_time_left_ms(op);
  arm(op, STEP_NOT_FOUND, left > NOT_FOUND_MARGIN_MS ? left - NOT_FOUND_MARGIN_MS : 0);
}

void bk_connect_step(bleak_source *src, void *user) {
  (void)src;
  bk_op *op = user;
  bleak_client *c = op->client;
  if (op->finished)
    return;
  step what = next_step(c);
  c->find.next = STEP_NONE;
  int r = 0;
  switch (what) {
  case STEP_NONE:
    return;
  case STEP_SEARCH:
    start_search(c, op);
    return;
  case STEP_NOT_FOUND:
    c->be->abort(c, op);
    bk_fail(BLEAK_ERR_DEVICE_NOT_FOUND, "device with address %s was not found", c->address);
    op->no_retry = true;
    bk_op_record(op, BLEAK_ERR_DEVICE_NOT_FOUND);
    return;
  case STEP_FOUND:
    BK_DEBUG(LOG_MOD, "%s: found%s%s", c->address, c->found_name[0] ? " as " : "",
             c->found_name);
    bk_connect_stop_search(c);
    bk_client_set_state(c, BK_CONN_CONNECTING);
    r = c->be->connect_found ? c->be->connect_found(c, op)
                             : bk_fail(BLEAK_ERR_NOT_SUPPORTED, "backend cannot link");
    break;
  case STEP_RETRY:
    bk_client_set_state(c, BK_CONN_CONNECTING);
    r = bk_connect_begin(c, op);
    break;
  }
  if (r < 0 && !op->finished)
    bk_op_record(op, r);
}

bool bk_connect_retry(bleak_client *c, bk_op *op, int status) {
  if (op->no_retry || c->opts.no_connect_retry || c->freeing || !c->be->transient ||
      !c->be->transient(status))
    return false;
  int shift = op->attempts > 1 ? op->attempts - 1 : 0;
  uint64_t wait = (uint64_t)RETRY_FIRST_MS << (shift > 4 ? 4 : shift);
  if (wait > RETRY_MAX_MS)
    wait = RETRY_MAX_MS;
  if (bk_op_time_left_ms(op) < wait + RETRY_ROOM_MS)
    return false;
  BK_INFO(LOG_MOD, "%s: attempt %d failed (%s%s%s): again in %llu ms", c->address,
          op->attempts, bleak_strerror(status), *bleak_error_detail() ? ": " : "",
          bleak_error_detail(), (unsigned long long)wait);
  /* A backend that reports a connect's failure is idle again (backend.h):
   * nothing to abort, and nothing here calls into it before the timer. */
  bk_client_set_state(c, BK_CONN_CONNECTING);
  arm(op, STEP_RETRY, wait);
  return true;
}
