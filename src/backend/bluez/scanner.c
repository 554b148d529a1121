/* SPDX-License-Identifier: MIT */
/*
 * The bluez scanner backend: Adapter1 discovery with an LE transport filter
 * (and the service UUIDs), or for a passive scan an advertisement monitor
 * with the or-patterns (adv_monitor.h); reports from InterfacesAdded and
 * PropertiesChanged of Device1 objects under the adapter. BlueZ merges
 * advertisement data per device; a PropertiesChanged carries only what
 * changed, which the core merges the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/adv_monitor.h"
#include "backend/bluez/bluez.h"
#include "backend/bluez/bus.h"
#include "backend/bluez/call.h"
#include "backend/bluez/objects.h"
#include "backend/bluez/props.h"
#include "core/internal.h"
#include "core/scanner_backend.h"

#define LOG_MOD "bluez"
#define BLUEZ "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define DEVICE_IFACE "org.bluez.Device1"
/* Bounds for what one report may carry: BlueZ merges data from many
 * advertisements, a hostile peer could make that large. */
#define MAX_ITEMS 16

/* Device object paths; bounded, a crowded place must not grow it without
 * end. */
typedef struct path_set {
  char (*p)[80];
  size_t n, cap;
} path_set;

typedef struct bz_scanner {
  bleak_scanner *s;
  bk_bus *bus;
  bz_call_list calls;
  char adapter_path[64];
  bool adapter_known; /* named in the options, or found */
  bz_objects *objs;   /* the bus's object tree (not ours) */
  bz_objects_wait objs_wait;
  sd_bus_slot *added_match;
  sd_bus_slot *changed_match;
  bool discovering;
  bz_monitor *monitor; /* a passive scan's (adv_monitor.h) */
  /* Devices whose whole Device1 state this scan has (see on_props_changed);
   * bounded, a crowded place must not grow it without end. */
  path_set seen;
  /* A passive scan's devices: those BlueZ's monitor named (DeviceFound),
   * the only ones it reports. */
  path_set matched;
} bz_scanner;

#define MAX_SEEN 1024

static bz_scanner *S(const bleak_scanner *s) { return bk_scanner_backend_state(s); }

/* Parsing one Device1 property dict into a report. */
typedef struct report_buf {
  bk_adv_report r;
  bleak_manufacturer_data mfr[MAX_ITEMS];
  bleak_service_data sd[MAX_ITEMS];
  bleak_uuid uuids[MAX_ITEMS];
} report_buf;

static void add_uuid(const char *str, void *user) {
  report_buf *b = user;
  if (b->r.n_service_uuids < MAX_ITEMS &&
      bleak_uuid_parse(str, &b->uuids[b->r.n_service_uuids]) == 0)
    b->r.n_service_uuids++;
}

/* a{qv} with ay values. */
static int read_mfr(sd_bus_message *m, report_buf *b) {
  int r = sd_bus_message_enter_container(m, 'v', "a{qv}");
  if (r <= 0)
    return r < 0 ? r : bz_var_skip(m);
  b->r.has_manufacturer_data = true;
  b->r.manufacturer_data = b->mfr;
  if ((r = sd_bus_message_enter_container(m, 'a', "{qv}")) < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "qv")) > 0) {
    uint16_t id;
    const void *data = NULL;
    size_t len = 0;
    if ((r = sd_bus_message_read(m, "q", &id)) < 0 || (r = bz_var_bytes(m, &data, &len)) < 0)
      return r;
    if (r > 0 && b->r.n_manufacturer_data < MAX_ITEMS)
      b->mfr[b->r.n_manufacturer_data++] = (bleak_manufacturer_data){id, data, len};
    if ((r = sd_bus_message_exit_container(m)) < 0)
      return r;
  }
  if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

/* a{sv} with ay values, keyed by UUID strings. */
static int read_sd(sd_bus_message *m, report_buf *b) {
  int r = sd_bus_message_enter_container(m, 'v', "a{sv}");
  if (r <= 0)
    return r < 0 ? r : bz_var_skip(m);
  b->r.has_service_data = true;
  b->r.service_data = b->sd;
  const char *key;
  if ((r = bz_dict_enter(m)) < 0)
    return r;
  while ((r = bz_dict_next(m, &key)) > 0) {
    const void *data = NULL;
    size_t len = 0;
    bleak_uuid u;
    if ((r = bz_var_bytes(m, &data, &len)) < 0)
      return r;
    if (r > 0 && b->r.n_service_data < MAX_ITEMS && bleak_uuid_parse(key, &u) == 0)
      b->sd[b->r.n_service_data++] = (bleak_service_data){u, data, len};
    if ((r = bz_dict_entry_end(m)) < 0)
      return r;
  }
  if (r < 0 || (r = bz_dict_exit(m)) < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

static int read_device(sd_bus_message *m, report_buf *b) {
  const char *name;
  int r = bz_dict_enter(m);
  while (r >= 0 && (r = bz_dict_next(m, &name)) > 0) {
    if (!strcmp(name, "Address"))
      r = bz_var_str(m, &b->r.address);
    else if (!strcmp(name, "Name"))
      r = bz_var_str(m, &b->r.name);
    else if (!strcmp(name, "RSSI"))
      b->r.has_rssi = (r = bz_var_i16(m, &b->r.rssi)) > 0;
    else if (!strcmp(name, "TxPower"))
      b->r.has_tx_power = (r = bz_var_i16(m, &b->r.tx_power)) > 0;
    else if (!strcmp(name, "UUIDs")) {
      b->r.has_service_uuids = true;
      b->r.service_uuids = b->uuids;
      r = bz_var_strv(m, add_uuid, b);
    } else if (!strcmp(name, "ManufacturerData"))
      r = read_mfr(m, b);
    else if (!strcmp(name, "ServiceData"))
      r = read_sd(m, b);
    else
      r = bz_var_skip(m);
    if (r >= 0)
      r = bz_dict_entry_end(m);
  }
  return r < 0 ? r : bz_dict_exit(m);
}

/* "<adapter>/dev_AA_BB_CC_DD_EE_FF" → "AA:BB:CC:DD:EE:FF". */
static bool address_from_path(const bz_scanner *z, const char *path, char out[18]) {
  size_t n = strlen(z->adapter_path);
  if (strncmp(path, z->adapter_path, n) || strncmp(path + n, "/dev_", 5) ||
      strlen(path + n + 5) != 17)
    return false;
  memcpy(out, path + n + 5, 17);
  out[17] = '\0';
  for (int i = 2; i < 17; i += 3)
    out[i] = ':';
  return true;
}

static long path_find(const path_set *set, const char *path) {
  for (size_t i = 0; i < set->n; i++)
    if (!strcmp(set->p[i], path))
      return (long)i;
  return -1;
}

/* Remember @p path; returns its index, or -1 when it was there already or
 * there is no room. */
static long path_add(path_set *set, const char *path) {
  if (strlen(path) >= sizeof set->p[0] || path_find(set, path) >= 0)
    return -1;
  if (set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 16;
    if (cap > MAX_SEEN)
      return -1;
    void *n = realloc(set->p, cap * sizeof set->p[0]);
    if (!n)
      return -1;
    set->p = n;
    set->cap = cap;
  }
  snprintf(set->p[set->n], sizeof set->p[0], "%s", path);
  return (long)set->n++;
}

static void path_remove(path_set *set, const char *path) {
  long i = path_find(set, path);
  if (i >= 0)
    memcpy(set->p[i], set->p[--set->n], sizeof set->p[0]);
}

static long mark_seen(bz_scanner *z, const char *path) { return path_add(&z->seen, path); }

/* Whether a report of @p path is wanted: a passive scan reports only what
 * its monitor matched, not what someone else's discovery updates. */
static bool wanted(const bz_scanner *z, const char *path) {
  return !z->monitor || path_find(&z->matched, path) >= 0;
}

static int on_added_iface(const char *path, const char *iface, sd_bus_message *m,
                          void *user) {
  bz_scanner *z = user;
  char addr[18];
  if (strcmp(iface, DEVICE_IFACE) || !address_from_path(z, path, addr))
    return bz_skip_dict(m);
  mark_seen(z, path); /* a new device: this is its whole state */
  if (!wanted(z, path))
    return bz_skip_dict(m);
  report_buf b;
  memset(&b, 0, sizeof b);
  int r = read_device(m, &b);
  if (r < 0)
    return r;
  b.r.address = addr;
  bk_scanner_report(z->s, &b.r);
  return 0;
}

/* GetAll(Device1) of a device BlueZ knew before this scan: its name and
 * services come in full, as Bleak's AdvertisementData has them from its
 * cache of BlueZ's properties. */
static void on_device_props(void *owner, void *data, sd_bus_message *reply) {
  bz_scanner *z = owner;
  size_t i = (size_t)(uintptr_t)data;
  char addr[18];
  if (i >= z->seen.n || bk_bus_reply_error(reply, "GetAll") < 0 ||
      !address_from_path(z, z->seen.p[i], addr) || !wanted(z, z->seen.p[i]))
    return;
  report_buf b;
  memset(&b, 0, sizeof b);
  if (read_device(reply, &b) < 0) {
    BK_WARN(LOG_MOD, "malformed Device1 properties of %s dropped", z->seen.p[i]);
    return;
  }
  b.r.address = addr;
  bk_scanner_report(z->s, &b.r);
}

static void fetch_device(bz_scanner *z, const char *path, bool again) {
  long i = mark_seen(z, path);
  if (i < 0 && again)
    i = path_find(&z->seen, path);
  if (i < 0)
    return;
  sd_bus_message *m = NULL;
  if (sd_bus_message_new_method_call(bk_bus_sd(z->bus), &m, BLUEZ, path,
                                     "org.freedesktop.DBus.Properties", "GetAll") < 0)
    return;
  if (sd_bus_message_append(m, "s", DEVICE_IFACE) >= 0)
    bz_call_send(z->bus, &z->calls, m, 0, on_device_props, z, (void *)(uintptr_t)i, NULL);
  sd_bus_message_unref(m);
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *e) {
  (void)e;
  bz_scanner *z = userdata;
  const char *path;
  if (sd_bus_message_read(m, "o", &path) < 0)
    return 0;
  if (bz_walk_interfaces(m, path, on_added_iface, z) < 0)
    BK_WARN(LOG_MOD, "malformed InterfacesAdded for %s dropped", path);
  return 0;
}

static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
  (void)e;
  bz_scanner *z = userdata;
  const char *iface, *path = sd_bus_message_get_path(m);
  char addr[18];
  if (!path || sd_bus_message_read(m, "s", &iface) < 0 ||
      strcmp(iface, DEVICE_IFACE) || !address_from_path(z, path, addr) || !wanted(z, path))
    return 0;
  report_buf b;
  memset(&b, 0, sizeof b);
  if (read_device(m, &b) < 0) {
    BK_WARN(LOG_MOD, "malformed PropertiesChanged for %s dropped", path);
    return 0;
  }
  b.r.address = addr;
  /* Only advertisement-borne changes make a report (Bleak does the same):
   * a Connected or Paired change is not an advertisement. */
  if (b.r.has_rssi || b.r.name || b.r.has_manufacturer_data ||
      b.r.has_service_data || b.r.has_service_uuids || b.r.has_tx_power) {
    bk_scanner_report(z->s, &b.r);
    /* A device BlueZ knew before: what did not change (its name, often)
     * is not in the signal; fetch it once. */
    fetch_device(z, path, false);
  }
  return 0;
}

static void on_started(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_scanner *z = owner;
  int err = bk_bus_reply_error(reply, "StartDiscovery");
  z->discovering = err == 0;
  bk_scanner_started(z->s, err);
}

static void on_filter_set(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_scanner *z = owner;
  int err = bk_bus_reply_error(reply, "SetDiscoveryFilter");
  if (err < 0) {
    bk_scanner_started(z->s, err);
    return;
  }
  sd_bus_message *m = NULL;
  int r = sd_bus_message_new_method_call(bk_bus_sd(z->bus), &m, BLUEZ, z->adapter_path,
                                         ADAPTER_IFACE, "StartDiscovery");
  if (r >= 0)
    r = bz_call_send(z->bus, &z->calls, m, 0, on_started, z, NULL, NULL);
  sd_bus_message_unref(m);
  if (r < 0)
    bk_scanner_started(z->s, BLEAK_ERR_BACKEND);
}

static int append_filter(bz_scanner *z, sd_bus_message *m) {
  const bleak_scanner_options *o = bk_scanner_options(z->s);
  int r = sd_bus_message_open_container(m, 'a', "{sv}");
  if (r >= 0)
    r = sd_bus_message_append(m, "{sv}", "Transport", "s", "le");
  if (r >= 0)
    /* Every advertisement, not only changes: RSSI updates reach the
     * detection callback as in Bleak (unless the filter says off). */
    r = sd_bus_message_append(m, "{sv}", "DuplicateData", "b",
                              o->filter.duplicate_data != BLEAK_DUPLICATES_OFF);
  /* The core applies rssi, pathloss and pattern to every report as well
   * (scan_filter.c): BlueZ's own filtering only saves signals. */
  if (r >= 0 && o->filter.rssi)
    r = sd_bus_message_append(m, "{sv}", "RSSI", "n", o->filter.rssi);
  if (r >= 0 && o->filter.pathloss)
    r = sd_bus_message_append(m, "{sv}", "Pathloss", "q", o->filter.pathloss);
  if (r >= 0 && o->filter.pattern && o->filter.pattern[0])
    r = sd_bus_message_append(m, "{sv}", "Pattern", "s", o->filter.pattern);
  if (r >= 0 && o->n_service_uuids) {
    r = sd_bus_message_open_container(m, 'e', "sv");
    if (r >= 0)
      r = sd_bus_message_append(m, "s", "UUIDs");
    if (r >= 0)
      r = sd_bus_message_open_container(m, 'v', "as");
    if (r >= 0)
      r = sd_bus_message_open_container(m, 'a', "s");
    for (size_t i = 0; r >= 0 && i < o->n_service_uuids; i++) {
      char s[BLEAK_UUID_STR_LEN];
      r = sd_bus_message_append(m, "s", bleak_uuid_to_string(&o->service_uuids[i], s));
    }
    for (int k = 0; k < 3 && r >= 0; k++)
      r = sd_bus_message_close_container(m);
  }
  if (r >= 0)
    r = sd_bus_message_close_container(m);
  return r;
}

static void on_monitor_active(void *user, int status) {
  bz_scanner *z = user;
  /* On an error the core stops the scan from the loop (bzs_stop frees the
   * monitor there, not inside its own D-Bus handler). */
  bk_scanner_started(z->s, status);
}

/* DeviceFound comes after the device's InterfacesAdded (which was not
 * reported yet: not matched then): its whole state is fetched. */
static void on_monitor_device(void *user, const char *path, bool found) {
  bz_scanner *z = user;
  if (!found) {
    path_remove(&z->matched, path);
    return;
  }
  if (path_add(&z->matched, path) >= 0)
    fetch_device(z, path, true);
}

static int begin_monitor(bz_scanner *z) {
  const bleak_scanner_options *o = bk_scanner_options(z->s);
  static const bz_monitor_fns fns = {on_monitor_active, on_monitor_device};
  return bz_monitor_new(z->bus, z->adapter_path, o->or_patterns, o->n_or_patterns, &fns, z,
                        &z->monitor);
}

static int begin_discovery(bz_scanner *z) {
  char rule[256];
  snprintf(rule, sizeof rule,
           "type='signal',sender='" BLUEZ "',interface='org.freedesktop.DBus.ObjectManager',"
           "member='InterfacesAdded',arg0path='%s/'",
           z->adapter_path);
  int r = sd_bus_add_match_async(bk_bus_sd(z->bus), &z->added_match, rule,
                                 on_interfaces_added, NULL, z);
  snprintf(rule, sizeof rule,
           "type='signal',sender='" BLUEZ "',interface='org.freedesktop.DBus.Properties',"
           "member='PropertiesChanged',path_namespace='%s'",
           z->adapter_path);
  if (r >= 0)
    r = sd_bus_add_match_async(bk_bus_sd(z->bus), &z->changed_match, rule,
                               on_props_changed, NULL, z);
  if (r >= 0 && bk_scanner_options(z->s)->scanning_mode == BLEAK_SCAN_PASSIVE)
    return begin_monitor(z);
  sd_bus_message *m = NULL;
  if (r >= 0)
    r = sd_bus_message_new_method_call(bk_bus_sd(z->bus), &m, BLUEZ, z->adapter_path,
                                       ADAPTER_IFACE, "SetDiscoveryFilter");
  if (r >= 0)
    r = append_filter(z, m);
  if (r < 0) {
    sd_bus_message_unref(m);
    return bk_fail(BLEAK_ERR_BACKEND, "cannot start discovery: %s", strerror(-r));
  }
  r = bz_call_send(z->bus, &z->calls, m, 0, on_filter_set, z, NULL, NULL);
  sd_bus_message_unref(m);
  return r;
}

/* No adapter named: BlueZ's first one, as the client does, from the bus's
 * object tree. */
static void on_tree(void *user, int status) {
  bz_scanner *z = user;
  const bz_object *a = status == 0 ? bz_objects_first_adapter(z->objs) : NULL;
  if (status == 0 && !a)
    status = bk_fail(BLEAK_ERR_NO_ADAPTER, "BlueZ has no adapter");
  if (a) {
    snprintf(z->adapter_path, sizeof z->adapter_path, "%.63s", a->path);
    z->adapter_known = true;
    status = begin_discovery(z);
  }
  if (status < 0)
    bk_scanner_started(z->s, status);
}

static int bzs_start(bleak_scanner *s) {
  bz_scanner *z = S(s);
  z->seen.n = 0; /* a new scan learns every device afresh */
  z->matched.n = 0;
  if (bk_scanner_options(s)->scanning_mode == BLEAK_SCAN_PASSIVE &&
      bk_scanner_options(s)->n_or_patterns == 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG,
                   "passive scanning on bluez needs or_patterns (BlueZ's advertisement "
                   "monitor matches advertisements against them; Bleak asks the same)");
  if (z->adapter_known)
    return begin_discovery(z);
  bz_objects_await(z->objs, &z->objs_wait, on_tree, z);
  return 0;
}

static void ignore(void *owner, void *data, sd_bus_message *reply) {
  (void)owner;
  (void)data;
  (void)reply;
}

static void bzs_stop(bleak_scanner *s) {
  bz_scanner *z = S(s);
  bz_call_drop_all(&z->calls);
  bz_objects_cancel(z->objs, &z->objs_wait);
  z->added_match = sd_bus_slot_unref(z->added_match);
  z->changed_match = sd_bus_slot_unref(z->changed_match);
  bz_monitor_free(z->monitor);
  z->monitor = NULL;
  if (z->discovering) {
    z->discovering = false;
    sd_bus_message *m = NULL;
    if (sd_bus_message_new_method_call(bk_bus_sd(z->bus), &m, BLUEZ, z->adapter_path,
                                       ADAPTER_IFACE, "StopDiscovery") >= 0)
      bz_call_send(z->bus, &z->calls, m, 0, ignore, z, NULL, NULL);
    sd_bus_message_unref(m);
  }
}

static int bzs_init(bleak_scanner *s, const bleak_scanner_options *o, void **state) {
  bz_scanner *z = calloc(1, sizeof *z);
  if (!z)
    return BLEAK_ERR_NO_MEMORY;
  z->s = s;
  if (o->adapter) {
    if (strlen(o->adapter) > 20 || strchr(o->adapter, '/')) {
      free(z);
      return bk_fail(BLEAK_ERR_INVALID_ARG, "bad adapter name \"%.20s\"", o->adapter);
    }
    snprintf(z->adapter_path, sizeof z->adapter_path, "/org/bluez/%s", o->adapter);
    z->adapter_known = true;
  }
  int r = bk_bus_get(o->loop, &z->bus);
  if (r < 0) {
    free(z);
    return r;
  }
  z->objs = bz_objects_of(z->bus);
  if (!z->objs) {
    bk_bus_unref(z->bus);
    free(z);
    return BLEAK_ERR_NO_MEMORY;
  }
  *state = z;
  return 0;
}

static void bzs_destroy(bleak_scanner *s, void *state) {
  (void)s;
  bz_scanner *z = state;
  bz_call_drop_all(&z->calls);
  bz_objects_cancel(z->objs, &z->objs_wait);
  sd_bus_slot_unref(z->added_match);
  sd_bus_slot_unref(z->changed_match);
  bz_monitor_free(z->monitor);
  sd_bus_flush(bk_bus_sd(z->bus));
  bk_bus_unref(z->bus);
  free(z->seen.p);
  free(z->matched.p);
  free(z);
}

const bk_scanner_backend bk_bluez_scanner_backend = {
    .name = "bluez",
    .init = bzs_init,
    .destroy = bzs_destroy,
    .start = bzs_start,
    .stop = bzs_stop,
};
