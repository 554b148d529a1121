/* SPDX-License-Identifier: MIT */
/* The bluez client's queue of writes with response: see write_queue.h. */
#include "backend/bluez/write_queue.h"

#include "bleak/error.h"

#include <stdio.h>
#include <stdlib.h>

struct bz_wq_node {
  bk_op *op;
  const char *iface; /* a static interface name */
  char path[192];
  bz_wq_node *next;
};

int bz_wq_admit(bz_wq *q, bk_op *op, const char *path, const char *iface) {
  if (!q->inflight && !q->head) {
    q->inflight = op;
    return 1;
  }
  bz_wq_node *n = calloc(1, sizeof *n);
  if (!n)
    return BLEAK_ERR_NO_MEMORY;
  n->op = op;
  n->iface = iface;
  snprintf(n->path, sizeof n->path, "%s", path);
  bz_wq_node **p = &q->head;
  while (*p)
    p = &(*p)->next;
  *p = n;
  return 0;
}

void bz_wq_finished(bz_wq *q) { q->inflight = NULL; }

bk_op *bz_wq_pop(bz_wq *q, char *path, size_t cap, const char **iface) {
  bz_wq_node *n = q->head;
  if (!n || q->inflight)
    return NULL;
  q->head = n->next;
  bk_op *op = n->op;
  snprintf(path, cap, "%s", n->path);
  *iface = n->iface;
  free(n);
  q->inflight = op;
  return op;
}

bool bz_wq_remove(bz_wq *q, bk_op *op) {
  for (bz_wq_node **p = &q->head; *p; p = &(*p)->next) {
    if ((*p)->op != op)
      continue;
    bz_wq_node *n = *p;
    *p = n->next;
    free(n);
    return true;
  }
  return false;
}

void bz_wq_clear(bz_wq *q) {
  while (q->head) {
    bz_wq_node *n = q->head;
    q->head = n->next;
    free(n);
  }
  q->inflight = NULL;
}
