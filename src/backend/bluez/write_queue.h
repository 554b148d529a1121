/* SPDX-License-Identifier: MIT */
/* One write with response at a time (src/backend/bluez/write_queue.c).
 *
 * BlueZ refuses a WriteValue on an attribute that has one in flight
 * (org.bluez.Error.InProgress), and ATT carries one request at a time on a
 * bearer anyway. So a bluez client sends its writes with response (to
 * characteristics and descriptors) one after the other, in the order they
 * were asked for, and no caller sees "busy" for a second write. */
#ifndef BLEAK_BLUEZ_WRITE_QUEUE_H
#define BLEAK_BLUEZ_WRITE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/backend.h"

typedef struct bz_wq_node bz_wq_node;

typedef struct bz_wq {
  bk_op *inflight; /* the write whose WriteValue is on its way, or NULL */
  bz_wq_node *head; /* waiting writes, oldest first */
} bz_wq;

/* May @p op start now? 1: yes, it is in flight from now on; 0: queued
 * (the object path and interface are copied); BLEAK_ERR_NO_MEMORY. */
int bz_wq_admit(bz_wq *q, bk_op *op, const char *path, const char *iface);

/* The in-flight write is done (or dropped): nothing is in flight. Then,
 * when a write waits, it is taken off the queue and returned with its path
 * (into @p path, @p cap bytes) and interface; the caller starts it. */
void bz_wq_finished(bz_wq *q);
bk_op *bz_wq_pop(bz_wq *q, char *path, size_t cap, const char **iface);

/* Forget @p op if it waits in the queue; true when it did. */
bool bz_wq_remove(bz_wq *q, bk_op *op);

/* Free every waiting node (their ops are the core's). */
void bz_wq_clear(bz_wq *q);

#endif
