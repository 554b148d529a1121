/* SPDX-License-Identifier: MIT */
/*
 * Cancelable D-Bus method calls. A call's reply is delivered to a handler
 * unless the call was dropped first (its operation aborted, its owner
 * freed): then the reply is ignored. The call record is freed by sd-bus
 * when the reply has been processed or the bus goes away.
 */
#ifndef BLEAK_BLUEZ_CALL_H
#define BLEAK_BLUEZ_CALL_H

#include <systemd/sd-bus.h>

#include "backend/bluez/bus.h"
#include "core/queue.h"

typedef struct bz_call bz_call;

/* @p reply is the reply (method return or error). @p owner and @p data are
 * what the call was started with. */
typedef void (*bz_reply_fn)(void *owner, void *data, sd_bus_message *reply);

/* The calls an owner has in flight, to drop them all at once. Zeroed, it
 * is empty. */
typedef struct bz_call_list {
  bk_queue calls; /* bz_call.node */
} bz_call_list;

/*
 * Send @p m (a method call; the caller keeps its own reference) and deliver
 * the reply to @p fn(owner, data, reply). @p timeout_usec 0: sd-bus's
 * default (25 s). On success *out (if not NULL) names the call for
 * bz_call_drop(). Errors: the bleak error of sd-bus's failure.
 */
int bz_call_send(bk_bus *bus, bz_call_list *list, sd_bus_message *m,
                 uint64_t timeout_usec, bz_reply_fn fn, void *owner,
                 void *data, bz_call **out);

/* Ignore the reply of @p call (NULL-safe). */
void bz_call_drop(bz_call *call);

/* Drop every call of @p list. */
void bz_call_drop_all(bz_call_list *list);

#endif /* BLEAK_BLUEZ_CALL_H */
