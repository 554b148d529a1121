/* SPDX-License-Identifier: MIT */
/*
 * One advertisement monitor: ObjectManager root /org/bleak/monitorN, the
 * monitor itself at /org/bleak/monitorN/0 (BlueZ finds it with
 * GetManagedObjects on the root after RegisterMonitor). See adv_monitor.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/adv_monitor.h"
#include "backend/bluez/call.h"
#include "core/internal.h"

#define LOG_MOD "bluez"
#define MONITOR_IFACE "org.bluez.AdvertisementMonitor1"
#define MANAGER_IFACE "org.bluez.AdvertisementMonitorManager1"
/* BlueZ activates a monitor once the kernel took its patterns: a few
 * round trips, never seconds. */
#define ACTIVATE_TIMEOUT_MS 5000
#define MAX_PATTERNS 16
#define PATTERN_MAX 31 /* the data of one AD structure of a legacy advertisement */

struct bz_monitor {
  bk_bus *bus;
  char root[40];
  char path[48];
  char adapter_path[64];
  bz_monitor_fns fns;
  void *user;
  bz_call_list calls;
  sd_bus_slot *manager_slot, *vtable_slot;
  bleak_source *timer;
  bool registered; /* RegisterMonitor answered: UnregisterMonitor at free */
  bool settled;    /* fns.active has fired */
  size_t n;
  struct {
    uint8_t start, type, len;
    uint8_t data[PATTERN_MAX];
  } p[MAX_PATTERNS];
};

static void settle(bz_monitor *m, int status) {
  if (m->settled)
    return;
  m->settled = true;
  bleak_source_stop_timer(m->timer);
  m->fns.active(m->user, status);
}

static int get_type(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *user, sd_bus_error *e) {
  (void)bus, (void)path, (void)iface, (void)prop, (void)user, (void)e;
  return sd_bus_message_append(reply, "s", "or_patterns");
}

static int get_patterns(sd_bus *bus, const char *path, const char *iface, const char *prop,
                        sd_bus_message *reply, void *user, sd_bus_error *e) {
  (void)bus, (void)path, (void)iface, (void)prop, (void)e;
  const bz_monitor *m = user;
  int r = sd_bus_message_open_container(reply, 'a', "(yyay)");
  for (size_t i = 0; r >= 0 && i < m->n; i++) {
    r = sd_bus_message_open_container(reply, 'r', "yyay");
    if (r >= 0)
      r = sd_bus_message_append(reply, "yy", m->p[i].start, m->p[i].type);
    if (r >= 0)
      r = sd_bus_message_append_array(reply, 'y', m->p[i].data, m->p[i].len);
    if (r >= 0)
      r = sd_bus_message_close_container(reply);
  }
  return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int m_release(sd_bus_message *msg, void *user, sd_bus_error *e) {
  (void)e;
  bz_monitor *m = user;
  BK_WARN(LOG_MOD, "BlueZ released the advertisement monitor %s", m->path);
  settle(m, bk_fail(BLEAK_ERR_BACKEND, "BlueZ released the advertisement monitor before "
                                       "activating it (the kernel refused its patterns?)"));
  return sd_bus_reply_method_return(msg, NULL);
}

static int m_activate(sd_bus_message *msg, void *user, sd_bus_error *e) {
  (void)e;
  bz_monitor *m = user;
  BK_DEBUG(LOG_MOD, "advertisement monitor %s active", m->path);
  settle(m, 0);
  return sd_bus_reply_method_return(msg, NULL);
}

static int device_event(sd_bus_message *msg, bz_monitor *m, bool found) {
  const char *dev = NULL;
  if (sd_bus_message_read(msg, "o", &dev) >= 0 && dev)
    m->fns.device(m->user, dev, found);
  return sd_bus_reply_method_return(msg, NULL);
}

static int m_found(sd_bus_message *msg, void *user, sd_bus_error *e) {
  (void)e;
  return device_event(msg, user, true);
}

static int m_lost(sd_bus_message *msg, void *user, sd_bus_error *e) {
  (void)e;
  return device_event(msg, user, false);
}

static const sd_bus_vtable monitor_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Release", "", "", m_release, 0),
    SD_BUS_METHOD("Activate", "", "", m_activate, 0),
    SD_BUS_METHOD("DeviceFound", "o", "", m_found, 0),
    SD_BUS_METHOD("DeviceLost", "o", "", m_lost, 0),
    SD_BUS_PROPERTY("Type", "s", get_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Patterns", "a(yyay)", get_patterns, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END};

static void on_registered(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_monitor *m = owner;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  if (!e) {
    m->registered = true;
    return; /* Activate (or Release) follows */
  }
  if (sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownMethod") ||
      sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownInterface") ||
      sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject"))
    settle(m, bk_fail(BLEAK_ERR_NOT_SUPPORTED,
                      "passive scanning: BlueZ offers no %s on %s (bluetoothd runs without "
                      "--experimental, or the kernel cannot monitor advertisements)",
                      MANAGER_IFACE, m->adapter_path));
  else
    settle(m, bk_bus_error(e, "RegisterMonitor"));
}

static void on_timeout(bleak_source *src, void *user) {
  (void)src;
  settle(user, bk_fail(BLEAK_ERR_TIMEOUT, "BlueZ did not activate the advertisement monitor "
                                          "within %d ms",
                       ACTIVATE_TIMEOUT_MS));
}

int bz_monitor_new(bk_bus *bus, const char *adapter_path, const bleak_or_pattern *patterns,
                   size_t n_patterns, const bz_monitor_fns *fns, void *user, bz_monitor **out) {
  static unsigned counter;
  *out = NULL;
  if (n_patterns == 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "passive scanning on bluez needs or_patterns (BlueZ's advertisement "
                   "monitor matches advertisements against them)");
  if (n_patterns > MAX_PATTERNS)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "at most %d or_patterns", MAX_PATTERNS);
  if (strlen(adapter_path) >= sizeof ((bz_monitor *)0)->adapter_path)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "adapter path too long");
  bz_monitor *m = calloc(1, sizeof *m);
  if (!m)
    return BLEAK_ERR_NO_MEMORY;
  m->bus = bus;
  m->fns = *fns;
  m->user = user;
  snprintf(m->adapter_path, sizeof m->adapter_path, "%s", adapter_path);
  for (size_t i = 0; i < n_patterns; i++) {
    const bleak_or_pattern *p = &patterns[i];
    /* The core checked these (scan_filter.c); a second look costs nothing. */
    if (!p->data || p->len == 0 || p->len > PATTERN_MAX || p->start_position + p->len > PATTERN_MAX) {
      free(m);
      return bk_fail(BLEAK_ERR_INVALID_ARG, "or_patterns[%zu] out of range", i);
    }
    m->p[i].start = p->start_position;
    m->p[i].type = p->ad_type;
    m->p[i].len = (uint8_t)p->len;
    memcpy(m->p[i].data, p->data, p->len);
  }
  m->n = n_patterns;
  snprintf(m->root, sizeof m->root, "/org/bleak/monitor%u", ++counter);
  snprintf(m->path, sizeof m->path, "%s/0", m->root);
  sd_bus *sd = bk_bus_sd(bus);
  sd_bus_message *call = NULL;
  int r = sd_bus_add_object_manager(sd, &m->manager_slot, m->root);
  if (r >= 0)
    r = sd_bus_add_object_vtable(sd, &m->vtable_slot, m->path, MONITOR_IFACE, monitor_vtable, m);
  if (r >= 0)
    r = bleak_loop_add_timer(bk_bus_loop(bus), ACTIVATE_TIMEOUT_MS, on_timeout, m, &m->timer) < 0
            ? -ENOMEM
            : 0;
  if (r >= 0)
    r = sd_bus_message_new_method_call(sd, &call, "org.bluez", m->adapter_path, MANAGER_IFACE,
                                       "RegisterMonitor");
  if (r >= 0)
    r = sd_bus_message_append(call, "o", m->root);
  if (r >= 0)
    r = bz_call_send(bus, &m->calls, call, 0, on_registered, m, NULL, NULL) < 0 ? -EIO : 0;
  sd_bus_message_unref(call);
  if (r < 0) {
    bz_monitor_free(m);
    return bk_fail(BLEAK_ERR_BACKEND, "cannot register an advertisement monitor: %s",
                   strerror(-r));
  }
  *out = m;
  return 0;
}

void bz_monitor_free(bz_monitor *m) {
  if (!m)
    return;
  bz_call_drop_all(&m->calls);
  if (m->registered) {
    /* No reply wanted: the scan is over whatever BlueZ says. */
    sd_bus_message *call = NULL;
    if (sd_bus_message_new_method_call(bk_bus_sd(m->bus), &call, "org.bluez", m->adapter_path,
                                       MANAGER_IFACE, "UnregisterMonitor") >= 0 &&
        sd_bus_message_append(call, "o", m->root) >= 0 &&
        sd_bus_message_set_expect_reply(call, 0) >= 0)
      sd_bus_send(bk_bus_sd(m->bus), call, NULL);
    sd_bus_message_unref(call);
    bk_bus_kick(m->bus);
  }
  sd_bus_slot_unref(m->vtable_slot);
  sd_bus_slot_unref(m->manager_slot);
  bleak_source_free(m->timer);
  free(m);
}
