/* SPDX-License-Identifier: MIT */
/* The bluez backend's state of one operation: the core allocates it, zeroed,
 * with every bk_op (bk_client_backend.op_state_size, bk_op_state()). */
#ifndef BLEAK_BLUEZ_OP_H
#define BLEAK_BLUEZ_OP_H

#include "backend/bluez/call.h"
#include "core/backend.h"

typedef struct bz_op {
  bz_call *call; /* the op's D-Bus call in flight, or NULL */
} bz_op;

#endif /* BLEAK_BLUEZ_OP_H */
