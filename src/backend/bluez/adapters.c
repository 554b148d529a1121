/* SPDX-License-Identifier: MIT */
/*
 * bleak/adapter.h on bluez: the Adapter1 objects of BlueZ's object tree
 * (objects.h: no round trip when the loop has it already), and its Device1
 * objects that are connected or paired.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/bluez.h"
#include "backend/bluez/objects.h"
#include "core/adapter_backend.h"
#include "core/internal.h"

typedef struct bza {
  bk_adapter_req *req;
  bk_bus *bus;
  bz_objects *objs;
  bz_objects_wait wait;
} bza;

/* "/org/bluez/hci0" → "hci0". */
static const char *leaf(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static int list_devices(bza *h, const bleak_adapter_options *o) {
  char want[64] = "";
  if (o->adapter) {
    snprintf(want, sizeof want, "/org/bluez/%.20s/", o->adapter);
    want[strlen(want) - 1] = '\0';
    const bz_object *a = bz_objects_find(h->objs, want);
    if (!a || !(a->ifaces & BZ_IF_ADAPTER))
      return bk_fail(BLEAK_ERR_NO_ADAPTER, "BlueZ has no adapter %s", o->adapter);
    strcat(want, "/");
  }
  for (const bz_object *d = bz_objects_next(h->objs, want[0] ? want : "/org/bluez/", NULL); d;
       d = bz_objects_next(h->objs, want[0] ? want : "/org/bluez/", d)) {
    if (!(d->ifaces & BZ_IF_DEVICE) || !(d->connected || d->paired || d->bonded))
      continue;
    bleak_known_device k = {.connected = d->connected, .paired = d->paired,
                            .bonded = d->bonded};
    snprintf(k.address, sizeof k.address, "%s", d->address);
    snprintf(k.name, sizeof k.name, "%s", d->name[0] ? d->name : d->alias);
    /* The adapter is the path's parent: /org/bluez/hciN/dev_... */
    const char *p = d->path + strlen("/org/bluez/");
    const char *slash = strchr(p, '/');
    snprintf(k.adapter, sizeof k.adapter, "%.*s", slash ? (int)(slash - p) : 0, p);
    int e = bk_adapter_req_add_device(h->req, &k);
    if (e < 0)
      return e;
  }
  return 0;
}

static int list_adapters(bza *h) {
  for (const bz_object *a = bz_objects_next(h->objs, "/org/bluez/", NULL); a;
       a = bz_objects_next(h->objs, "/org/bluez/", a)) {
    if (!(a->ifaces & BZ_IF_ADAPTER))
      continue;
    bleak_adapter_info i = {.powered = a->powered};
    snprintf(i.name, sizeof i.name, "%s", leaf(a->path));
    snprintf(i.address, sizeof i.address, "%s", a->address);
    snprintf(i.alias, sizeof i.alias, "%s", a->alias);
    int e = bk_adapter_req_add(h->req, &i);
    if (e < 0)
      return e;
  }
  return 0;
}

static void on_tree(void *user, int status) {
  bza *h = user;
  if (status == 0)
    status = bk_adapter_req_devices(h->req) ? list_devices(h, bk_adapter_req_options(h->req))
                                            : list_adapters(h);
  bk_adapter_req_done(h->req, status);
}

static int bza_start(bk_adapter_req *r) {
  const bleak_adapter_options *o = bk_adapter_req_options(r);
  if (o->adapter && (strlen(o->adapter) > 20 || strchr(o->adapter, '/')))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bad adapter name \"%.20s\"", o->adapter);
  bza *h = calloc(1, sizeof *h);
  if (!h)
    return BLEAK_ERR_NO_MEMORY;
  h->req = r;
  int e = bk_bus_get(o->loop, &h->bus);
  if (e < 0) {
    free(h);
    return e;
  }
  h->objs = bz_objects_of(h->bus);
  if (!h->objs) {
    bk_bus_unref(h->bus);
    free(h);
    return BLEAK_ERR_NO_MEMORY;
  }
  *bk_adapter_req_state(r) = h;
  bz_objects_await(h->objs, &h->wait, on_tree, h);
  return 0;
}

static void bza_release(bk_adapter_req *r) {
  bza *h = *bk_adapter_req_state(r);
  if (!h)
    return;
  bz_objects_cancel(h->objs, &h->wait);
  bk_bus_unref(h->bus);
  free(h);
}

const bk_adapter_backend bk_bluez_adapter_backend = {.start = bza_start,
                                                      .release = bza_release};
