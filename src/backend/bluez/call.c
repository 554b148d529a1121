/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/call.h"
#include "core/internal.h"

struct bz_call {
  bz_call_list *list; /* NULL once dropped or answered */
  bz_reply_fn fn;
  void *owner;
  void *data;
  bk_qnode node; /* in list->calls */
};

static void unlink_call(bz_call *c) {
  if (!c->list)
    return;
  bk_queue_remove(&c->list->calls, &c->node);
  c->list = NULL;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret) {
  (void)ret;
  bz_call *c = userdata;
  if (!c->list)
    return 0; /* dropped */
  unlink_call(c);
  c->fn(c->owner, c->data, m);
  return 0;
}

static void on_destroy(void *userdata) { free(userdata); }

int bz_call_send(bk_bus *bus, bz_call_list *list, sd_bus_message *m,
                 uint64_t timeout_usec, bz_reply_fn fn, void *owner,
                 void *data, bz_call **out) {
  if (out)
    *out = NULL;
  bz_call *c = calloc(1, sizeof *c);
  if (!c)
    return BLEAK_ERR_NO_MEMORY;
  c->fn = fn;
  c->owner = owner;
  c->data = data;
  sd_bus_slot *slot = NULL;
  int r = sd_bus_call_async(bk_bus_sd(bus), &slot, m, on_reply, c, timeout_usec);
  if (r < 0) {
    free(c);
    return bk_fail(r == -ENOTCONN || r == -ECONNRESET ? BLEAK_ERR_NO_BACKEND
                                                       : BLEAK_ERR_BACKEND,
                   "D-Bus call %s.%s failed: %s",
                   sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
                   strerror(-r));
  }
  /* The slot lives as long as sd-bus needs it and frees the record. */
  sd_bus_slot_set_destroy_callback(slot, on_destroy);
  sd_bus_slot_set_floating(slot, 1);
  sd_bus_slot_unref(slot);
  c->list = list;
  bk_queue_push(&list->calls, &c->node);
  bk_bus_kick(bus);
  if (out)
    *out = c;
  return 0;
}

void bz_call_drop(bz_call *c) {
  if (c)
    unlink_call(c);
}

void bz_call_drop_all(bz_call_list *list) {
  bk_qnode *n;
  while ((n = bk_queue_head(&list->calls)) != NULL)
    unlink_call(BK_QUEUE_ENTRY(n, bz_call, node));
}
