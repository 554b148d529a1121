/* SPDX-License-Identifier: MIT */
/* The bluez client's queue of writes with response: see write_queue.h. */
#include "backend/bluez/write_queue.h"

#include <stdio.h>

bool bz_wq_admit(bz_wq *q, bz_op *s, const char *path, const char *iface) {
  if (!q->inflight && bk_queue_empty(&q->waiting)) {
    q->inflight = s;
    return true;
  }
  s->iface = iface;
  snprintf(s->path, sizeof s->path, "%s", path);
  bk_queue_push(&q->waiting, &s->wq_node);
  return false;
}

void bz_wq_finished(bz_wq *q) { q->inflight = NULL; }

bz_op *bz_wq_pop(bz_wq *q) {
  if (q->inflight)
    return NULL;
  q->inflight = BK_QUEUE_ENTRY(bk_queue_pop(&q->waiting), bz_op, wq_node);
  return q->inflight;
}

bool bz_wq_remove(bz_wq *q, bz_op *s) {
  if (!bk_qnode_linked(&s->wq_node))
    return false;
  bk_queue_remove(&q->waiting, &s->wq_node);
  return true;
}

void bz_wq_clear(bz_wq *q) {
  while (bk_queue_pop(&q->waiting))
    ;
  q->inflight = NULL;
}
