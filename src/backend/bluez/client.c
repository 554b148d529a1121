/* SPDX-License-Identifier: MIT */
/*
 * The bluez client backend: BleakClient over BlueZ's D-Bus API.
 *
 * Object paths are computed, not looked up: BlueZ names a device
 * <adapter>/dev_AA_BB_..., a service <device>/serviceXXXX (its first
 * handle), a characteristic <service>/charYYYY (its declaration handle) and
 * a descriptor <char>/descZZZZ (src/gatt-client.c), which is also how Bleak
 * derives handles. So the GATT model needs no D-Bus strings of its own.
 *
 * Connect: GetManagedObjects (is the device known? connected?), if unknown
 * a discovery until InterfacesAdded names it, Device1.Connect, wait for
 * ServicesResolved, GetManagedObjects again to build the tree, optionally
 * Pair. Each step is a D-Bus call whose reply drives the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/agent.h"
#include "backend/bluez/write_queue.h"
#include "backend/bluez/bluez.h"
#include "backend/bluez/bus.h"
#include "backend/bluez/call.h"
#include "backend/bluez/op.h"
#include "backend/bluez/props.h"
#include "core/backend.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define LOG_MOD "bluez"
#define BLUEZ "org.bluez"
#define DEVICE_IFACE "org.bluez.Device1"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define CHRC_IFACE "org.bluez.GattCharacteristic1"
#define DESC_IFACE "org.bluez.GattDescriptor1"
#define SERVICE_IFACE "org.bluez.GattService1"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"

typedef enum phase {
  PH_IDLE,      /* no connect running (connected or not: ask the core) */
  PH_LOOKUP,    /* GetManagedObjects before connecting */
  PH_SEARCH,    /* the core searches for the unknown device */
  PH_CONNECT,   /* Device1.Connect */
  PH_RESOLVE,   /* waiting for ServicesResolved */
  PH_SERVICES,  /* GetManagedObjects to build the tree */
  PH_PAIR,      /* Device1.Pair after connect (pair=true) */
} phase;

/* A notification stream acquired with AcquireNotify: one datagram per
 * value on a socket, without a D-Bus message per notification. */
typedef struct acquired {
  struct bz_client *z;
  const bleak_gatt_characteristic *ch;
  int fd;
  bleak_source *watch;
  bk_qnode node; /* in bz_client.acquired */
} acquired;

/* A characteristic written without response through AcquireWrite's
 * socket. Writes queue behind the acquisition (BlueZ 5.66 can corrupt
 * writes sent while it is pending) and behind a full socket, so order is
 * kept; when BlueZ refuses the acquisition they go by D-Bus instead. */
typedef struct writer {
  struct bz_client *z;
  const bleak_gatt_characteristic *ch;
  int fd;          /* -1 while acquiring, or when refused */
  bool refused;    /* use WriteValue */
  bleak_source *watch;
  bz_call *acquire_call; /* AcquireWrite in flight */
  bk_queue waiting;      /* bz_op.writer_node, oldest first */
  bk_qnode node;         /* in bz_client.writers */
} writer;

typedef struct bz_client {
  bleak_client *c;
  bk_bus *bus;
  bz_call_list calls;
  char adapter_path[64];
  char dev_path[128];
  sd_bus_slot *props_match;
  sd_bus_slot *owner_match;
  phase ph;
  bk_op *connect_op;
  bz_call *connect_call;
  bool connected;          /* Device1.Connected as last seen */
  bool services_resolved;
  /* Device1.Paired as last seen. Pair() on a device paired over LE makes
   * BlueZ try BR/EDR when it thinks the device has it (AuthenticationFailed
   * on an LE-only peer), so an LE pairing that exists already is success. */
  bool paired;
  uint16_t mtu;
  char name[64];
  bz_agent *agent;
  bool agent_registered;
  bk_queue acquired; /* acquired.node */
  bk_queue writers; /* writer.node: one per characteristic written */
  bz_wq wq; /* writes with response, one at a time */
} bz_client;

static bz_client *Z(const bleak_client *c) { return bk_client_backend_state(c); }

/* ---- small helpers ---- */

static int new_call(bz_client *z, const char *path, const char *iface,
                    const char *member, sd_bus_message **out) {
  int r = sd_bus_message_new_method_call(bk_bus_sd(z->bus), out, BLUEZ, path,
                                         iface, member);
  return r < 0 ? bk_fail(BLEAK_ERR_NO_MEMORY, "D-Bus message: %s", strerror(-r)) : 0;
}

static int append_empty_dict(sd_bus_message *m) {
  int r = sd_bus_message_open_container(m, 'a', "{sv}");
  return r < 0 ? r : sd_bus_message_close_container(m);
}

/* Call @p member with no arguments (or an empty a{sv} when @p dict). */
static int simple_call(bz_client *z, const char *path, const char *iface,
                       const char *member, bool dict, uint64_t timeout_usec,
                       bz_reply_fn fn, void *data, bz_call **out) {
  sd_bus_message *m = NULL;
  int r = new_call(z, path, iface, member, &m);
  if (r < 0)
    return r;
  if (dict && (r = append_empty_dict(m)) < 0) {
    sd_bus_message_unref(m);
    return bk_fail(BLEAK_ERR_NO_MEMORY, "D-Bus message: %s", strerror(-r));
  }
  r = bz_call_send(z->bus, &z->calls, m, timeout_usec, fn, z, data, out);
  sd_bus_message_unref(m);
  return r;
}

static void ignore_reply(void *owner, void *data, sd_bus_message *reply) {
  (void)owner;
  (void)data;
  int r = bk_bus_reply_error(reply, "background call");
  if (r < 0)
    BK_DEBUG(LOG_MOD, "%s", bleak_error_detail());
}

static void char_path(const bz_client *z, const bleak_gatt_characteristic *ch,
                      char *buf, size_t cap) {
  snprintf(buf, cap, "%s/service%04x/char%04x", z->dev_path,
           bleak_gatt_service_handle(bleak_gatt_characteristic_service(ch)),
           bleak_gatt_characteristic_handle(ch));
}

static void desc_path(const bz_client *z, const bleak_gatt_descriptor *d,
                      char *buf, size_t cap) {
  const bleak_gatt_characteristic *ch = bleak_gatt_descriptor_characteristic(d);
  char cp[160];
  char_path(z, ch, cp, sizeof cp);
  snprintf(buf, cap, "%s/desc%04x", cp, bleak_gatt_descriptor_handle(d));
}

/* What is left of the connect's timeout, as a D-Bus call timeout. */
static uint64_t remaining_usec(bz_client *z) {
  uint64_t ms = z->connect_op ? bk_op_time_left_ms(z->connect_op) : 0;
  if (ms == 0 || ms == UINT64_MAX)
    ms = (uint64_t)bk_client_options(z->c)->timeout_ms;
  return ms * 1000u;
}

/* ---- connect: the phases ---- */

static void connect_fail(bz_client *z, int err);
static int read_device_props(bz_client *z, sd_bus_message *m, bool *saw_connected);
static void start_connect_call(bz_client *z);
static void pair_for_connect(bz_client *z);
static void start_services_lookup(bz_client *z);

/* Leave the connect operation's state (it completed or was aborted). */
static void connect_reset(bz_client *z) {
  bz_call_drop(z->connect_call);
  z->connect_call = NULL;
  z->connect_op = NULL;
  z->ph = PH_IDLE;
}

static void connect_fail(bz_client *z, int err) {
  bk_op *op = z->connect_op;
  bool was_linked = z->connected;
  connect_reset(z);
  z->ph = PH_IDLE;
  if (was_linked) /* do not leave a half-made link behind */
    simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0,
                ignore_reply, NULL, NULL);
  if (op)
    bk_op_done(op, err);
}

static void connect_done(bz_client *z) {
  bk_op *op = z->connect_op;
  connect_reset(z);
  BK_INFO(LOG_MOD, "%s: connected, MTU %u", bk_client_address(z->c), z->mtu);
  if (op)
    bk_op_done(op, 0);
}

/* Building the tree from GetManagedObjects. */
typedef struct svc_entry {
  bleak_uuid uuid;
  uint16_t start;
  bool primary;
} svc_entry;

typedef struct tree_ctx {
  bz_client *z;
  bleak_gatt_services *s;
  svc_entry *svcs;
  size_t n_svcs, cap_svcs;
  int err;
  uint32_t props;
} tree_ctx;

static void add_flag(const char *flag, void *user) {
  tree_ctx *t = user;
  t->props |= bleak_gatt_property_from_name(flag);
}

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
    if (strncmp(p, parts[i], pl) != 0 || strlen(p + pl) < 4 ||
        !bz_parse_hex4(p + pl, &h[i]))
      return 0;
    p += pl + 4;
    found++;
  }
  return *p ? 0 : found;
}

static int read_uuid_prop(sd_bus_message *m, const char *name, bleak_uuid *u,
                          bool *have) {
  const char *s = NULL;
  int r = bz_var_str(m, &s);
  if (r > 0 && bleak_uuid_parse(s, u) == 0)
    *have = true;
  (void)name;
  return r < 0 ? r : 0;
}

static int on_object(const char *path, const char *iface, sd_bus_message *m,
                     void *user) {
  tree_ctx *t = user;
  uint16_t h[3];
  int kind = 0;
  if (!strcmp(iface, DEVICE_IFACE) && !strcmp(path, t->z->dev_path))
    return read_device_props(t->z, m, NULL); /* the name, as of now */
  if (!strcmp(iface, SERVICE_IFACE))
    kind = 1;
  else if (!strcmp(iface, CHRC_IFACE))
    kind = 2;
  else if (!strcmp(iface, DESC_IFACE))
    kind = 3;
  if (!kind || parse_gatt_path(t->z->dev_path, path, h) != kind)
    return bz_skip_dict(m);
  bleak_uuid uuid;
  bool have_uuid = false, primary = true;
  uint16_t mtu = 0;
  t->props = 0;
  const char *name;
  int r = bz_dict_enter(m);
  while (r >= 0 && (r = bz_dict_next(m, &name)) > 0) {
    if (!strcmp(name, "UUID"))
      r = read_uuid_prop(m, name, &uuid, &have_uuid);
    else if (kind == 1 && !strcmp(name, "Primary"))
      r = bz_var_bool(m, &primary);
    else if (kind == 2 && !strcmp(name, "Flags"))
      r = bz_var_strv(m, add_flag, t);
    else if (kind == 2 && !strcmp(name, "MTU"))
      r = bz_var_u16(m, &mtu);
    else
      r = bz_var_skip(m);
    if (r >= 0)
      r = bz_dict_entry_end(m);
  }
  if (r < 0 || (r = bz_dict_exit(m)) < 0)
    return r;
  if (!have_uuid) {
    BK_WARN(LOG_MOD, "%s has no valid UUID: ignored", path);
    return 0;
  }
  if (mtu > t->z->mtu)
    t->z->mtu = mtu;
  if (kind == 1) {
    if (t->n_svcs == t->cap_svcs) {
      size_t cap = t->cap_svcs ? t->cap_svcs * 2 : 16;
      svc_entry *n = realloc(t->svcs, cap * sizeof *n);
      if (!n)
        return -ENOMEM;
      t->svcs = n;
      t->cap_svcs = cap;
    }
    t->svcs[t->n_svcs++] = (svc_entry){uuid, h[0], primary};
  } else if (kind == 2) {
    /* The value follows its declaration (Core spec Vol 3 Part G 3.3). */
    if (h[1] == 0xffff)
      return 0;
    r = bk_gatt_services_add_characteristic(t->s, h[0], &uuid, h[1],
                                            (uint16_t)(h[1] + 1), t->props);
  } else {
    r = bk_gatt_services_add_descriptor(t->s, h[1], &uuid, h[2]);
  }
  return r < 0 ? -ENOMEM : 0;
}

static int cmp_svc_entry(const void *a, const void *b) {
  const svc_entry *x = a, *y = b;
  return (int)x->start - (int)y->start;
}

/* The reply to the connect's call in flight: 0, or the connect has failed
 * with its error. */
static int connect_reply(bz_client *z, sd_bus_message *reply, const char *what) {
  z->connect_call = NULL;
  int err = bk_bus_reply_error(reply, what);
  if (err < 0)
    connect_fail(z, err);
  return err;
}

static void on_services_objects(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  if (connect_reply(z, reply, "GetManagedObjects") < 0)
    return;
  tree_ctx t = {.z = z, .s = bk_gatt_services_new()};
  if (!t.s) {
    connect_fail(z, BLEAK_ERR_NO_MEMORY);
    return;
  }
  int r = bz_walk_objects(reply, on_object, &t);
  if (r >= 0) {
    /* BlueZ does not export a service's end handle: it ends where the next
     * one starts. */
    if (t.n_svcs)
      qsort(t.svcs, t.n_svcs, sizeof *t.svcs, cmp_svc_entry);
    for (size_t i = 0; i < t.n_svcs && r >= 0; i++) {
      uint16_t end = i + 1 < t.n_svcs && t.svcs[i + 1].start > t.svcs[i].start
                         ? (uint16_t)(t.svcs[i + 1].start - 1)
                         : 0xffff;
      r = bk_gatt_services_add_service(t.s, &t.svcs[i].uuid, t.svcs[i].start,
                                       end, t.svcs[i].primary);
    }
  }
  free(t.svcs);
  if (r < 0) {
    bleak_gatt_services_unref(t.s);
    connect_fail(z, bk_fail(BLEAK_ERR_PROTOCOL, "malformed GetManagedObjects "
                                                "reply from BlueZ: %s",
                            strerror(-r)));
    return;
  }
  r = bk_gatt_services_finish(t.s);
  if (r < 0) {
    bleak_gatt_services_unref(t.s);
    connect_fail(z, r);
    return;
  }
  if (z->mtu < 23)
    z->mtu = 23;
  bk_gatt_services_set_mtu(t.s, z->mtu);
  bk_client_set_services(z->c, t.s);
  if (bk_client_options(z->c)->pair) {
    z->ph = PH_PAIR;
    bk_client_pairing(z->c);
    pair_for_connect(z);
    return;
  }
  connect_done(z);
}

static void start_services_lookup(bz_client *z) {
  z->ph = PH_SERVICES;
  int r = simple_call(z, "/", "org.freedesktop.DBus.ObjectManager",
                      "GetManagedObjects", false, 0, on_services_objects, NULL,
                      &z->connect_call);
  if (r < 0)
    connect_fail(z, r);
}

static void on_connect_reply(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  z->connect_call = NULL;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  if (e && strcmp(e->name, "org.bluez.Error.AlreadyConnected") != 0) {
    /* The core tries again when it is transient (bz_transient). */
    connect_fail(z, bk_bus_error(e, "Connect"));
    return;
  }
  z->connected = true;
  bk_client_link_up(z->c);
  if (z->services_resolved) {
    start_services_lookup(z);
  } else {
    z->ph = PH_RESOLVE; /* PropertiesChanged(ServicesResolved) continues */
  }
}

static void start_connect_call(bz_client *z) {
  z->ph = PH_CONNECT;
  int r = simple_call(z, z->dev_path, DEVICE_IFACE, "Connect", false,
                      remaining_usec(z), on_connect_reply, NULL,
                      &z->connect_call);
  if (r < 0)
    connect_fail(z, r);
}

/* Device1 properties: Connected, ServicesResolved, Name/Alias. */
static int read_device_props(bz_client *z, sd_bus_message *m, bool *saw_connected) {
  const char *name;
  int r = bz_dict_enter(m);
  while (r >= 0 && (r = bz_dict_next(m, &name)) > 0) {
    if (!strcmp(name, "Connected")) {
      r = bz_var_bool(m, &z->connected);
      if (r > 0 && saw_connected)
        *saw_connected = true;
    } else if (!strcmp(name, "ServicesResolved")) {
      r = bz_var_bool(m, &z->services_resolved);
    } else if (!strcmp(name, "Paired")) {
      r = bz_var_bool(m, &z->paired);
    } else if (!strcmp(name, "Name") || (!strcmp(name, "Alias") && !z->name[0])) {
      const char *s = NULL;
      r = bz_var_str(m, &s);
      if (r > 0)
        snprintf(z->name, sizeof z->name, "%s", s);
    } else {
      r = bz_var_skip(m);
    }
    if (r >= 0)
      r = bz_dict_entry_end(m);
  }
  return r < 0 ? r : bz_dict_exit(m);
}

typedef struct lookup_ctx {
  bz_client *z;
  bool adapter_found;
  bool device_found;
  char first_adapter[64];
} lookup_ctx;

static int on_lookup_object(const char *path, const char *iface,
                            sd_bus_message *m, void *user) {
  lookup_ctx *l = user;
  if (!strcmp(iface, ADAPTER_IFACE) && !l->first_adapter[0] &&
      strlen(path) < sizeof l->first_adapter)
    snprintf(l->first_adapter, sizeof l->first_adapter, "%s", path);
  if (!strcmp(iface, ADAPTER_IFACE) && !strcmp(path, l->z->adapter_path))
    l->adapter_found = true;
  if (!strcmp(iface, DEVICE_IFACE) && !strcmp(path, l->z->dev_path)) {
    l->device_found = true;
    return read_device_props(l->z, m, NULL);
  }
  return bz_skip_dict(m);
}

static void set_paths(bz_client *z, const char *adapter_path) {
  char addr[18];
  snprintf(addr, sizeof addr, "%s", bk_client_address(z->c));
  for (char *p = addr; *p; p++)
    if (*p == ':')
      *p = '_';
  snprintf(z->adapter_path, sizeof z->adapter_path, "%s", adapter_path);
  snprintf(z->dev_path, sizeof z->dev_path, "%s/dev_%s", adapter_path, addr);
}

static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *e);

static int install_device_match(bz_client *z) {
  char rule[512];
  sd_bus_slot_unref(z->props_match);
  z->props_match = NULL;
  snprintf(rule, sizeof rule,
           "type='signal',sender='" BLUEZ "',interface='" PROPS_IFACE
           "',member='PropertiesChanged',path_namespace='%s'",
           z->dev_path);
  int r = sd_bus_add_match_async(bk_bus_sd(z->bus), &z->props_match, rule,
                                 on_props_changed, NULL, z);
  bk_bus_kick(z->bus);
  return r < 0 ? bk_fail(BLEAK_ERR_BACKEND, "AddMatch: %s", strerror(-r)) : 0;
}

static void on_lookup(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  if (connect_reply(z, reply, "GetManagedObjects") < 0)
    return;
  lookup_ctx l = {.z = z};
  if (bz_walk_objects(reply, on_lookup_object, &l) < 0) {
    connect_fail(z, bk_fail(BLEAK_ERR_PROTOCOL, "malformed reply from BlueZ"));
    return;
  }
  const char *want = bk_client_options(z->c)->adapter;
  if (!want) {
    if (!l.first_adapter[0]) {
      connect_fail(z, bk_fail(BLEAK_ERR_NO_BACKEND, "BlueZ has no adapter"));
      return;
    }
    set_paths(z, l.first_adapter);
    /* Walk again for the device under the adapter we now know. */
    lookup_ctx l2 = {.z = z};
    sd_bus_message_rewind(reply, 1);
    bz_walk_objects(reply, on_lookup_object, &l2);
    l = l2;
    l.adapter_found = true;
  }
  if (!l.adapter_found) {
    connect_fail(z, bk_fail(BLEAK_ERR_NO_BACKEND, "BlueZ has no adapter %s",
                            z->adapter_path));
    return;
  }
  if (install_device_match(z) < 0) {
    connect_fail(z, BLEAK_ERR_BACKEND);
    return;
  }
  if (!l.device_found) {
    /* BlueZ has no object for it: the core scans until it has (it then
     * calls bz_connect_found). */
    z->ph = PH_SEARCH;
    bk_connect_search(z->connect_op);
  } else if (z->connected && z->services_resolved) {
    bk_client_link_up(z->c);
    start_services_lookup(z);
  } else {
    start_connect_call(z);
  }
}

/* The core's search saw the device: BlueZ has its object now. */
static int bz_connect_found(bleak_client *c, bk_op *op) {
  bz_client *z = Z(c);
  if (z->ph != PH_SEARCH || op != z->connect_op)
    return bk_fail(BLEAK_ERR_STATE, "no connect waits for its device");
  start_connect_call(z);
  return 0;
}

/* BlueZ's failures of a connect worth another try: org.bluez.Error.Failed
 * (le-connection-abort-by-local, "Software caused connection abort": the
 * link did not come up; BlueZ 5.66 often fails the first connect right
 * after a scan, tests/vm/README.md), InProgress (bluetoothd busy with
 * another connect), and a link that is gone before it was usable. */
static bool bz_transient(int err) {
  return err == BLEAK_ERR_BACKEND || err == BLEAK_ERR_BUSY || err == BLEAK_ERR_NOT_CONNECTED;
}

static int start_connect(bz_client *z, bk_op *op) {
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
    set_paths(z, path);
  }
  return simple_call(z, "/", "org.freedesktop.DBus.ObjectManager",
                     "GetManagedObjects", false, 0, on_lookup, NULL,
                     &z->connect_call);
}

/* ---- signals ---- */

static void release_acquired(bz_client *z, const bleak_gatt_characteristic *ch);

static void writers_release(bz_client *z);

static void link_lost(bz_client *z, int reason) {
  if (z->ph == PH_IDLE && !z->connected && bk_client_state(z->c) == BK_CONN_DISCONNECTED)
    return; /* no link, no connect: nothing of ours */
  release_acquired(z, NULL);
  writers_release(z);
  bz_wq_clear(&z->wq);
  z->connected = z->services_resolved = false;
  if (z->connect_op) {
    /* Before our Connect() succeeded this is the previous link going away
     * (BlueZ takes ~2 s to drop one): not ours to fail on. */
    if (z->ph == PH_LOOKUP || z->ph == PH_SEARCH || z->ph == PH_CONNECT)
      return;
    connect_fail(z, bk_fail(BLEAK_ERR_DISCONNECTED,
                            "the link dropped while connecting"));
    return;
  }
  z->ph = PH_IDLE;
  bk_client_disconnected(z->c, reason);
}

static void on_value(bz_client *z, const char *path, sd_bus_message *m) {
  uint16_t h[3];
  bleak_gatt_services *s = bleak_client_services(z->c);
  if (!s || parse_gatt_path(z->dev_path, path, h) != 2)
    return;
  const bleak_gatt_characteristic *ch =
      bleak_gatt_services_get_characteristic_by_handle(s, h[1]);
  const char *name;
  int r = bz_dict_enter(m);
  while (r >= 0 && (r = bz_dict_next(m, &name)) > 0) {
    if (!strcmp(name, "Value") && ch) {
      const void *data = NULL;
      size_t len = 0;
      r = bz_var_bytes(m, &data, &len);
      if (r > 0)
        bk_client_notify(z->c, ch, data, len);
    } else {
      r = bz_var_skip(m);
    }
    if (r >= 0)
      r = bz_dict_entry_end(m);
  }
}

static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
  (void)e;
  bz_client *z = userdata;
  const char *iface = NULL, *path = sd_bus_message_get_path(m);
  if (!path || sd_bus_message_read(m, "s", &iface) < 0)
    return 0;
  if (!strcmp(iface, CHRC_IFACE)) {
    on_value(z, path, m);
    return 0;
  }
  if (strcmp(iface, DEVICE_IFACE) != 0 || strcmp(path, z->dev_path) != 0)
    return 0;
  bool was_connected = z->connected, saw_connected = false;
  if (read_device_props(z, m, &saw_connected) < 0)
    return 0;
  if (saw_connected && was_connected && !z->connected) {
    link_lost(z, 0);
    return 0;
  }
  if (z->ph == PH_RESOLVE && z->services_resolved)
    start_services_lookup(z);
  return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
  (void)e;
  bz_client *z = userdata;
  const char *name, *old_owner, *new_owner;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
      strcmp(name, BLUEZ) != 0 || *new_owner)
    return 0;
  BK_WARN(LOG_MOD, "bluetoothd left the bus");
  bz_call_drop_all(&z->calls);
  release_acquired(z, NULL);
  writers_release(z);
  z->connect_call = NULL;
  if (z->connect_op) {
    connect_fail(z, bk_fail(BLEAK_ERR_NO_BACKEND, "bluetoothd went away"));
    return 0;
  }
  if (z->connected || z->ph != PH_IDLE || bk_client_state(z->c) != BK_CONN_DISCONNECTED) {
    z->connected = z->services_resolved = false;
    z->ph = PH_IDLE;
    bk_client_disconnected(z->c, BLEAK_ERR_NO_BACKEND);
  }
  return 0;
}

/* ---- attribute operations ---- */

static void next_queued_write(bz_client *z);

static bz_op *S(bk_op *op) { return bk_op_state(op); }

static void on_op_reply(void *owner, void *data, sd_bus_message *reply) {
  bk_op *op = data;
  S(op)->call = NULL;
  if (S(op) == ((bz_client *)owner)->wq.inflight) {
    /* The next write goes out before this one's callback runs, so a write
     * the callback asks for queues behind those already waiting. */
    bz_wq_finished(&((bz_client *)owner)->wq);
    next_queued_write(owner);
  }
  static const char *const what[] = {
      [BK_OP_READ_CHAR] = "ReadValue", [BK_OP_WRITE_CHAR] = "WriteValue",
      [BK_OP_START_NOTIFY] = "StartNotify", [BK_OP_STOP_NOTIFY] = "StopNotify",
      [BK_OP_READ_DESC] = "ReadValue", [BK_OP_WRITE_DESC] = "WriteValue",
      [BK_OP_PAIR] = "Pair", [BK_OP_UNPAIR] = "RemoveDevice",
      [BK_OP_DISCONNECT] = "Disconnect", [BK_OP_CONNECT] = "Connect"};
  int err = bk_bus_reply_error(reply, what[op->kind]);
  if (op->kind == BK_OP_PAIR && err < 0 &&
      !strcmp(sd_bus_message_get_error(reply)->name, "org.bluez.Error.AlreadyExists"))
    err = 0; /* paired already */
  if (err == 0 && (op->kind == BK_OP_READ_CHAR || op->kind == BK_OP_READ_DESC)) {
    const void *data_ = NULL;
    size_t len = 0;
    int r = sd_bus_message_read_array(reply, 'y', &data_, &len);
    if (r < 0 || len > BLEAK_MAX_ATTR_VALUE) {
      bk_op_done(op, bk_fail(BLEAK_ERR_PROTOCOL, "bad ReadValue reply"));
      return;
    }
    bk_op_done_read(op, 0, data_, len);
    return;
  }
  bz_client *z = owner;
  if (op->kind == BK_OP_DISCONNECT) {
    /* Success is reported by the Connected=false signal (link_lost); a
     * failure here, or a device that was not connected, ends it now. */
    if (err < 0 && err != BLEAK_ERR_NOT_CONNECTED)
      bk_op_done(op, err);
    else if (!z->connected)
      bk_client_disconnected(z->c, 0);
    return;
  }
  if (op->kind == BK_OP_UNPAIR && err == 0 && z->connected) {
    /* RemoveDevice also drops the link, and the device object with it. */
    bk_op_done(op, 0);
    link_lost(z, 0);
    return;
  }
  bk_op_done(op, err);
}

/* A no-argument method call whose reply completes @p op. */
static int op_call(bz_client *z, bk_op *op, const char *path, const char *iface,
                   const char *member, uint64_t timeout_usec) {
  return simple_call(z, path, iface, member, false, timeout_usec, on_op_reply,
                     op, &S(op)->call);
}

static int send_op(bz_client *z, bk_op *op, sd_bus_message *m) {
  int r = bz_call_send(z->bus, &z->calls, m, 0, on_op_reply, z, op, &S(op)->call);
  sd_bus_message_unref(m);
  return r;
}

static int start_value_call(bz_client *z, bk_op *op, const char *path,
                            const char *iface, bool write) {
  bool serial = write && (op->kind == BK_OP_WRITE_DESC || op->with_response);
  if (serial && S(op) != z->wq.inflight && !bz_wq_admit(&z->wq, S(op), path, iface))
    return 0; /* queued: starts when its turn comes */
  sd_bus_message *m = NULL;
  int r = new_call(z, path, iface, write ? "WriteValue" : "ReadValue", &m);
  if (r < 0) {
    if (serial)
      bz_wq_finished(&z->wq);
    return r;
  }
  if (write)
    r = sd_bus_message_append_array(m, 'y', op->data ? op->data : (const void *)"",
                                    op->len);
  if (r >= 0 && write && op->kind == BK_OP_WRITE_CHAR)
    /* Always name the type: then BlueZ sends it whatever the properties,
     * and a peer's refusal comes back as its ATT error (Bleak does too). */
    r = sd_bus_message_append(m, "a{sv}", 1, "type", "s",
                              op->with_response ? "request" : "command");
  else if (r >= 0)
    r = append_empty_dict(m);
  if (r < 0) {
    sd_bus_message_unref(m);
    if (serial)
      bz_wq_finished(&z->wq);
    return bk_fail(BLEAK_ERR_NO_MEMORY, "D-Bus message: %s", strerror(-r));
  }
  r = send_op(z, op, m);
  if (r < 0 && serial)
    bz_wq_finished(&z->wq);
  return r;
}

/* The write in flight is done: start the next waiting one. A write that
 * cannot start completes with its error and the one after it is tried. */
static void next_queued_write(bz_client *z) {
  bz_op *s;
  while ((s = bz_wq_pop(&z->wq)) != NULL) {
    int r = start_value_call(z, s->op, s->path, s->iface, true);
    if (r == 0)
      return;
    bk_op_done(s->op, r);
  }
}

static void release_acquired(bz_client *z, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&z->acquired), *next; n; n = next) {
    next = bk_qnode_next(n);
    acquired *a = BK_QUEUE_ENTRY(n, acquired, node);
    if (ch && a->ch != ch)
      continue;
    bk_queue_remove(&z->acquired, n);
    bleak_source_free(a->watch);
    close(a->fd); /* closing releases the acquisition in BlueZ */
    free(a);
  }
}

/* The stream of @p ch, or NULL. */
static acquired *acquired_find(const bz_client *z, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&z->acquired); n; n = bk_qnode_next(n)) {
    acquired *a = BK_QUEUE_ENTRY(n, acquired, node);
    if (a->ch == ch)
      return a;
  }
  return NULL;
}

static bool still_acquired(const bz_client *z, const acquired *a) {
  for (bk_qnode *n = bk_queue_head(&z->acquired); n; n = bk_qnode_next(n))
    if (BK_QUEUE_ENTRY(n, acquired, node) == a)
      return true;
  return false;
}

static void on_acquired_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  acquired *a = user;
  bz_client *z = a->z;
  const bleak_gatt_characteristic *ch = a->ch;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE + 8];
  /* A bounded number per wake-up, so one busy stream cannot starve others. */
  for (int i = 0; i < 64; i++) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      bk_client_notify(z->c, ch, buf, (size_t)n);
      if (!still_acquired(z, a))
        return; /* the callback stopped the stream */
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(revents & BLEAK_IO_ERROR))
      return;
    /* End of stream (the link dropped, or BlueZ released it). */
    BK_DEBUG(LOG_MOD, "notification stream closed by BlueZ");
    release_acquired(z, ch);
    return;
  }
}

static void on_acquire_notify(void *owner, void *data, sd_bus_message *reply) {
  bz_client *z = owner;
  bk_op *op = data;
  S(op)->call = NULL;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  if (e) {
    /* No fast path for this one (NotSupported, NotPermitted): StartNotify. */
    BK_DEBUG(LOG_MOD, "AcquireNotify refused (%s): StartNotify", e->name);
    char path[192];
    char_path(z, op->ch, path, sizeof path);
    int r = simple_call(z, path, CHRC_IFACE, "StartNotify", false, 0, on_op_reply, op,
                        &S(op)->call);
    if (r < 0)
      bk_op_done(op, r);
    return;
  }
  int fd = -1;
  uint16_t mtu = 0;
  acquired *a = calloc(1, sizeof *a);
  int r = sd_bus_message_read(reply, "hq", &fd, &mtu);
  if (!a || r < 0 || (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
    free(a);
    bk_op_done(op, bk_fail(BLEAK_ERR_PROTOCOL, "bad AcquireNotify reply"));
    return;
  }
  a->z = z;
  a->ch = op->ch;
  a->fd = fd;
  if (bleak_loop_add_io(bk_bus_loop(z->bus), fd, BLEAK_IO_READ, on_acquired_io, a,
                        &a->watch) < 0) {
    close(fd);
    free(a);
    bk_op_done(op, BLEAK_ERR_IO);
    return;
  }
  bk_queue_push(&z->acquired, &a->node);
  if (mtu > z->mtu)
    z->mtu = mtu;
  bk_op_done(op, 0);
}

static int start_value_call(bz_client *z, bk_op *op, const char *path,
                            const char *iface, bool write);

static void writers_release(bz_client *z) {
  bk_qnode *n;
  while ((n = bk_queue_pop(&z->writers)) != NULL) {
    writer *w = BK_QUEUE_ENTRY(n, writer, node);
    /* Queued ops are the core's: it aborts them (bz_abort), before this or
     * after it (the link lost), when they wait nowhere any more. */
    while (bk_queue_pop(&w->waiting))
      ;
    bz_call_drop(w->acquire_call); /* its reply must not find w */
    bleak_source_free(w->watch);
    if (w->fd >= 0)
      close(w->fd);
    free(w);
  }
}

static writer *writer_find(bz_client *z, const bleak_gatt_characteristic *ch) {
  for (bk_qnode *n = bk_queue_head(&z->writers); n; n = bk_qnode_next(n)) {
    writer *w = BK_QUEUE_ENTRY(n, writer, node);
    if (w->ch == ch)
      return w;
  }
  return NULL;
}

/* Forget @p s if it waits for its characteristic's socket; true when it did. */
static bool writer_unqueue(bz_client *z, bz_op *s) {
  if (!bk_qnode_linked(&s->writer_node))
    return false;
  /* A queued write is in its characteristic's writer (writers_release
   * unqueues them all). */
  bk_queue_remove(&writer_find(z, s->op->ch)->waiting, &s->writer_node);
  return true;
}

static void writer_by_dbus(bz_client *z, bk_op *op) {
  char path[192];
  char_path(z, op->ch, path, sizeof path);
  int r = start_value_call(z, op, path, CHRC_IFACE, true);
  if (r < 0)
    bk_op_done(op, r);
}

/* Send what is queued; stop at a full socket (watch for room). */
static void writer_drain(writer *w) {
  bk_qnode *node;
  while ((node = bk_queue_head(&w->waiting)) != NULL) {
    bk_op *op = BK_QUEUE_ENTRY(node, bz_op, writer_node)->op;
    if (w->refused) {
      bk_queue_remove(&w->waiting, node);
      writer_by_dbus(w->z, op);
      continue;
    }
    ssize_t n = send(w->fd, op->data ? op->data : (const uint8_t *)"", op->len,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      bleak_source_set_io_events(w->watch, BLEAK_IO_WRITE);
      return;
    }
    bk_queue_remove(&w->waiting, node);
    bk_op_done(op, n == (ssize_t)op->len ? 0
                   : bk_fail(BLEAK_ERR_IO, "write on the AcquireWrite socket failed"));
  }
  if (w->watch)
    bleak_source_set_io_events(w->watch, 0);
}

static void on_writer_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  (void)src;
  (void)fd;
  (void)revents;
  writer_drain(user);
}

static void on_acquire_write(void *owner, void *data, sd_bus_message *reply) {
  bz_client *z = owner;
  writer *w = data;
  w->acquire_call = NULL;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  int fd = -1;
  uint16_t mtu = 0;
  if (e || sd_bus_message_read(reply, "hq", &fd, &mtu) < 0 ||
      (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
      bleak_loop_add_io(bk_bus_loop(z->bus), fd, 0, on_writer_io, w, &w->watch) < 0) {
    BK_DEBUG(LOG_MOD, "AcquireWrite refused (%s): WriteValue", e ? e->name : "bad reply");
    if (fd >= 0)
      close(fd);
    w->refused = true;
  } else {
    w->fd = fd;
  }
  writer_drain(w);
}

/* A write without response: through the characteristic's socket. */
static int write_command(bz_client *z, bk_op *op) {
  writer *w = writer_find(z, op->ch);
  if (!w) {
    w = calloc(1, sizeof *w);
    if (!w)
      return BLEAK_ERR_NO_MEMORY;
    w->z = z;
    w->ch = op->ch;
    w->fd = -1;
    bk_queue_push(&z->writers, &w->node);
    char path[192];
    char_path(z, op->ch, path, sizeof path);
    sd_bus_message *m = NULL;
    int r = new_call(z, path, CHRC_IFACE, "AcquireWrite", &m);
    if (r == 0 && append_empty_dict(m) >= 0)
      r = bz_call_send(z->bus, &z->calls, m, 0, on_acquire_write, z, w, &w->acquire_call);
    else
      r = r < 0 ? r : BLEAK_ERR_NO_MEMORY;
    sd_bus_message_unref(m);
    if (r < 0)
      w->refused = true;
  }
  if (w->refused && bk_queue_empty(&w->waiting)) {
    char path[192];
    char_path(z, op->ch, path, sizeof path);
    return start_value_call(z, op, path, CHRC_IFACE, true);
  }
  bk_queue_push(&w->waiting, &S(op)->writer_node);
  if (w->fd >= 0 && bk_queue_head(&w->waiting) == &S(op)->writer_node)
    writer_drain(w);
  return 0;
}

/* Register our agent as bluetoothd's default before pairing. The calls go
 * out in order on one connection, so Pair() finds the agent in place. */
static int ensure_agent(bz_client *z) {
  if (z->agent_registered)
    return 0;
  int r = z->agent ? 0 : bz_agent_new(z->bus, z->c, &z->agent);
  sd_bus_message *m = NULL;
  if (r == 0)
    r = new_call(z, "/org/bluez", "org.bluez.AgentManager1", "RegisterAgent", &m);
  if (r == 0) {
    sd_bus_message_append(m, "os", bz_agent_path(z->agent), bz_agent_capability(z->agent));
    r = bz_call_send(z->bus, &z->calls, m, 0, ignore_reply, z, NULL, NULL);
    sd_bus_message_unref(m);
    m = NULL;
  }
  if (r == 0)
    r = new_call(z, "/org/bluez", "org.bluez.AgentManager1", "RequestDefaultAgent", &m);
  if (r == 0) {
    sd_bus_message_append(m, "o", bz_agent_path(z->agent));
    r = bz_call_send(z->bus, &z->calls, m, 0, ignore_reply, z, NULL, NULL);
    sd_bus_message_unref(m);
  }
  z->agent_registered = r == 0;
  return r;
}

static int bz_pairing_reply(bleak_client *c, bool accept, uint32_t passkey) {
  bz_client *z = Z(c);
  return z->agent ? bz_agent_reply(z->agent, accept, passkey)
                  : bk_fail(BLEAK_ERR_STATE, "no pairing request is pending");
}

static int bz_start(bleak_client *c, bk_op *op) {
  bz_client *z = Z(c);
  S(op)->op = op;
  char path[192];
  switch (op->kind) {
  case BK_OP_CONNECT:
    /* With a pairing callback the agent is there from the start: BlueZ
     * pairs by itself when a read or write needs encryption, and that
     * pairing must reach the callback too (as bluetoothctl's agent does). */
    if (bk_client_options(c)->pairing_callback && ensure_agent(z) < 0)
      BK_WARN(LOG_MOD, "%s: no pairing agent: %s", bleak_client_address(c),
             bleak_error_detail());
    return start_connect(z, op);
  case BK_OP_DISCONNECT:
    if (!z->connected) { /* nothing to take down */
      bk_client_disconnected(c, 0);
      return 0;
    }
    return op_call(z, op, z->dev_path, DEVICE_IFACE, "Disconnect", 0);
  case BK_OP_WRITE_CHAR:
    if (!op->with_response && getenv("BLEAK_BLUEZ_NO_ACQUIRE") == NULL)
      return write_command(z, op);
    BK_FALLTHROUGH; /* a write with response: WriteValue */
  case BK_OP_READ_CHAR:
    char_path(z, op->ch, path, sizeof path);
    return start_value_call(z, op, path, CHRC_IFACE, op->kind == BK_OP_WRITE_CHAR);
  case BK_OP_READ_DESC:
  case BK_OP_WRITE_DESC:
    desc_path(z, op->desc, path, sizeof path);
    return start_value_call(z, op, path, DESC_IFACE, op->kind == BK_OP_WRITE_DESC);
  case BK_OP_START_NOTIFY:
    char_path(z, op->ch, path, sizeof path);
    /* use_start_notify (Bleak 2.1) asks for StartNotify itself. */
    if (!op->indicate && !op->use_start_notify && getenv("BLEAK_BLUEZ_NO_ACQUIRE") == NULL) {
      /* The fast path: values come on a socket (BlueZ confirms
       * indications itself, but offers this for notify only). */
      sd_bus_message *m = NULL;
      int r = new_call(z, path, CHRC_IFACE, "AcquireNotify", &m);
      if (r < 0)
        return r;
      if ((r = append_empty_dict(m)) < 0) {
        sd_bus_message_unref(m);
        return BLEAK_ERR_NO_MEMORY;
      }
      r = bz_call_send(z->bus, &z->calls, m, 0, on_acquire_notify, z, op, &S(op)->call);
      sd_bus_message_unref(m);
      return r;
    }
    return op_call(z, op, path, CHRC_IFACE, "StartNotify", 0);
  case BK_OP_STOP_NOTIFY:
    if (acquired_find(z, op->ch)) {
      release_acquired(z, op->ch);
      bk_op_done(op, 0);
      return 0;
    }
    char_path(z, op->ch, path, sizeof path);
    return op_call(z, op, path, CHRC_IFACE,
                   op->kind == BK_OP_START_NOTIFY ? "StartNotify" : "StopNotify", 0);
  case BK_OP_PAIR: {
    if (z->paired) {
      bk_op_done(op, 0); /* the core defers it past this start() */
      return 0;
    }
    int r = ensure_agent(z);
    return r < 0 ? r : op_call(z, op, z->dev_path, DEVICE_IFACE, "Pair", 60u * 1000000u);
  }
  case BK_OP_UNPAIR: {
    sd_bus_message *m = NULL;
    int r = new_call(z, z->adapter_path[0] ? z->adapter_path : "/org/bluez/hci0",
                     ADAPTER_IFACE, "RemoveDevice", &m);
    if (r < 0)
      return r;
    sd_bus_message_append(m, "o", z->dev_path);
    return send_op(z, op, m);
  }
  }
  return BLEAK_ERR_NOT_SUPPORTED;
}

static void on_connect_pair(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_client *z = owner;
  z->connect_call = NULL;
  int err = bk_bus_reply_error(reply, "Pair");
  if (err < 0 &&
      strcmp(sd_bus_message_get_error(reply)->name, "org.bluez.Error.AlreadyExists"))
    connect_fail(z, err);
  else
    connect_done(z);
}

static void pair_for_connect(bz_client *z) {
  if (z->paired) {
    connect_done(z);
    return;
  }
  int r = ensure_agent(z);
  if (r == 0)
    r = simple_call(z, z->dev_path, DEVICE_IFACE, "Pair", false,
                      60u * 1000000u, on_connect_pair, NULL, &z->connect_call);
  if (r < 0)
    connect_fail(z, r);
}

static void bz_abort(bleak_client *c, bk_op *op) {
  bz_client *z = Z(c);
  if (op == z->connect_op) {
    /* A Connect() in flight goes on in bluetoothd after we stop waiting:
     * Disconnect() cancels it, or the next Connect() is "in progress". */
    bool linked = z->connected || z->ph == PH_CONNECT;
    connect_reset(z);
    z->ph = PH_IDLE;
    if (linked)
      simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0,
                  ignore_reply, NULL, NULL);
    return;
  }
  if (writer_unqueue(z, S(op)))
    return;
  if (bz_wq_remove(&z->wq, S(op)))
    return;
  bz_call_drop(S(op)->call);
  S(op)->call = NULL;
  if (S(op) == z->wq.inflight) {
    bz_wq_finished(&z->wq);
    next_queued_write(z);
  }
}

static int bz_mtu(const bleak_client *c) { return Z(c)->mtu ? Z(c)->mtu : 23; }

static const char *bz_name(const bleak_client *c) {
  return Z(c)->name[0] ? Z(c)->name : NULL;
}

static int bz_init(bleak_client *c, const bleak_client_options *opts,
                   void **state) {
  bz_client *z = calloc(1, sizeof *z);
  if (!z)
    return BLEAK_ERR_NO_MEMORY;
  z->c = c;
  z->mtu = 23;
  int r = bk_bus_get(opts->loop, &z->bus);
  if (r < 0) {
    free(z);
    return r;
  }
  r = sd_bus_match_signal_async(bk_bus_sd(z->bus), &z->owner_match,
                                "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "NameOwnerChanged",
                                on_owner_changed, NULL, z);
  if (r < 0) {
    bk_bus_unref(z->bus);
    free(z);
    return bk_fail(BLEAK_ERR_NO_BACKEND, "cannot watch bluetoothd: %s", strerror(-r));
  }
  bk_bus_kick(z->bus);
  /* Until connect settles it, the named or the usual default adapter. */
  char path[64];
  snprintf(path, sizeof path, "/org/bluez/%.20s",
           opts->adapter && !strchr(opts->adapter, '/') ? opts->adapter : "hci0");
  set_paths(z, path);
  *state = z;
  return 0;
}

static void bz_destroy(bleak_client *c, void *state) {
  bz_client *z = state;
  bool linked = z->connected || bk_client_state(c) == BK_CONN_CONNECTED;
  connect_reset(z);
  bz_call_drop_all(&z->calls);
  if (linked) /* free disconnects, without waiting */
    simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0,
                ignore_reply, NULL, NULL);
  bz_call_drop_all(&z->calls);
  if (z->agent_registered) {
    sd_bus_message *m = NULL;
    if (new_call(z, "/org/bluez", "org.bluez.AgentManager1", "UnregisterAgent", &m) == 0) {
      sd_bus_message_append(m, "o", bz_agent_path(z->agent));
      bz_call_send(z->bus, &z->calls, m, 0, ignore_reply, z, NULL, NULL);
      sd_bus_message_unref(m);
    }
    bz_call_drop_all(&z->calls);
  }
  bz_agent_free(z->agent);
  release_acquired(z, NULL);
  writers_release(z);
  sd_bus_flush(bk_bus_sd(z->bus));
  sd_bus_slot_unref(z->props_match);
  sd_bus_slot_unref(z->owner_match);
  bk_bus_unref(z->bus);
  free(z);
}

const bk_client_backend bk_bluez_client_backend = {
    .name = "bluez",
    .op_state_size = sizeof(bz_op),
    .connect_found = bz_connect_found,
    .transient = bz_transient,
    .scanner = &bk_bluez_scanner_backend,
    .init = bz_init,
    .destroy = bz_destroy,
    .start = bz_start,
    .abort = bz_abort,
    .mtu = bz_mtu,
    .device_name = bz_name,
    .pairing_reply = bz_pairing_reply,
};
