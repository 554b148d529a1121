/* SPDX-License-Identifier: MIT */
/*
 * BlueZ's object tree as last seen, one per bus connection (so one per
 * loop), shared by every bluez client, scanner and adapter request on it,
 * as Bleak's BlueZManager is: filled by one GetManagedObjects, then kept by
 * InterfacesAdded, InterfacesRemoved and PropertiesChanged. A connect
 * looks its adapter and device up here, and builds the services from here
 * when ServicesResolved turns true, without another round trip.
 *
 * Only what the backend uses is kept, typed (a property of an unexpected
 * type is ignored, as props.h does). Signals are applied before any
 * listener hears of them, so a listener always reads the new state.
 *
 * When bluetoothd leaves the bus the tree is emptied and marked unfilled:
 * the next bz_objects_await() asks again (and reports NO_BLUETOOTHD while
 * nobody owns org.bluez). When a signal cannot be applied for lack of
 * memory the tree is marked stale and the next wait refills it.
 */
#ifndef BLEAK_BLUEZ_OBJECTS_H
#define BLEAK_BLUEZ_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/bluez/bus.h"
#include "bleak/uuid.h"
#include "core/queue.h"

#define BZ_VALUE_MAX 512 /* longer Values (a hostile peer's) are not kept */

/* The interfaces an object has (bz_object.ifaces). */
enum {
  BZ_IF_ADAPTER = 1u << 0, /* org.bluez.Adapter1 */
  BZ_IF_DEVICE = 1u << 1,  /* org.bluez.Device1 */
  BZ_IF_SERVICE = 1u << 2, /* org.bluez.GattService1 */
  BZ_IF_CHRC = 1u << 3,    /* org.bluez.GattCharacteristic1 */
  BZ_IF_DESC = 1u << 4,    /* org.bluez.GattDescriptor1 */
};

/* What changed (bz_objects_listener.changed's mask). */
enum {
  BZ_CH_ADDED = 1u << 0,     /* the object or one of its interfaces is new */
  BZ_CH_REMOVED = 1u << 1,   /* interfaces went away (obj->ifaces: what is left) */
  BZ_CH_CONNECTED = 1u << 2, /* Device1.Connected */
  BZ_CH_RESOLVED = 1u << 3,  /* Device1.ServicesResolved */
  BZ_CH_PAIRED = 1u << 4,    /* Device1.Paired or Bonded */
  BZ_CH_NAME = 1u << 5,      /* Name or Alias */
  BZ_CH_VALUE = 1u << 6,     /* GattCharacteristic1/GattDescriptor1.Value */
  BZ_CH_MTU = 1u << 7,       /* GattCharacteristic1.MTU */
  BZ_CH_POWERED = 1u << 8,   /* Adapter1.Powered */
  BZ_CH_DISCOVERING = 1u << 9, /* Adapter1.Discovering */
  BZ_CH_OTHER = 1u << 10,    /* anything else we keep */
};

typedef struct bz_object {
  char *path;
  unsigned ifaces;
  /* Adapter1 and Device1 */
  char address[18];
  char name[249];  /* Name ("" when none) */
  char alias[249]; /* Alias */
  bool powered;    /* Adapter1 */
  bool discovering; /* Adapter1 */
  bool connected, services_resolved, paired, bonded; /* Device1 */
  /* GattService1, GattCharacteristic1, GattDescriptor1 */
  bleak_uuid uuid;
  bool have_uuid;
  bool primary;   /* GattService1 (true unless BlueZ says otherwise) */
  uint32_t props; /* GattCharacteristic1.Flags as bleak_gatt_property bits */
  uint16_t mtu;   /* GattCharacteristic1.MTU (0: not said) */
  bool have_value;
  uint16_t value_len;
  uint8_t *value; /* Value as last seen (value_len bytes) */
} bz_object;

typedef struct bz_objects bz_objects;

/* Hears of every change under its path prefix ("" for all), after it was
 * applied. @p obj stays valid during the call only (after BZ_CH_REMOVED of
 * the last interface it is freed on return). Called from the bus's
 * dispatch (the loop). A listener may add or remove listeners, its own
 * included, from inside. */
typedef struct bz_objects_listener {
  const char *prefix; /* borrowed: keep it alive while added */
  void (*changed)(void *user, const bz_object *obj, unsigned mask);
  void *user;
} bz_objects_listener;

/* A wait for the tree to be filled (zeroed: idle). */
typedef struct bz_objects_wait {
  void (*fn)(void *user, int status); /* 0, or the bleak error of the fill */
  void *user;
  bk_qnode node;
  bool queued;
} bz_objects_wait;

/* The tree of @p bus (made on first use; the bus owns it and frees it with
 * itself). NULL when out of memory. */
bz_objects *bz_objects_of(bk_bus *bus);

/* Call @p fn(user, status) once, from the loop (never from inside this
 * call), when the tree is filled: at the next loop turn when it is already,
 * else when the one GetManagedObjects in flight answers (started now if
 * none is). Errors of the fill: those of bk_bus_error (NO_BLUETOOTHD when
 * nobody owns org.bluez, PERMISSION, ...), PROTOCOL (malformed reply),
 * NO_MEMORY. @p w must stay valid until then or until bz_objects_cancel. */
void bz_objects_await(bz_objects *o, bz_objects_wait *w,
                     void (*fn)(void *user, int status), void *user);
void bz_objects_cancel(bz_objects *o, bz_objects_wait *w);

/* Lookups on the filled tree (NULL: none). */
const bz_object *bz_objects_find(const bz_objects *o, const char *path);
/* The first object (path order) after @p prev (NULL: the first of all)
 * whose path starts with @p prefix. */
const bz_object *bz_objects_next(const bz_objects *o, const char *prefix,
                                 const bz_object *prev);
/* The first Adapter1 in path order ("/org/bluez/hci0" before hci1). */
const bz_object *bz_objects_first_adapter(const bz_objects *o);

/* Errors: NO_MEMORY. Remove: NULL-safe, idempotent. */
int bz_objects_listen(bz_objects *o, bz_objects_listener *l);
void bz_objects_unlisten(bz_objects *o, bz_objects_listener *l);

/* How many GetManagedObjects this tree has sent (the benchmark's and the
 * tests' check of "one per process"). */
unsigned bz_objects_fills(const bz_objects *o);

/* For bus.c: free the tree with its bus. */
void bz_objects_free(bz_objects *o);

#endif /* BLEAK_BLUEZ_OBJECTS_H */
