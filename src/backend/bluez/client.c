/* SPDX-License-Identifier: MIT */
/*
 * The bluez client backend: BleakClient over BlueZ's D-Bus API. This file:
 * the operations (reads, writes, notifications, pairing, disconnect), the
 * pairing agent, life and the backend table. The connect is connect.c's,
 * the socket fast paths fd_paths.c's (client_priv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/bluez.h"
#include "backend/bluez/client_priv.h"
#include "backend/bluez/props.h"
#include "core/internal.h"

#define LOG_MOD "bluez"

/* ---- small helpers ---- */

int bz_new_call(bz_client *z, const char *path, const char *iface,
                    const char *member, sd_bus_message **out) {
  int r = sd_bus_message_new_method_call(bk_bus_sd(z->bus), out, BLUEZ, path,
                                         iface, member);
  return r < 0 ? bk_fail(BLEAK_ERR_NO_MEMORY, "D-Bus message: %s", strerror(-r)) : 0;
}

int bz_append_empty_dict(sd_bus_message *m) {
  int r = sd_bus_message_open_container(m, 'a', "{sv}");
  return r < 0 ? r : sd_bus_message_close_container(m);
}

/* Call @p member with no arguments (or an empty a{sv} when @p dict). */
int bz_simple_call(bz_client *z, const char *path, const char *iface,
                       const char *member, bool dict, uint64_t timeout_usec,
                       bz_reply_fn fn, void *data, bz_call **out) {
  sd_bus_message *m = NULL;
  int r = bz_new_call(z, path, iface, member, &m);
  if (r < 0)
    return r;
  if (dict && (r = bz_append_empty_dict(m)) < 0) {
    sd_bus_message_unref(m);
    return bk_fail(BLEAK_ERR_NO_MEMORY, "D-Bus message: %s", strerror(-r));
  }
  r = bz_call_send(z->bus, &z->calls, m, timeout_usec, fn, z, data, out);
  sd_bus_message_unref(m);
  return r;
}

void bz_ignore_reply(void *owner, void *data, sd_bus_message *reply) {
  (void)owner;
  (void)data;
  int r = bk_bus_reply_error(reply, "background call");
  if (r < 0)
    BK_DEBUG(LOG_MOD, "%s", bleak_error_detail());
}

void bz_char_path(const bz_client *z, const bleak_gatt_characteristic *ch,
                      char *buf, size_t cap) {
  snprintf(buf, cap, "%s/service%04x/char%04x", z->dev_path,
           bleak_gatt_service_handle(bleak_gatt_characteristic_service(ch)),
           bleak_gatt_characteristic_handle(ch));
}

void bz_desc_path(const bz_client *z, const bleak_gatt_descriptor *d,
                      char *buf, size_t cap) {
  const bleak_gatt_characteristic *ch = bleak_gatt_descriptor_characteristic(d);
  char cp[160];
  bz_char_path(z, ch, cp, sizeof cp);
  snprintf(buf, cap, "%s/desc%04x", cp, bleak_gatt_descriptor_handle(d));
}


/* ---- signals ---- */

void bz_link_lost(bz_client *z, int reason) {
  if (z->ph == PH_IDLE && !z->connected && bk_client_state(z->c) == BK_CONN_DISCONNECTED)
    return; /* no link, no connect: nothing of ours */
  if (!z->connect_op && bk_client_state(z->c) == BK_CONN_CONNECTING)
    return; /* between two attempts: a failed attempt's link going, no news */
  bz_release_acquired(z, NULL);
  bz_writers_release(z);
  bz_wq_clear(&z->wq);
  z->connected = z->services_resolved = false;
  if (z->connect_op) {
    /* Before our Connect() succeeded this is the previous link going away
     * (BlueZ takes ~2 s to drop one): not ours to fail on. */
    if (z->ph == PH_LOOKUP || z->ph == PH_SEARCH || z->ph == PH_SETTLE || z->ph == PH_CONNECT)
      return;
    bz_connect_fail(z, bk_fail(BLEAK_ERR_DISCONNECTED,
                            "the link dropped while connecting"));
    return;
  }
  z->ph = PH_IDLE;
  bk_client_disconnected(z->c, reason);
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
  bz_release_acquired(z, NULL);
  bz_writers_release(z);
  z->connect_call = NULL;
  if (z->connect_op) {
    /* Transient: a bluetoothd that restarts is waited for (connect.c). */
    z->bluez_left_op = z->connect_op->id;
    z->bluez_left_ms = bleak_loop_now_ms(bk_bus_loop(z->bus));
    bz_connect_fail(z, bk_fail(BLEAK_ERR_BACKEND, "bluetoothd left the bus"));
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

void bz_on_op_reply(void *owner, void *data, sd_bus_message *reply) {
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
    /* Success is reported by the Connected=false signal (bz_link_lost); a
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
    bz_link_lost(z, 0);
    return;
  }
  bk_op_done(op, err);
}

/* A no-argument method call whose reply completes @p op. */
static int op_call(bz_client *z, bk_op *op, const char *path, const char *iface,
                   const char *member, uint64_t timeout_usec) {
  return bz_simple_call(z, path, iface, member, false, timeout_usec, bz_on_op_reply,
                     op, &S(op)->call);
}

static int send_op(bz_client *z, bk_op *op, sd_bus_message *m) {
  int r = bz_call_send(z->bus, &z->calls, m, 0, bz_on_op_reply, z, op, &S(op)->call);
  sd_bus_message_unref(m);
  return r;
}

int bz_start_value_call(bz_client *z, bk_op *op, const char *path,
                            const char *iface, bool write) {
  bool serial = write && (op->kind == BK_OP_WRITE_DESC || op->with_response);
  if (serial && S(op) != z->wq.inflight && !bz_wq_admit(&z->wq, S(op), path, iface))
    return 0; /* queued: starts when its turn comes */
  sd_bus_message *m = NULL;
  int r = bz_new_call(z, path, iface, write ? "WriteValue" : "ReadValue", &m);
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
    r = bz_append_empty_dict(m);
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
    int r = bz_start_value_call(z, s->op, s->path, s->iface, true);
    if (r == 0)
      return;
    bk_op_done(s->op, r);
  }
}

/* Register our agent as bluetoothd's default before pairing. The calls go
 * out in order on one connection, so Pair() finds the agent in place. */
int bz_ensure_agent(bz_client *z) {
  if (z->agent_registered)
    return 0;
  int r = z->agent ? 0 : bz_agent_new(z->bus, z->c, &z->agent);
  sd_bus_message *m = NULL;
  if (r == 0)
    r = bz_new_call(z, "/org/bluez", "org.bluez.AgentManager1", "RegisterAgent", &m);
  if (r == 0) {
    sd_bus_message_append(m, "os", bz_agent_path(z->agent), bz_agent_capability(z->agent));
    r = bz_call_send(z->bus, &z->calls, m, 0, bz_ignore_reply, z, NULL, NULL);
    sd_bus_message_unref(m);
    m = NULL;
  }
  if (r == 0)
    r = bz_new_call(z, "/org/bluez", "org.bluez.AgentManager1", "RequestDefaultAgent", &m);
  if (r == 0) {
    sd_bus_message_append(m, "o", bz_agent_path(z->agent));
    r = bz_call_send(z->bus, &z->calls, m, 0, bz_ignore_reply, z, NULL, NULL);
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

/* use_cached: BlueZ's Value of @p path, when the tree has one. BlueZ
 * exports an empty Value for what it never read: that is no value (a read
 * of a value that is really empty then goes to the peer). */
static bool answer_cached(bz_client *z, bk_op *op, const char *path) {
  const bz_object *o = bz_objects_find(z->objs, path);
  if (!o || !o->have_value || !o->value_len)
    return false;
  bk_op_done_read(op, 0, o->value, o->value_len); /* delivered from the loop */
  return true;
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
    if (bk_client_options(c)->pairing_callback && bz_ensure_agent(z) < 0)
      BK_WARN(LOG_MOD, "%s: no pairing agent: %s", bleak_client_address(c),
             bleak_error_detail());
    return bz_start_connect(z, op);
  case BK_OP_DISCONNECT:
    if (!z->connected) { /* nothing to take down */
      bk_client_disconnected(c, 0);
      return 0;
    }
    return op_call(z, op, z->dev_path, DEVICE_IFACE, "Disconnect", 0);
  case BK_OP_WRITE_CHAR:
    if (!op->with_response && getenv("BLEAK_BLUEZ_NO_ACQUIRE") == NULL)
      return bz_write_command(z, op);
    BK_FALLTHROUGH; /* a write with response: WriteValue */
  case BK_OP_READ_CHAR:
    bz_char_path(z, op->ch, path, sizeof path);
    if (op->use_cached && answer_cached(z, op, path))
      return 0;
    return bz_start_value_call(z, op, path, CHRC_IFACE, op->kind == BK_OP_WRITE_CHAR);
  case BK_OP_READ_DESC:
  case BK_OP_WRITE_DESC:
    bz_desc_path(z, op->desc, path, sizeof path);
    if (op->kind == BK_OP_READ_DESC && op->use_cached && answer_cached(z, op, path))
      return 0;
    return bz_start_value_call(z, op, path, DESC_IFACE, op->kind == BK_OP_WRITE_DESC);
  case BK_OP_START_NOTIFY:
    bz_char_path(z, op->ch, path, sizeof path);
    /* use_start_notify (Bleak 2.1) asks for StartNotify itself. */
    if (!op->indicate && !op->use_start_notify && getenv("BLEAK_BLUEZ_NO_ACQUIRE") == NULL) {
      /* The fast path: values come on a socket (BlueZ confirms
       * indications itself, but offers this for notify only). */
      sd_bus_message *m = NULL;
      int r = bz_new_call(z, path, CHRC_IFACE, "AcquireNotify", &m);
      if (r < 0)
        return r;
      if ((r = bz_append_empty_dict(m)) < 0) {
        sd_bus_message_unref(m);
        return BLEAK_ERR_NO_MEMORY;
      }
      r = bz_call_send(z->bus, &z->calls, m, 0, bz_on_acquire_notify, z, op, &S(op)->call);
      sd_bus_message_unref(m);
      return r;
    }
    return op_call(z, op, path, CHRC_IFACE, "StartNotify", 0);
  case BK_OP_STOP_NOTIFY:
    if (bz_acquired_find(z, op->ch)) {
      bz_release_acquired(z, op->ch);
      bk_op_done(op, 0);
      return 0;
    }
    bz_char_path(z, op->ch, path, sizeof path);
    return op_call(z, op, path, CHRC_IFACE,
                   op->kind == BK_OP_START_NOTIFY ? "StartNotify" : "StopNotify", 0);
  case BK_OP_PAIR: {
    if (z->paired) {
      bk_op_done(op, 0); /* the core defers it past this start() */
      return 0;
    }
    int r = bz_ensure_agent(z);
    return r < 0 ? r : op_call(z, op, z->dev_path, DEVICE_IFACE, "Pair", 60u * 1000000u);
  }
  case BK_OP_UNPAIR: {
    sd_bus_message *m = NULL;
    int r = bz_new_call(z, z->adapter_path[0] ? z->adapter_path : "/org/bluez/hci0",
                     ADAPTER_IFACE, "RemoveDevice", &m);
    if (r < 0)
      return r;
    sd_bus_message_append(m, "o", z->dev_path);
    return send_op(z, op, m);
  }
  }
  return BLEAK_ERR_NOT_SUPPORTED;
}

static void bz_abort(bleak_client *c, bk_op *op) {
  bz_client *z = Z(c);
  if (op == z->connect_op) {
    /* A Connect() in flight goes on in bluetoothd after we stop waiting:
     * Disconnect() cancels it, or the next Connect() is "in progress". */
    bool linked = z->connected || z->ph == PH_CONNECT;
    bz_connect_reset(z);
    z->ph = PH_IDLE;
    if (linked)
      bz_simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0,
                  bz_ignore_reply, NULL, NULL);
    return;
  }
  if (bz_writer_unqueue(z, S(op)))
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
  z->objs = bz_objects_of(z->bus);
  if (!z->objs) {
    bk_bus_unref(z->bus);
    free(z);
    return BLEAK_ERR_NO_MEMORY;
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
  bz_set_paths(z, path);
  *state = z;
  return 0;
}

static void bz_destroy(bleak_client *c, void *state) {
  bz_client *z = state;
  bool linked = z->connected || bk_client_state(c) == BK_CONN_CONNECTED;
  bz_connect_reset(z);
  bz_connect_unlisten(z);
  bz_connect_free(z);
  bz_call_drop_all(&z->calls);
  if (linked) /* free disconnects, without waiting */
    bz_simple_call(z, z->dev_path, DEVICE_IFACE, "Disconnect", false, 0,
                bz_ignore_reply, NULL, NULL);
  bz_call_drop_all(&z->calls);
  if (z->agent_registered) {
    sd_bus_message *m = NULL;
    if (bz_new_call(z, "/org/bluez", "org.bluez.AgentManager1", "UnregisterAgent", &m) == 0) {
      sd_bus_message_append(m, "o", bz_agent_path(z->agent));
      bz_call_send(z->bus, &z->calls, m, 0, bz_ignore_reply, z, NULL, NULL);
      sd_bus_message_unref(m);
    }
    bz_call_drop_all(&z->calls);
  }
  bz_agent_free(z->agent);
  bz_release_acquired(z, NULL);
  bz_writers_release(z);
  sd_bus_flush(bk_bus_sd(z->bus));
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

