/* SPDX-License-Identifier: MIT */
/* The bluez backend's state of one operation: the core allocates it, zeroed,
 * with every bk_op (bk_client_backend.op_state_size, bk_op_state()), so
 * queueing an op never allocates. */
#ifndef BLEAK_BLUEZ_OP_H
#define BLEAK_BLUEZ_OP_H

#include "backend/bluez/call.h"
#include "core/backend.h"
#include "core/queue.h"

/* Room for the longest object path the client makes (a descriptor's). */
#define BZ_OBJ_PATH_MAX 192

typedef struct bz_op {
  bk_op *op;       /* the op this is the state of (set by start) */
  bz_call *call;   /* its D-Bus call in flight, or NULL */
  /* A write without response waiting for its characteristic's
   * AcquireWrite socket (client.c, writer): */
  bk_qnode writer_node;
  /* A write with response waiting its turn (write_queue.h): */
  bk_qnode wq_node;
  const char *iface; /* a static interface name */
  char path[BZ_OBJ_PATH_MAX];
} bz_op;

#endif /* BLEAK_BLUEZ_OP_H */
