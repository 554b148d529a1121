/* SPDX-License-Identifier: MIT */
/*
 * The bluez client backend's state, shared by its files:
 *  - client.c: the operations, the agent, life and the backend table;
 *  - connect.c: the connect's phases on the object tree (objects.h) and
 *    the device's and its attributes' changes;
 *  - fd_paths.c: the fast paths on sockets (AcquireNotify, AcquireWrite).
 */
#ifndef BLEAK_BLUEZ_CLIENT_PRIV_H
#define BLEAK_BLUEZ_CLIENT_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/bluez/agent.h"
#include "backend/bluez/bus.h"
#include "backend/bluez/call.h"
#include "backend/bluez/objects.h"
#include "backend/bluez/op.h"
#include "backend/bluez/write_queue.h"
#include "core/backend.h"

#define BLUEZ "org.bluez"
#define DEVICE_IFACE "org.bluez.Device1"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define CHRC_IFACE "org.bluez.GattCharacteristic1"
#define DESC_IFACE "org.bluez.GattDescriptor1"
#define SERVICE_IFACE "org.bluez.GattService1"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"

typedef enum phase {
  PH_IDLE,      /* no connect running (connected or not: ask the core) */
  PH_LOOKUP,    /* waiting for the object tree (objects.h) */
  PH_SEARCH,    /* the core searches for the unknown device */
  PH_SETTLE,    /* the adapter's discovery stopping before Connect */
  PH_CONNECT,   /* Device1.Connect */
  PH_RESOLVE,   /* waiting for ServicesResolved */
  PH_SERVICES,  /* building the services from the object tree */
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
  bz_objects *objs;            /* the bus's object tree (not ours) */
  bz_objects_wait objs_wait;   /* the connect's wait for it */
  bz_objects_listener listener; /* changes under dev_path */
  bool listening;
  bz_objects_listener adapter_listener; /* PH_SETTLE: the adapter's Discovering */
  bleak_source *settle_timer;           /* PH_SETTLE's and PH_RESOLVE's bound */
  int cache_cleared_op;                 /* id of the connect op that cleared BlueZ's cache */
  int bluez_left_op;           /* id of the connect op bluetoothd left the bus during */
  uint64_t bluez_left_ms;      /* when (the loop's clock) */
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

static inline bz_client *Z(const bleak_client *c) { return bk_client_backend_state(c); }
static inline bz_op *S(bk_op *op) { return bk_op_state(op); }

/* client.c: D-Bus calls of the client (errors: bleak errors, detail set). */
int bz_new_call(bz_client *z, const char *path, const char *iface, const char *member,
                sd_bus_message **out);
int bz_append_empty_dict(sd_bus_message *m);
/* @p member with no arguments (or an empty a{sv} when @p dict). */
int bz_simple_call(bz_client *z, const char *path, const char *iface, const char *member,
                   bool dict, uint64_t timeout_usec, bz_reply_fn fn, void *data,
                   bz_call **out);
void bz_ignore_reply(void *owner, void *data, sd_bus_message *reply);
/* The reply that completes an operation (data: the bk_op). */
void bz_on_op_reply(void *owner, void *data, sd_bus_message *reply);
int bz_start_value_call(bz_client *z, bk_op *op, const char *path, const char *iface,
                        bool write);
void bz_char_path(const bz_client *z, const bleak_gatt_characteristic *ch, char *buf,
                  size_t cap);
void bz_desc_path(const bz_client *z, const bleak_gatt_descriptor *d, char *buf, size_t cap);
int bz_ensure_agent(bz_client *z);
/* The link is gone (reason: 0 or a bleak error): tell the core. */
void bz_link_lost(bz_client *z, int reason);

/* connect.c */
int bz_start_connect(bz_client *z, bk_op *op);
int bz_connect_found(bleak_client *c, bk_op *op);
bool bz_transient(int err);
/* Leave the connect's state (it completed or was aborted). */
void bz_connect_reset(bz_client *z);
void bz_connect_fail(bz_client *z, int err);
/* The adapter and device object paths from an adapter path. */
void bz_set_paths(bz_client *z, const char *adapter_path);
/* Stop hearing of the device's changes. */
void bz_connect_unlisten(bz_client *z);
/* Free what the connect keeps for its life (destroy). */
void bz_connect_free(bz_client *z);

/* fd_paths.c */
/* AcquireNotify's reply (data: the START_NOTIFY op). */
void bz_on_acquire_notify(void *owner, void *data, sd_bus_message *reply);
acquired *bz_acquired_find(const bz_client *z, const bleak_gatt_characteristic *ch);
/* Close @p ch's stream (NULL: all). */
void bz_release_acquired(bz_client *z, const bleak_gatt_characteristic *ch);
int bz_write_command(bz_client *z, bk_op *op);
void bz_writers_release(bz_client *z);
bool bz_writer_unqueue(bz_client *z, bz_op *s);

#endif /* BLEAK_BLUEZ_CLIENT_PRIV_H */
