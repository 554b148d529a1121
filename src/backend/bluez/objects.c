/* SPDX-License-Identifier: MIT */
/* BlueZ's object tree, one per bus: see objects.h. */
#include "backend/bluez/objects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/call.h"
#include "backend/bluez/props.h"
#include "bleak/gatt.h"
#include "core/internal.h"

#define LOG_MOD "bluez"
#define BLUEZ "org.bluez"
#define OM_IFACE "org.freedesktop.DBus.ObjectManager"

struct bz_objects {
  bk_bus *bus; /* not a reference: the bus owns us */
  bz_object **objs; /* sorted by path */
  size_t n, cap;
  bool filled;  /* a GetManagedObjects reply is in */
  bool stale;   /* a change was lost (no memory): fill again on next wait */
  bz_call *fill_call;
  bz_call_list calls;
  unsigned fills;
  sd_bus_slot *added, *removed, *changed, *owner;
  bk_queue waits;          /* bz_objects_wait.node */
  bleak_source *deliver;   /* delivers the waits of a filled tree */
  int fill_status;         /* for the waits being delivered */
  bz_objects_listener **listeners;
  size_t n_listeners, cap_listeners;
  int notifying; /* > 0 while listeners run: removal leaves a hole */
};

/* ---- the sorted array ---- */

/* The index of @p path, or where it would go (*found false). */
static size_t locate(const bz_objects *o, const char *path, bool *found) {
  size_t lo = 0, hi = o->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(o->objs[mid]->path, path);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

static void object_free(bz_object *obj) {
  if (!obj)
    return;
  free(obj->path);
  free(obj->value);
  free(obj);
}

static bz_object *object_get(bz_objects *o, const char *path) {
  bool found;
  size_t i = locate(o, path, &found);
  if (found)
    return o->objs[i];
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 64;
    bz_object **a = realloc(o->objs, cap * sizeof *a);
    if (!a)
      return NULL;
    o->objs = a;
    o->cap = cap;
  }
  bz_object *obj = calloc(1, sizeof *obj);
  if (obj)
    obj->path = strdup(path);
  if (!obj || !obj->path) {
    object_free(obj);
    return NULL;
  }
  obj->primary = true;
  memmove(&o->objs[i + 1], &o->objs[i], (o->n - i) * sizeof *o->objs);
  o->objs[i] = obj;
  o->n++;
  return obj;
}

static void object_drop(bz_objects *o, const bz_object *obj) {
  bool found;
  size_t i = locate(o, obj->path, &found);
  if (!found)
    return;
  object_free(o->objs[i]);
  memmove(&o->objs[i], &o->objs[i + 1], (o->n - i - 1) * sizeof *o->objs);
  o->n--;
}

static void clear(bz_objects *o) {
  for (size_t i = 0; i < o->n; i++)
    object_free(o->objs[i]);
  o->n = 0;
}

/* ---- listeners ---- */

static bool under(const char *path, const char *prefix) {
  return !strncmp(path, prefix, strlen(prefix));
}

static void notify(bz_objects *o, const bz_object *obj, unsigned mask) {
  o->notifying++;
  /* By index: a listener may add listeners (the array may move). */
  for (size_t i = 0; i < o->n_listeners; i++) {
    bz_objects_listener *l = o->listeners[i];
    if (l && under(obj->path, l->prefix ? l->prefix : ""))
      l->changed(l->user, obj, mask);
  }
  if (--o->notifying == 0) {
    size_t k = 0;
    for (size_t i = 0; i < o->n_listeners; i++)
      if (o->listeners[i])
        o->listeners[k++] = o->listeners[i];
    o->n_listeners = k;
  }
}

int bz_objects_listen(bz_objects *o, bz_objects_listener *l) {
  if (o->n_listeners == o->cap_listeners) {
    size_t cap = o->cap_listeners ? o->cap_listeners * 2 : 8;
    bz_objects_listener **a = realloc(o->listeners, cap * sizeof *a);
    if (!a)
      return bk_fail(BLEAK_ERR_NO_MEMORY, "no memory for a listener");
    o->listeners = a;
    o->cap_listeners = cap;
  }
  o->listeners[o->n_listeners++] = l;
  return 0;
}

void bz_objects_unlisten(bz_objects *o, bz_objects_listener *l) {
  if (!o || !l)
    return;
  for (size_t i = 0; i < o->n_listeners; i++)
    if (o->listeners[i] == l) {
      if (o->notifying) {
        o->listeners[i] = NULL; /* compacted when the notification ends */
      } else {
        memmove(&o->listeners[i], &o->listeners[i + 1],
                (o->n_listeners - i - 1) * sizeof *o->listeners);
        o->n_listeners--;
      }
      return;
    }
}

/* ---- reading properties ---- */

static unsigned iface_bit(const char *iface) {
  if (!strcmp(iface, "org.bluez.Adapter1"))
    return BZ_IF_ADAPTER;
  if (!strcmp(iface, "org.bluez.Device1"))
    return BZ_IF_DEVICE;
  if (!strcmp(iface, "org.bluez.GattService1"))
    return BZ_IF_SERVICE;
  if (!strcmp(iface, "org.bluez.GattCharacteristic1"))
    return BZ_IF_CHRC;
  if (!strcmp(iface, "org.bluez.GattDescriptor1"))
    return BZ_IF_DESC;
  return 0;
}

static void add_flag(const char *flag, void *user) {
  *(uint32_t *)user |= bleak_gatt_property_from_name(flag);
}

static int read_str(sd_bus_message *m, char *dst, size_t cap, bool *changed) {
  const char *s = NULL;
  int r = bz_var_str(m, &s);
  if (r > 0 && strncmp(dst, s, cap) != 0) {
    snprintf(dst, cap, "%s", s);
    *changed = true;
  }
  return r;
}

static int read_bool(sd_bus_message *m, bool *dst, bool *changed) {
  bool v = false;
  int r = bz_var_bool(m, &v);
  if (r > 0 && v != *dst) {
    *dst = v;
    *changed = true;
  }
  return r;
}

/* One property of interface @p bit into @p obj; *mask gets what changed.
 * Returns < 0 on a malformed message, -ENOMEM when a value cannot be kept. */
static int read_prop(bz_object *obj, unsigned bit, const char *name, sd_bus_message *m,
                     unsigned *mask) {
  bool ch = false;
  int r;
  if ((bit & (BZ_IF_ADAPTER | BZ_IF_DEVICE)) && !strcmp(name, "Address")) {
    r = read_str(m, obj->address, sizeof obj->address, &ch);
    *mask |= ch ? BZ_CH_OTHER : 0;
  } else if ((bit & (BZ_IF_ADAPTER | BZ_IF_DEVICE)) && !strcmp(name, "Name")) {
    r = read_str(m, obj->name, sizeof obj->name, &ch);
    *mask |= ch ? BZ_CH_NAME : 0;
  } else if ((bit & (BZ_IF_ADAPTER | BZ_IF_DEVICE)) && !strcmp(name, "Alias")) {
    r = read_str(m, obj->alias, sizeof obj->alias, &ch);
    *mask |= ch ? BZ_CH_NAME : 0;
  } else if (bit == BZ_IF_ADAPTER && !strcmp(name, "Powered")) {
    r = read_bool(m, &obj->powered, &ch);
    *mask |= ch ? BZ_CH_POWERED : 0;
  } else if (bit == BZ_IF_ADAPTER && !strcmp(name, "Discovering")) {
    r = read_bool(m, &obj->discovering, &ch);
    *mask |= ch ? BZ_CH_DISCOVERING : 0;
  } else if (bit == BZ_IF_DEVICE && !strcmp(name, "Connected")) {
    r = read_bool(m, &obj->connected, &ch);
    /* Said again unchanged, it is news too: a link that went down and up
     * between two signals, as the client's state machine sees it. */
    *mask |= r > 0 ? BZ_CH_CONNECTED : 0;
  } else if (bit == BZ_IF_DEVICE && !strcmp(name, "ServicesResolved")) {
    r = read_bool(m, &obj->services_resolved, &ch);
    *mask |= r > 0 ? BZ_CH_RESOLVED : 0;
  } else if (bit == BZ_IF_DEVICE && !strcmp(name, "Paired")) {
    r = read_bool(m, &obj->paired, &ch);
    *mask |= ch ? BZ_CH_PAIRED : 0;
  } else if (bit == BZ_IF_DEVICE && !strcmp(name, "Bonded")) {
    r = read_bool(m, &obj->bonded, &ch);
    *mask |= ch ? BZ_CH_PAIRED : 0;
  } else if ((bit & (BZ_IF_SERVICE | BZ_IF_CHRC | BZ_IF_DESC)) && !strcmp(name, "UUID")) {
    const char *s = NULL;
    r = bz_var_str(m, &s);
    if (r > 0)
      obj->have_uuid = bleak_uuid_parse(s, &obj->uuid) == 0;
  } else if (bit == BZ_IF_SERVICE && !strcmp(name, "Primary")) {
    r = bz_var_bool(m, &obj->primary);
  } else if (bit == BZ_IF_CHRC && !strcmp(name, "Flags")) {
    uint32_t props = 0;
    r = bz_var_strv(m, add_flag, &props);
    if (r > 0)
      obj->props = props;
  } else if (bit == BZ_IF_CHRC && !strcmp(name, "MTU")) {
    uint16_t mtu = 0;
    r = bz_var_u16(m, &mtu);
    if (r > 0 && mtu != obj->mtu) {
      obj->mtu = mtu;
      *mask |= BZ_CH_MTU;
    }
  } else if ((bit & (BZ_IF_CHRC | BZ_IF_DESC)) && !strcmp(name, "Value")) {
    const void *data = NULL;
    size_t len = 0;
    r = bz_var_bytes(m, &data, &len);
    if (r > 0) {
      if (len > BZ_VALUE_MAX) {
        BK_WARN(LOG_MOD, "%s: a Value of %zu bytes is not kept", obj->path, len);
        obj->have_value = false;
        return r;
      }
      uint8_t *v = malloc(len ? len : 1);
      if (!v)
        return -ENOMEM;
      if (len)
        memcpy(v, data, len);
      free(obj->value);
      obj->value = v;
      obj->value_len = (uint16_t)len;
      obj->have_value = true;
      *mask |= BZ_CH_VALUE;
    }
  } else {
    r = bz_var_skip(m);
  }
  return r;
}

/* An a{sv} of interface @p bit into @p obj. */
static int read_props(bz_object *obj, unsigned bit, sd_bus_message *m, unsigned *mask) {
  const char *name;
  int err = 0;
  int r = bz_dict_enter(m);
  while (r >= 0 && (r = bz_dict_next(m, &name)) > 0) {
    r = read_prop(obj, bit, name, m, mask);
    if (r == -ENOMEM) {
      /* Keep reading the message; the change is lost: refill later. */
      err = r;
      r = bz_var_skip(m);
    }
    if (r >= 0)
      r = bz_dict_entry_end(m);
  }
  if (r >= 0)
    r = bz_dict_exit(m);
  return r < 0 ? r : err;
}

typedef struct apply_ctx {
  bz_objects *o;
  bool tell; /* notify listeners (signals; not the fill) */
  bool oom;
} apply_ctx;

static int on_interface(const char *path, const char *iface, sd_bus_message *m, void *user) {
  apply_ctx *a = user;
  unsigned bit = iface_bit(iface);
  if (!bit)
    return bz_skip_dict(m);
  bz_object *obj = object_get(a->o, path);
  if (!obj) {
    a->oom = true;
    return bz_skip_dict(m);
  }
  unsigned mask = (obj->ifaces & bit) ? 0 : BZ_CH_ADDED;
  obj->ifaces |= bit;
  int r = read_props(obj, bit, m, &mask);
  if (r == -ENOMEM) {
    a->oom = true;
    r = 0;
  }
  if (r >= 0 && a->tell && mask)
    notify(a->o, obj, mask);
  return r;
}

static void lost_change(bz_objects *o, const char *what) {
  BK_WARN(LOG_MOD, "no memory for BlueZ's %s: the object tree will be read again", what);
  o->stale = true;
}

/* ---- signals ---- */

static int on_added(sd_bus_message *m, void *user, sd_bus_error *e) {
  (void)e;
  bz_objects *o = user;
  const char *path = NULL;
  if (sd_bus_message_read(m, "o", &path) < 0)
    return 0;
  apply_ctx a = {.o = o, .tell = true};
  if (bz_walk_interfaces(m, path, on_interface, &a) < 0)
    BK_WARN(LOG_MOD, "malformed InterfacesAdded for %s: ignored", path);
  if (a.oom)
    lost_change(o, "InterfacesAdded");
  return 0;
}

static int on_removed(sd_bus_message *m, void *user, sd_bus_error *e) {
  (void)e;
  bz_objects *o = user;
  const char *path = NULL, *iface = NULL;
  if (sd_bus_message_read(m, "o", &path) < 0 || sd_bus_message_enter_container(m, 'a', "s") < 0)
    return 0;
  unsigned gone = 0;
  int r;
  while ((r = sd_bus_message_read(m, "s", &iface)) > 0)
    gone |= iface_bit(iface);
  bool found;
  size_t i = locate(o, path, &found);
  if (r < 0 || !found || !(o->objs[i]->ifaces & gone))
    return 0;
  bz_object *obj = o->objs[i];
  if (gone & BZ_IF_DEVICE)
    BK_DEBUG(LOG_MOD, "%s: removed", path);
  obj->ifaces &= ~gone;
  notify(o, obj, BZ_CH_REMOVED);
  if (!obj->ifaces)
    object_drop(o, obj);
  return 0;
}

static int on_changed(sd_bus_message *m, void *user, sd_bus_error *e) {
  (void)e;
  bz_objects *o = user;
  const char *path = sd_bus_message_get_path(m), *iface = NULL;
  if (!path || sd_bus_message_read(m, "s", &iface) < 0)
    return 0;
  unsigned bit = iface_bit(iface);
  bool found;
  size_t i = locate(o, path, &found);
  /* Properties of an object we never heard of: its InterfacesAdded was
   * before our match (the fill brings it). */
  if (!bit || !found || !(o->objs[i]->ifaces & bit))
    return 0;
  bz_object *obj = o->objs[i];
  unsigned mask = 0;
  int r = read_props(obj, bit, m, &mask);
  if (r == -ENOMEM)
    lost_change(o, "PropertiesChanged");
  if (r < 0 && r != -ENOMEM) {
    BK_WARN(LOG_MOD, "malformed PropertiesChanged for %s: ignored", path);
    return 0;
  }
  if (mask & (BZ_CH_CONNECTED | BZ_CH_RESOLVED))
    BK_DEBUG(LOG_MOD, "%s: Connected %d, ServicesResolved %d", path, obj->connected,
             obj->services_resolved);
  if (mask)
    notify(o, obj, mask);
  return 0;
}

static void fail_waits(bz_objects *o, int status);

static int on_owner(sd_bus_message *m, void *user, sd_bus_error *e) {
  (void)e;
  bz_objects *o = user;
  const char *name, *old_owner, *new_owner;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
      strcmp(name, BLUEZ) != 0 || !*old_owner)
    return 0;
  /* bluetoothd left (or was replaced): what we know is of a process that
   * is gone. Its successor's objects come by a new fill. */
  clear(o);
  o->filled = false;
  o->stale = false;
  return 0;
}

/* ---- the fill ---- */

static void on_deliver(bleak_source *src, void *user) {
  (void)src;
  bz_objects *o = user;
  if (o->fill_call)
    return; /* a newer fill is in flight: its reply delivers */
  int status = o->fill_status;
  bk_qnode *n;
  /* One at a time from the head: a wait's fn may cancel or add others. */
  while ((n = bk_queue_head(&o->waits)) != NULL) {
    bz_objects_wait *w = BK_QUEUE_ENTRY(n, bz_objects_wait, node);
    bk_queue_remove(&o->waits, n);
    w->queued = false;
    w->fn(w->user, status);
  }
}

static void fail_waits(bz_objects *o, int status) {
  o->fill_status = status;
  bleak_source_set_timer(o->deliver, 0);
}

static void on_fill(void *owner, void *data, sd_bus_message *reply) {
  (void)data;
  bz_objects *o = owner;
  o->fill_call = NULL;
  int r = bk_bus_reply_error(reply, "GetManagedObjects");
  if (r == 0) {
    clear(o);
    apply_ctx a = {.o = o};
    if (bz_walk_objects(reply, on_interface, &a) < 0) {
      clear(o);
      r = bk_fail(BLEAK_ERR_PROTOCOL, "malformed GetManagedObjects reply from BlueZ");
    } else if (a.oom) {
      clear(o);
      r = bk_fail(BLEAK_ERR_NO_MEMORY, "no memory for BlueZ's object tree");
    } else {
      o->filled = true;
      o->stale = false;
      BK_DEBUG(LOG_MOD, "object tree: %zu objects", o->n);
    }
  }
  fail_waits(o, r);
}

static int add_match(bz_objects *o, sd_bus_slot **slot, const char *rule,
                     sd_bus_message_handler_t fn) {
  if (*slot)
    return 0;
  return sd_bus_add_match_async(bk_bus_sd(o->bus), slot, rule, fn, NULL, o);
}

static int start_fill(bz_objects *o) {
  /* The matches first: a change after the reply was made then reaches us;
   * one before it is in the reply already. */
  int r = add_match(o, &o->added,
                    "type='signal',sender='" BLUEZ "',interface='" OM_IFACE
                    "',member='InterfacesAdded'",
                    on_added);
  if (r >= 0)
    r = add_match(o, &o->removed,
                  "type='signal',sender='" BLUEZ "',interface='" OM_IFACE
                  "',member='InterfacesRemoved'",
                  on_removed);
  if (r >= 0)
    r = add_match(o, &o->changed,
                  "type='signal',sender='" BLUEZ "',interface='org.freedesktop.DBus."
                  "Properties',member='PropertiesChanged',path_namespace='/org/bluez'",
                  on_changed);
  if (r >= 0)
    r = add_match(o, &o->owner,
                  "type='signal',sender='org.freedesktop.DBus',interface='org."
                  "freedesktop.DBus',member='NameOwnerChanged',arg0='" BLUEZ "'",
                  on_owner);
  if (r < 0)
    return bk_fail(BLEAK_ERR_BACKEND, "AddMatch: %s", strerror(-r));
  sd_bus_message *m = NULL;
  r = sd_bus_message_new_method_call(bk_bus_sd(o->bus), &m, BLUEZ, "/", OM_IFACE,
                                     "GetManagedObjects");
  if (r < 0)
    return bk_fail(BLEAK_ERR_NO_MEMORY, "D-Bus message: %s", strerror(-r));
  r = bz_call_send(o->bus, &o->calls, m, 0, on_fill, o, NULL, &o->fill_call);
  sd_bus_message_unref(m);
  if (r == 0) {
    o->fills++;
    bk_bus_kick(o->bus);
  }
  return r;
}

void bz_objects_await(bz_objects *o, bz_objects_wait *w, void (*fn)(void *user, int status),
                     void *user) {
  bz_objects_cancel(o, w);
  w->fn = fn;
  w->user = user;
  bk_queue_push(&o->waits, &w->node);
  w->queued = true;
  if (o->filled && !o->stale) {
    if (!o->fill_call)
      fail_waits(o, 0);
    return;
  }
  if (o->fill_call)
    return; /* its reply delivers */
  int r = start_fill(o);
  if (r < 0)
    fail_waits(o, r);
}

void bz_objects_cancel(bz_objects *o, bz_objects_wait *w) {
  if (o && w && w->queued) {
    bk_queue_remove(&o->waits, &w->node);
    w->queued = false;
  }
}

/* ---- lookups ---- */

const bz_object *bz_objects_find(const bz_objects *o, const char *path) {
  bool found;
  size_t i = locate(o, path, &found);
  return found ? o->objs[i] : NULL;
}

const bz_object *bz_objects_next(const bz_objects *o, const char *prefix,
                                 const bz_object *prev) {
  bool found;
  size_t i = locate(o, prev ? prev->path : prefix, &found);
  if (prev && found)
    i++;
  return i < o->n && under(o->objs[i]->path, prefix) ? o->objs[i] : NULL;
}

const bz_object *bz_objects_first_adapter(const bz_objects *o) {
  const bz_object *first = NULL;
  for (size_t i = 0; i < o->n; i++) {
    const bz_object *obj = o->objs[i];
    /* "hci10" sorts before "hci2" in path order: by length first. */
    if ((obj->ifaces & BZ_IF_ADAPTER) &&
        (!first || strlen(obj->path) < strlen(first->path) ||
         (strlen(obj->path) == strlen(first->path) && strcmp(obj->path, first->path) < 0)))
      first = obj;
  }
  return first;
}

unsigned bz_objects_fills(const bz_objects *o) { return o ? o->fills : 0; }

/* ---- life ---- */

bz_objects *bz_objects_of(bk_bus *bus) {
  bz_objects **slot = bk_bus_objects_slot(bus);
  if (*slot)
    return *slot;
  bz_objects *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  o->bus = bus;
  if (bleak_loop_add_timer(bk_bus_loop(bus), 0, on_deliver, o, &o->deliver) < 0) {
    free(o);
    return NULL;
  }
  bleak_source_stop_timer(o->deliver);
  *slot = o;
  return o;
}

void bz_objects_free(bz_objects *o) {
  if (!o)
    return;
  bz_call_drop_all(&o->calls);
  sd_bus_slot_unref(o->added);
  sd_bus_slot_unref(o->removed);
  sd_bus_slot_unref(o->changed);
  sd_bus_slot_unref(o->owner);
  bleak_source_free(o->deliver);
  clear(o);
  free(o->objs);
  free(o->listeners);
  free(o);
}
