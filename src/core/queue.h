/* SPDX-License-Identifier: MIT */
/*
 * One intrusive FIFO for every queue of the library: ops waiting for a
 * completion, writes waiting for a socket or a credit, ATT requests waiting
 * for the bearer, D-Bus calls in flight.
 *
 * The element embeds a bk_qnode; the queue never allocates, so pushing can
 * never fail (what the completion path needs). Doubly linked: remove() of
 * any element is O(1), which cancel and abort need. A node knows whether
 * it is queued (bk_qnode_linked), so removing twice is harmless.
 *
 *   typedef struct item { int v; bk_qnode node; } item;
 *   bk_queue q; bk_queue_init(&q);
 *   bk_queue_push(&q, &it->node);
 *   for (bk_qnode *n = bk_queue_head(&q); n; n = bk_qnode_next(n)) ...
 *   item *first = BK_QUEUE_ENTRY(bk_queue_pop(&q), item, node);
 *
 * Not thread-safe (nothing in the library is: one loop per thread).
 */
#ifndef BLEAK_CORE_QUEUE_H
#define BLEAK_CORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bk_qnode {
  struct bk_qnode *prev, *next; /* both NULL while not queued */
  bool linked;
} bk_qnode;

typedef struct bk_queue {
  bk_qnode *head, *tail;
  size_t len;
} bk_queue;

static inline void *bk_queue_entry_at(bk_qnode *n, size_t offset) {
  return n ? (char *)n - offset : NULL;
}

/* The element that embeds @p node (NULL for NULL; @p node is evaluated
 * once, so BK_QUEUE_ENTRY(bk_queue_pop(q), ...) is safe). */
#define BK_QUEUE_ENTRY(node, type, member)                                         \
  ((type *)bk_queue_entry_at((node), offsetof(type, member)))

static inline void bk_queue_init(bk_queue *q) {
  q->head = q->tail = NULL;
  q->len = 0;
}

static inline bool bk_queue_empty(const bk_queue *q) { return q->head == NULL; }
static inline size_t bk_queue_len(const bk_queue *q) { return q->len; }
static inline bk_qnode *bk_queue_head(const bk_queue *q) { return q->head; }
static inline bool bk_qnode_linked(const bk_qnode *n) { return n->linked; }

/* The node after @p n, or NULL. */
static inline bk_qnode *bk_qnode_next(const bk_qnode *n) { return n->next; }

/* Append @p n (which must not be queued anywhere). */
static inline void bk_queue_push(bk_queue *q, bk_qnode *n) {
  n->next = NULL;
  n->prev = q->tail;
  if (q->tail)
    q->tail->next = n;
  else
    q->head = n;
  q->tail = n;
  n->linked = true;
  q->len++;
}

/* Take @p n out of @p q; a node that is not queued is left alone. The
 * caller must know @p n is in @p q when it is linked. */
static inline void bk_queue_remove(bk_queue *q, bk_qnode *n) {
  if (!n->linked)
    return;
  if (n->prev)
    n->prev->next = n->next;
  else
    q->head = n->next;
  if (n->next)
    n->next->prev = n->prev;
  else
    q->tail = n->prev;
  n->prev = n->next = NULL;
  n->linked = false;
  q->len--;
}

/* Take the oldest node off @p q, or NULL when it is empty. */
static inline bk_qnode *bk_queue_pop(bk_queue *q) {
  bk_qnode *n = q->head;
  if (n)
    bk_queue_remove(q, n);
  return n;
}

/* Move every node of @p from to the end of @p to, in order. */
static inline void bk_queue_splice(bk_queue *to, bk_queue *from) {
  if (!from->head)
    return;
  if (to->tail) {
    to->tail->next = from->head;
    from->head->prev = to->tail;
  } else {
    to->head = from->head;
  }
  to->tail = from->tail;
  to->len += from->len;
  bk_queue_init(from);
}

#endif /* BLEAK_CORE_QUEUE_H */
