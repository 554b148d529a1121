/* SPDX-License-Identifier: MIT */
/*
 * The bluez client's connect, on the bus's object tree (objects.h):
 *  1. wait for the tree (filled once per bus: no round trip when another
 *     client or scanner of the loop filled it already);
 *  2. find the adapter (named, or BlueZ's first) and the device in it; a
 *     device BlueZ does not know yet is the core's to search for
 *     (bk_connect_search, then bz_connect_found);
 *  3. Device1.Connect, unless connected already;
 *  4. wait for ServicesResolved, then build the services from the tree:
 *     BlueZ exports a device's GATT objects before it says they are
 *     resolved, so they are all there;
 *  5. optionally Device1.Pair (pair=true).
 * The core retries what bz_transient names (core/connect.c). Everything
 * the tree hears about the device afterwards (the link going down, values
 * notified through PropertiesChanged, the MTU) reaches on_change.
 *
 * Object paths are computed, not looked up: BlueZ names a device
 * <adapter>/dev_AA_BB_..., a service <device>/serviceXXXX (its first
 * handle), a characteristic <service>/charYYYY (its declaration handle) and
 * a descriptor <char>/descZZZZ (src/gatt-client.c), which is also how Bleak
 * derives handles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/client_priv.h"
#include "backend/bluez/props.h"
#include "core/gatt_build.h"
#include "core/internal.h"
#include "core/rfkill.h"

#define LOG_MOD "bluez"

/* What is left of the connect's timeout, as a D-Bus call timeout. */
static uint64_t remaining_usec(bz_client *z) {
  uint64_t ms = z->connect_op ? bk_op_time_left_ms(z->connect_op) : 0;
  if (ms == 0 || ms == UINT64_MAX)
    ms = (uint64_t)bk_client_options(z->c)->timeout_ms;
  return ms * 1000u;
}

static void settle_end(bz_client *z);

void bz_connect_reset(bz_client *z) {
  settle_end(z);
  bz_call_drop(z->connect_call);
  z->connect_call = NULL;
  bz_objects_cancel(z->objs, &z->objs_wait);
  z->connect_op = NULL;
  z->ph = PH_IDLE;
}

void bz_connect_fail(bz_client *z, int err) {
  bk_op *op = z->connect_op;
  bool was_linked = z->connected;
  bz_connect_reset(z);
  if (was_linked) /* do not leave a half-made link behind */
    bz_simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0, bz_ignore_reply,
                   NULL, NULL);
  if (op)
    bk_op_done(op, err);
}

static void connect_done(bz_client *z) {
  bk_op *op = z->connect_op;
  bz_connect_reset(z);
  BK_INFO(LOG_MOD, "%s: connected, MTU %u", bk_client_address(z->c), z->mtu);
  if (op)
    bk_op_done(op, 0);
}

/* ---- the services, from the tree ---- */

/* Parse the path below the device: "/serviceXXXX[/charYYYY[/descZZZZ]]".
 * Returns the number of handles found (1..3), 0 when the path is not one. */
static int parse_gatt_path(const char *dev, const char *path, uint16_t h[3]) {
  static const char *const parts[3] = {"/service", "/char", "/desc"};
  size_t n = strlen(dev);
  if (strncmp(path, dev, n) != 0)
    return 0;
  const char *p = path + n;
  int found = 0;
  for (int i = 0; i < 3 && *p; i++) {
    size_t pl = strlen(parts[i]);
    if (strncmp(p, parts[i], pl) != 0 || strlen(p + pl) < 4 || !bz_parse_hex4(p + pl, &h[i]))
      return 0;
    p += pl + 4;
    found++;
  }
  return *p ? 0 : found;
}

/* The kind of GATT object @p o is (1 service, 2 characteristic, 3
 * descriptor) when its path and interface agree, else 0. */
static int gatt_kind(const bz_client *z, const bz_object *o, uint16_t h[3]) {
  int kind = (o->ifaces & BZ_IF_SERVICE)  ? 1
             : (o->ifaces & BZ_IF_CHRC) ? 2
             : (o->ifaces & BZ_IF_DESC) ? 3
                                        : 0;
  if (!kind || parse_gatt_path(z->dev_path, o->path, h) != kind)
    return 0;
  if (!o->have_uuid) {
    BK_WARN(LOG_MOD, "%s has no valid UUID: ignored", o->path);
    return 0;
  }
  return kind;
}

/* Two passes over the device's objects (path order is handle order:
 * BlueZ's paths carry four hex digits): the services first, each ending
 * where the next begins (BlueZ does not export the end handle), then their
 * characteristics and descriptors. */
static int build_services(bz_client *z, bleak_gatt_services *s) {
  char prefix[sizeof z->dev_path + 16];
  snprintf(prefix, sizeof prefix, "%s/service", z->dev_path);
  const bz_object *svc = NULL, *next;
  uint16_t h[3], hn[3];
  int r = 0;
  for (svc = bz_objects_next(z->objs, prefix, NULL); svc && r >= 0; svc = next) {
    for (next = bz_objects_next(z->objs, prefix, svc); next && gatt_kind(z, next, hn) != 1;)
      next = bz_objects_next(z->objs, prefix, next);
    if (gatt_kind(z, svc, h) != 1)
      continue;
    uint16_t end = next && hn[0] > h[0] ? (uint16_t)(hn[0] - 1) : 0xffff;
    r = bk_gatt_services_add_service(s, &svc->uuid, h[0], end, svc->primary);
  }
  for (const bz_object *o = bz_objects_next(z->objs, prefix, NULL); o && r >= 0;
       o = bz_objects_next(z->objs, prefix, o)) {
    int kind = gatt_kind(z, o, h);
    if (kind == 2) {
      if (o->mtu > z->mtu)
        z->mtu = o->mtu;
      /* The value follows its declaration (Core spec Vol 3 Part G 3.3). */
      if (h[1] != 0xffff)
        r = bk_gatt_services_add_characteristic(s, h[0], &o->uuid, h[1], (uint16_t)(h[1] + 1),
                                                o->props);
    } else if (kind == 3) {
      r = bk_gatt_services_add_descriptor(s, h[1], &o->uuid, h[2]);
    }
  }
  return r;
}

static void pair_for_connect(bz_client *z);

static void build_and_finish(bz_client *z);

/* BlueZ exports a characteristic's MTU when it makes the object and says
 * nothing when the MTU exchange then raises it: the tree may hold 23 where
 * the link has more. One Properties.Get of one characteristic's MTU (its
 * getter reads the link's) is the live value, for all. */
static void on_mtu(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  z->connect_call = NULL;
  uint16_t mtu = 0;
  if (!sd_bus_message_is_method_error(reply, NULL) &&
      sd_bus_message_read(reply, "v", "q", &mtu) > 0 && mtu > z->mtu)
    z->mtu = mtu;
  build_and_finish(z);
}

static void services_ready(bz_client *z) {
  z->ph = PH_SERVICES;
  char prefix[sizeof z->dev_path + 16];
  snprintf(prefix, sizeof prefix, "%s/service", z->dev_path);
  const bz_object *ch = NULL;
  for (const bz_object *o = bz_objects_next(z->objs, prefix, NULL); o && !ch;
       o = bz_objects_next(z->objs, prefix, o))
    if (o->ifaces & BZ_IF_CHRC) {
      ch = o;
      if (o->mtu > z->mtu)
        z->mtu = o->mtu;
    }
  if (ch && z->mtu <= 23) {
    sd_bus_message *m = NULL;
    int r = bz_new_call(z, ch->path, "org.freedesktop.DBus.Properties", "Get", &m);
    if (r == 0 && sd_bus_message_append(m, "ss", "org.bluez.GattCharacteristic1", "MTU") >= 0 &&
        bz_call_send(z->bus, &z->calls, m, remaining_usec(z), on_mtu, z, NULL,
                     &z->connect_call) == 0) {
      sd_bus_message_unref(m);
      return;
    }
    sd_bus_message_unref(m); /* no MTU then: 23 */
  }
  build_and_finish(z);
}

static void build_and_finish(bz_client *z) {
  bleak_gatt_services *s = bk_gatt_services_new();
  if (!s) {
    bz_connect_fail(z, BLEAK_ERR_NO_MEMORY);
    return;
  }
  int r = build_services(z, s);
  if (r >= 0)
    r = bk_gatt_services_finish(s);
  if (r < 0) {
    bleak_gatt_services_unref(s);
    bz_connect_fail(z, r == BLEAK_ERR_NO_MEMORY
                           ? r
                           : bk_fail(BLEAK_ERR_PROTOCOL, "BlueZ's GATT objects: %s",
                                     bleak_strerror(r)));
    return;
  }
  if (z->mtu < 23)
    z->mtu = 23;
  bk_gatt_services_set_mtu(s, z->mtu);
  bk_client_set_services(z->c, s);
  if (bk_client_options(z->c)->pair) {
    z->ph = PH_PAIR;
    bk_client_pairing(z->c);
    pair_for_connect(z);
    return;
  }
  connect_done(z);
}

/* ---- pairing as part of the connect (pair=true) ---- */

static void on_connect_pair(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  z->connect_call = NULL;
  int err = bk_bus_reply_error(reply, "Pair");
  if (err < 0 && strcmp(sd_bus_message_get_error(reply)->name, "org.bluez.Error.AlreadyExists"))
    bz_connect_fail(z, err);
  else
    connect_done(z);
}

static void pair_for_connect(bz_client *z) {
  if (z->paired) {
    connect_done(z);
    return;
  }
  int r = bz_ensure_agent(z);
  if (r == 0)
    r = bz_simple_call(z, z->dev_path, DEVICE_IFACE, "Pair", false, 60u * 1000000u,
                       on_connect_pair, NULL, &z->connect_call);
  if (r < 0)
    bz_connect_fail(z, r);
}

/* ---- Device1.Connect ---- */

/* ServicesResolved that never comes (BlueZ's stale cache of a device that
 * changed, its discovery stuck: Bleak #882): after half of what is left of
 * the timeout, at least RESOLVE_MIN_MS, the attempt fails as transient and
 * the core tries again; once per connect, for a device that is not
 * paired, BlueZ's cache of it is cleared first (RemoveDevice: the core's
 * search finds it again). A paired device keeps its bond: only retried.
 * Less than twice RESOLVE_MIN_MS left: the connect's own timeout decides. */
#define RESOLVE_MIN_MS 5000

static void on_phase_timer(bleak_source *src, void *user);

static void arm_resolve_bound(bz_client *z) {
  uint64_t left = z->connect_op ? bk_op_time_left_ms(z->connect_op) : 0;
  if (left == UINT64_MAX || left < 2 * RESOLVE_MIN_MS)
    return;
  if (!z->settle_timer &&
      bleak_loop_add_timer(bk_bus_loop(z->bus), left / 2, on_phase_timer, z, &z->settle_timer) < 0)
    return; /* no memory for the bound: the timeout still ends it */
  bleak_source_set_timer(z->settle_timer, left / 2);
}

static void resolve_timed_out(bz_client *z) {
  bool clear = !z->paired && z->connect_op && z->cache_cleared_op != z->connect_op->id;
  BK_INFO(LOG_MOD, "%s: connected, but BlueZ did not resolve the services%s",
          bk_client_address(z->c), clear ? ": clearing BlueZ's cache of the device" : "");
  bz_simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0, bz_ignore_reply, NULL,
                 NULL);
  if (clear) {
    z->cache_cleared_op = z->connect_op->id;
    sd_bus_message *m = NULL;
    if (bz_new_call(z, z->adapter_path, ADAPTER_IFACE, "RemoveDevice", &m) == 0 &&
        sd_bus_message_append(m, "o", z->dev_path) >= 0)
      bz_call_send(z->bus, &z->calls, m, 0, bz_ignore_reply, z, NULL, NULL);
    sd_bus_message_unref(m);
  }
  /* Ours is given up: the link's end is no news for the core. */
  z->connected = z->services_resolved = false;
  bz_connect_fail(z, bk_fail(BLEAK_ERR_BACKEND, "ServicesResolved did not come%s",
                             clear ? " (BlueZ's cache of the device cleared)" : ""));
}

static void on_connect_reply(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  z->connect_call = NULL;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  if (e && strcmp(e->name, "org.bluez.Error.AlreadyConnected") != 0) {
    /* The core tries again when it is transient (bz_transient). */
    bz_connect_fail(z, bk_bus_error(e, "Connect"));
    return;
  }
  z->connected = true;
  BK_DEBUG(LOG_MOD, "%s: Connect returned%s", bk_client_address(z->c),
           z->services_resolved ? ", services resolved already" : "");
  bk_client_link_up(z->c);
  if (z->services_resolved) {
    services_ready(z);
    return;
  }
  z->ph = PH_RESOLVE; /* on_change continues */
  arm_resolve_bound(z);
}

static void connect_now(bz_client *z) {
  z->ph = PH_CONNECT;
  int r = bz_simple_call(z, z->dev_path, DEVICE_IFACE, "Connect", false, remaining_usec(z),
                         on_connect_reply, NULL, &z->connect_call);
  if (r < 0)
    bz_connect_fail(z, r);
}

/* ---- letting a discovery stop first ---- */

/* BlueZ 5.66 aborts a connect that starts while the adapter's discovery
 * is still winding down (le-connection-abort-by-local: Bleak users meet it
 * as the first connect after a scan failing, tests/vm/README.md). When the
 * tree says the adapter is discovering, Connect waits until it is not, at
 * most SETTLE_MAX_MS (another program may keep discovering for ever). */
#define SETTLE_MAX_MS 600

static void settle_end(bz_client *z) {
  bz_objects_unlisten(z->objs, &z->adapter_listener);
  if (z->settle_timer)
    bleak_source_stop_timer(z->settle_timer);
}

static void on_adapter_change(void *user, const bz_object *o, unsigned mask) {
  bz_client *z = user;
  if (z->ph != PH_SETTLE || strcmp(o->path, z->adapter_path) != 0 ||
      !(mask & BZ_CH_DISCOVERING) || o->discovering)
    return;
  settle_end(z);
  connect_now(z);
}

static void on_phase_timer(bleak_source *src, void *user) {
  (void)src;
  bz_client *z = user;
  if (z->ph == PH_RESOLVE) {
    resolve_timed_out(z);
    return;
  }
  if (z->ph != PH_SETTLE)
    return;
  BK_DEBUG(LOG_MOD, "%s still discovering after %d ms: connecting anyway", z->adapter_path,
           SETTLE_MAX_MS);
  settle_end(z);
  connect_now(z);
}

void bz_connect_free(bz_client *z) {
  settle_end(z);
  bleak_source_free(z->settle_timer);
  z->settle_timer = NULL;
}

static void start_connect_call(bz_client *z) {
  const bz_object *a = bz_objects_find(z->objs, z->adapter_path);
  if (!a || !a->discovering) {
    connect_now(z);
    return;
  }
  z->adapter_listener =
      (bz_objects_listener){.prefix = z->adapter_path, .changed = on_adapter_change, .user = z};
  if ((!z->settle_timer && bleak_loop_add_timer(bk_bus_loop(z->bus), SETTLE_MAX_MS,
                                                on_phase_timer, z, &z->settle_timer) < 0) ||
      bz_objects_listen(z->objs, &z->adapter_listener) < 0) {
    connect_now(z); /* no memory to wait: try at once */
    return;
  }
  bleak_source_set_timer(z->settle_timer, SETTLE_MAX_MS);
  z->ph = PH_SETTLE;
  BK_DEBUG(LOG_MOD, "%s is discovering: Connect waits for it to stop", z->adapter_path);
}

/* ---- what the tree says of the device ---- */

static void copy_device(bz_client *z, const bz_object *dev) {
  z->connected = dev->connected;
  z->services_resolved = dev->services_resolved;
  z->paired = dev->paired;
  const char *name = dev->name[0] ? dev->name : dev->alias;
  if (name[0])
    snprintf(z->name, sizeof z->name, "%.63s", name);
}

static void on_value(bz_client *z, const bz_object *o) {
  uint16_t h[3];
  bleak_gatt_services *s = bleak_client_services(z->c);
  if (!s || !o->have_value || parse_gatt_path(z->dev_path, o->path, h) != 2)
    return;
  const bleak_gatt_characteristic *ch = bleak_gatt_services_get_characteristic_by_handle(s, h[1]);
  if (ch)
    bk_client_notify(z->c, ch, o->value, o->value_len);
}

static void on_change(void *user, const bz_object *o, unsigned mask) {
  bz_client *z = user;
  if ((o->ifaces & BZ_IF_CHRC) && (mask & BZ_CH_MTU) && o->mtu > z->mtu &&
      bk_client_state(z->c) != BK_CONN_DISCONNECTED)
    z->mtu = o->mtu;
  /* A Value in a PropertiesChanged: a notification through StartNotify
   * (or the answer to a read, as Bleak delivers it too). */
  if ((o->ifaces & BZ_IF_CHRC) && (mask & BZ_CH_VALUE) && !(mask & BZ_CH_ADDED)) {
    on_value(z, o);
    return;
  }
  if (strcmp(o->path, z->dev_path) != 0)
    return;
  if (!(o->ifaces & BZ_IF_DEVICE)) {
    /* The device object is gone (RemoveDevice, or BlueZ forgot it). */
    if (mask & BZ_CH_REMOVED)
      bz_link_lost(z, 0);
    return;
  }
  /* Only what this change says: the rest of z is the connect's own view
   * (Connect's reply makes it connected before BlueZ's signal does). */
  bool was_connected = z->connected;
  if (mask & BZ_CH_CONNECTED)
    z->connected = o->connected;
  if (mask & BZ_CH_RESOLVED)
    z->services_resolved = o->services_resolved;
  if (mask & (BZ_CH_PAIRED | BZ_CH_NAME | BZ_CH_ADDED)) {
    z->paired = o->paired;
    const char *name = o->name[0] ? o->name : o->alias;
    if (name[0])
      snprintf(z->name, sizeof z->name, "%.63s", name);
  }
  if ((mask & BZ_CH_CONNECTED) && was_connected && !z->connected) {
    bz_link_lost(z, 0);
    return;
  }
  if (z->ph == PH_RESOLVE && z->services_resolved)
    services_ready(z);
}

void bz_connect_unlisten(bz_client *z) {
  if (z->listening)
    bz_objects_unlisten(z->objs, &z->listener);
  z->listening = false;
}

void bz_set_paths(bz_client *z, const char *adapter_path) {
  char addr[18];
  snprintf(addr, sizeof addr, "%s", bk_client_address(z->c));
  for (char *p = addr; *p; p++)
    if (*p == ':')
      *p = '_';
  bz_connect_unlisten(z); /* its prefix is dev_path */
  snprintf(z->adapter_path, sizeof z->adapter_path, "%s", adapter_path);
  snprintf(z->dev_path, sizeof z->dev_path, "%s/dev_%s", adapter_path, addr);
}

static int listen_device(bz_client *z) {
  if (z->listening)
    return 0;
  z->listener = (bz_objects_listener){.prefix = z->dev_path, .changed = on_change, .user = z};
  int r = bz_objects_listen(z->objs, &z->listener);
  z->listening = r == 0;
  return r;
}

/* ---- the lookup ---- */

/* An adapter that cannot connect: off, or blocked by rfkill (which BlueZ
 * shows only as not powered). */
static int adapter_unusable(const bz_object *a) {
  const char *hci = strrchr(a->path, '/');
  hci = hci ? hci + 1 : a->path;
  if (bk_rfkill_blocked("/sys", hci))
    return bk_fail(BLEAK_ERR_RFKILL, "%s is blocked by rfkill", hci);
  return bk_fail(BLEAK_ERR_POWERED_OFF, "%s is powered off", hci);
}

/* bluetoothd left the bus during this connect (any of its attempts), at
 * most RESTART_WAIT_MS ago: a restart (systemd's takes a second or two),
 * which the core's retries wait for. Longer, it is not coming back: the
 * connect ends with NO_BLUETOOTHD. */
#define RESTART_WAIT_MS 8000

static bool bluez_left(const bz_client *z) {
  return z->connect_op && z->bluez_left_op == z->connect_op->id &&
         bleak_loop_now_ms(bk_bus_loop(z->bus)) - z->bluez_left_ms < RESTART_WAIT_MS;
}

static void on_tree(void *user, int status) {
  bz_client *z = user;
  if (status == BLEAK_ERR_NO_BLUETOOTHD && bluez_left(z))
    /* bluetoothd left during this connect: it may be restarting, which
     * the core's retries wait for within the timeout. */
    status = bk_fail(BLEAK_ERR_BACKEND, "bluetoothd is not back on the bus yet");
  if (status < 0) {
    bz_connect_fail(z, status);
    return;
  }
  const char *want = bk_client_options(z->c)->adapter;
  const bz_object *a = want ? bz_objects_find(z->objs, z->adapter_path)
                            : bz_objects_first_adapter(z->objs);
  if (bluez_left(z) && (!a || !(a->ifaces & BZ_IF_ADAPTER) || !a->powered)) {
    /* A bluetoothd just back registers and powers its adapters in its
     * first moments: the core's retries wait for that too. */
    bz_connect_fail(z, bk_fail(BLEAK_ERR_BACKEND, "bluetoothd is back, its adapter not yet"));
    return;
  }
  if (!a || !(a->ifaces & BZ_IF_ADAPTER)) {
    bz_connect_fail(z, want ? bk_fail(BLEAK_ERR_NO_ADAPTER, "BlueZ has no adapter %s", want)
                            : bk_fail(BLEAK_ERR_NO_ADAPTER, "BlueZ has no adapter"));
    return;
  }
  if (!a->powered) {
    bz_connect_fail(z, adapter_unusable(a));
    return;
  }
  if (!want)
    bz_set_paths(z, a->path);
  if (listen_device(z) < 0) {
    bz_connect_fail(z, BLEAK_ERR_NO_MEMORY);
    return;
  }
  const bz_object *dev = bz_objects_find(z->objs, z->dev_path);
  if (!dev || !(dev->ifaces & BZ_IF_DEVICE)) {
    /* BlueZ has no object for it: the core scans until it has (it then
     * calls bz_connect_found). */
    z->ph = PH_SEARCH;
    bk_connect_search(z->connect_op);
    return;
  }
  copy_device(z, dev);
  if (z->connected && z->services_resolved) {
    bk_client_link_up(z->c);
    services_ready(z);
  } else {
    start_connect_call(z);
  }
}

/* The core's search saw the device: BlueZ has its object now. */
int bz_connect_found(bleak_client *c, bk_op *op) {
  bz_client *z = Z(c);
  if (z->ph != PH_SEARCH || op != z->connect_op)
    return bk_fail(BLEAK_ERR_STATE, "no connect waits for its device");
  const bz_object *dev = bz_objects_find(z->objs, z->dev_path);
  if (dev && (dev->ifaces & BZ_IF_DEVICE))
    copy_device(z, dev);
  start_connect_call(z);
  return 0;
}

/* BlueZ's failures of a connect worth another try: org.bluez.Error.Failed
 * (le-connection-abort-by-local, "Software caused connection abort": the
 * link did not come up; BlueZ 5.66 often fails the first connect right
 * after a scan, tests/vm/README.md), InProgress (bluetoothd busy with
 * another connect), a link that is gone before it was usable, and
 * bluetoothd restarting. Not: no free connection slot (BLEAK_ERR_NO_SLOT:
 * another link must go first), nor anything "not available". */
bool bz_transient(int err) {
  return err == BLEAK_ERR_BACKEND || err == BLEAK_ERR_BUSY || err == BLEAK_ERR_NOT_CONNECTED ||
         err == BLEAK_ERR_DISCONNECTED;
}

int bz_start_connect(bz_client *z, bk_op *op) {
  z->connect_op = op;
  z->mtu = 23;
  z->connected = z->services_resolved = false;
  z->ph = PH_LOOKUP;
  const char *adapter = bk_client_options(z->c)->adapter;
  if (adapter) {
    char path[64];
    if (strlen(adapter) > 20 || strchr(adapter, '/'))
      return bk_fail(BLEAK_ERR_INVALID_ARG, "bad adapter name \"%.20s\"", adapter);
    snprintf(path, sizeof path, "/org/bluez/%s", adapter);
    bz_set_paths(z, path);
  }
  bz_objects_await(z->objs, &z->objs_wait, on_tree, z);
  return 0;
}
