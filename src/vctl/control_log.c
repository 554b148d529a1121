/* SPDX-License-Identifier: MIT */
/* The control hub and its log of received writes: see control_priv.h. One
 * log for every client, since a peripheral has one write observer. */
#include <stdlib.h>
#include <string.h>

#include "vctl/control_priv.h"
#include "vctl/json_hex.h"

static void on_write(void *ctx, uint16_t handle, const uint8_t *value, size_t len,
                     bool command) {
  vctl_log_slot *slot = ctx;
  vctl_control_hub *hub = slot->hub;
  vctl_logged_write *w = NULL;
  /* Full: the newest are counted, not kept (the client reads too slowly). */
  if (hub->n_log < VCTL_CONTROL_LOG_MAX && len <= UINT16_MAX)
    w = malloc(sizeof *w + len);
  if (!w) {
    hub->dropped++;
    return;
  }
  w->periph = slot->periph;
  w->handle = handle;
  w->command = command;
  w->len = (uint16_t)len;
  if (len)
    memcpy(w->value, value, len);
  hub->log[hub->n_log++] = w;
}

vctl_control_hub *vctl_control_hub_new(vctl_peripheral *const *peripherals, size_t n) {
  if (n && !peripherals)
    return NULL;
  vctl_control_hub *hub = calloc(1, sizeof *hub);
  if (!hub)
    return NULL;
  hub->periphs = calloc(n ? n : 1, sizeof *hub->periphs);
  hub->slots = calloc(n ? n : 1, sizeof *hub->slots);
  if (!hub->periphs || !hub->slots) {
    free(hub->periphs);
    free(hub->slots);
    free(hub);
    return NULL;
  }
  hub->n_periphs = n;
  for (size_t i = 0; i < n; i++) {
    hub->periphs[i] = peripherals[i];
    hub->slots[i] = (vctl_log_slot){hub, i};
    vctl_peripheral_observe_writes(peripherals[i], on_write, &hub->slots[i]);
  }
  return hub;
}

void vctl_control_hub_free(vctl_control_hub *hub) {
  if (!hub)
    return;
  for (size_t i = 0; i < hub->n_periphs; i++)
    vctl_peripheral_observe_writes(hub->periphs[i], NULL, NULL);
  for (size_t i = 0; i < hub->n_log; i++)
    free(hub->log[i]);
  free(hub->periphs);
  free(hub->slots);
  free(hub);
}

void vctl_control_hub_set_controller(vctl_control_hub *hub, vctl_controller *ctl) {
  if (hub)
    hub->ctl = ctl;
}

int vctl_control_log_take(vctl_control_hub *hub, json_t *result) {
  json_t *writes = json_array();
  if (!writes)
    return -1;
  for (size_t i = 0; i < hub->n_log; i++) {
    const vctl_logged_write *w = hub->log[i];
    json_t *e = json_pack("{s:I,s:I,s:o,s:b}", "peripheral", (json_int_t)w->periph, "handle",
                          (json_int_t)w->handle, "value_hex",
                          vctl_json_hex_string(w->value, w->len), "command", w->command);
    if (!e || json_array_append_new(writes, e)) {
      json_decref(writes);
      return -1;
    }
  }
  if (json_object_set_new(result, "writes", writes) ||
      json_object_set_new(result, "dropped", json_integer((json_int_t)hub->dropped)))
    return -1;
  for (size_t i = 0; i < hub->n_log; i++)
    free(hub->log[i]);
  hub->n_log = 0;
  hub->dropped = 0;
  return 0;
}
