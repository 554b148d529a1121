/* SPDX-License-Identifier: MIT */
/* One write with response at a time (src/backend/bluez/write_queue.c).
 *
 * BlueZ refuses a WriteValue on an attribute that has one in flight
 * (org.bluez.Error.InProgress), and ATT carries one request at a time on a
 * bearer anyway. So a bluez client sends its writes with response (to
 * characteristics and descriptors) one after the other, in the order they
 * were asked for, and no caller sees "busy" for a second write.
 *
 * The queue holds the ops' bluez state (bz_op, through bz_op.wq_node): it
 * never allocates and never looks at the bk_op. */
#ifndef BLEAK_BLUEZ_WRITE_QUEUE_H
#define BLEAK_BLUEZ_WRITE_QUEUE_H

#include <stdbool.h>

#include "backend/bluez/op.h"
#include "core/queue.h"

/* Zeroed, a write queue is empty. */
typedef struct bz_wq {
  bz_op *inflight;  /* the write whose WriteValue is on its way, or NULL */
  bk_queue waiting; /* bz_op.wq_node, oldest first */
} bz_wq;

/* May @p s start now? true: yes, it is in flight from now on; false: it
 * waits, with @p path and @p iface (a static string) kept in s->path and
 * s->iface for when its turn comes. */
bool bz_wq_admit(bz_wq *q, bz_op *s, const char *path, const char *iface);

/* The in-flight write is done (or dropped): nothing is in flight. */
void bz_wq_finished(bz_wq *q);

/* When nothing is in flight and a write waits: take the oldest off the
 * queue and return it, in flight from now on (its path and interface in
 * s->path, s->iface); the caller starts it. Else NULL. */
bz_op *bz_wq_pop(bz_wq *q);

/* Forget @p s if it waits in the queue; true when it did. */
bool bz_wq_remove(bz_wq *q, bz_op *s);

/* Forget every waiting write and the one in flight (their ops are the
 * core's). */
void bz_wq_clear(bz_wq *q);

#endif
