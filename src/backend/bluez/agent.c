/* SPDX-License-Identifier: MIT */
/*
 * The pairing agent of a bluez client: an org.bluez.Agent1 object that
 * bluetoothd asks during Pair(). Registered as the default agent while a
 * client pairs (bluetoothd asks the default agent for every pairing).
 * Without a user callback it accepts Just Works, confirmations and
 * authorizations, and refuses passkey entry; with one, the question goes to
 * the callback and the D-Bus reply waits for bleak_client_pairing_reply().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bluez/agent.h"
#include "core/internal.h"

#define LOG_MOD "agent"
#define AGENT_IFACE "org.bluez.Agent1"

struct bz_agent {
  bk_bus *bus;
  bleak_client *client;
  sd_bus_slot *vtable_slot;
  char path[64];
  bool registered;
  sd_bus_message *pending; /* the question waiting for an answer */
  bleak_pairing_request pending_kind;
};

static int ask(bz_agent *a, sd_bus_message *m, bleak_pairing_request kind,
               uint32_t passkey) {
  const bleak_client_options *o = bk_client_options(a->client);
  if (!o->pairing_callback) {
    if (kind == BLEAK_PAIRING_REQUEST_PASSKEY)
      return sd_bus_reply_method_errorf(m, "org.bluez.Error.Rejected",
                                        "no pairing callback to enter a passkey");
    if (kind == BLEAK_PAIRING_DISPLAY_PASSKEY) {
      BK_INFO(LOG_MOD, "passkey to type on the peripheral: %06u", passkey);
      return sd_bus_reply_method_return(m, NULL);
    }
    return sd_bus_reply_method_return(m, NULL); /* Just Works, confirm */
  }
  if (a->pending) {
    /* A new question replaces an unanswered one: bluetoothd gave up. */
    sd_bus_reply_method_errorf(a->pending, "org.bluez.Error.Canceled", "superseded");
    sd_bus_message_unref(a->pending);
  }
  a->pending = sd_bus_message_ref(m);
  a->pending_kind = kind;
  bk_client_ask_pairing(a->client, kind, passkey); /* from the loop */
  return 1; /* replied later */
}

static int m_release(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)u;
  (void)e;
  return sd_bus_reply_method_return(m, NULL);
}

static int m_cancel(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)e;
  bz_agent *a = u;
  if (a->pending) {
    sd_bus_message_unref(a->pending);
    a->pending = NULL;
  }
  return sd_bus_reply_method_return(m, NULL);
}

static int m_confirm(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)e;
  const char *dev;
  uint32_t passkey = 0;
  if (sd_bus_message_read(m, "ou", &dev, &passkey) < 0)
    return sd_bus_reply_method_errorf(m, "org.bluez.Error.Rejected", "bad arguments");
  return ask(u, m, BLEAK_PAIRING_CONFIRM, passkey);
}

static int m_authorize(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)e;
  return ask(u, m, BLEAK_PAIRING_AUTHORIZE, 0);
}

static int m_authorize_service(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)u;
  (void)e;
  return sd_bus_reply_method_return(m, NULL);
}

static int m_request_passkey(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)e;
  return ask(u, m, BLEAK_PAIRING_REQUEST_PASSKEY, 0);
}

static int m_display_passkey(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)e;
  bz_agent *a = u;
  const char *dev;
  uint32_t passkey = 0;
  uint16_t entered = 0;
  if (sd_bus_message_read(m, "ouq", &dev, &passkey, &entered) < 0)
    return sd_bus_reply_method_return(m, NULL);
  const bleak_client_options *o = bk_client_options(a->client);
  if (o->pairing_callback)
    bk_client_ask_pairing(a->client, BLEAK_PAIRING_DISPLAY_PASSKEY, passkey);
  return sd_bus_reply_method_return(m, NULL);
}

static int m_request_pin(sd_bus_message *m, void *u, sd_bus_error *e) {
  (void)u;
  (void)e;
  return sd_bus_reply_method_errorf(m, "org.bluez.Error.Rejected",
                                    "PIN codes are BR/EDR: not supported");
}

static const sd_bus_vtable agent_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Release", "", "", m_release, 0),
    SD_BUS_METHOD("Cancel", "", "", m_cancel, 0),
    SD_BUS_METHOD("RequestConfirmation", "ou", "", m_confirm, 0),
    SD_BUS_METHOD("RequestAuthorization", "o", "", m_authorize, 0),
    SD_BUS_METHOD("AuthorizeService", "os", "", m_authorize_service, 0),
    SD_BUS_METHOD("RequestPasskey", "o", "u", m_request_passkey, 0),
    SD_BUS_METHOD("DisplayPasskey", "ouq", "", m_display_passkey, 0),
    SD_BUS_METHOD("RequestPinCode", "o", "s", m_request_pin, 0),
    SD_BUS_VTABLE_END};

int bz_agent_new(bk_bus *bus, bleak_client *client, bz_agent **out) {
  static unsigned counter;
  bz_agent *a = calloc(1, sizeof *a);
  if (!a)
    return BLEAK_ERR_NO_MEMORY;
  a->bus = bus;
  a->client = client;
  snprintf(a->path, sizeof a->path, "/org/bleak/agent%u", ++counter);
  int r = sd_bus_add_object_vtable(bk_bus_sd(bus), &a->vtable_slot, a->path,
                                   AGENT_IFACE, agent_vtable, a);
  if (r < 0) {
    free(a);
    return bk_fail(BLEAK_ERR_BACKEND, "cannot export the agent: %s", strerror(-r));
  }
  *out = a;
  return 0;
}

const char *bz_agent_path(const bz_agent *a) { return a->path; }

/* The options' IO capability in BlueZ's words (org.bluez.AgentManager1). */
const char *bz_agent_capability(const bz_agent *a) {
  static const char *const names[] = {
      [BLEAK_IO_CAP_DISPLAY_ONLY] = "DisplayOnly",
      [BLEAK_IO_CAP_DISPLAY_YES_NO] = "DisplayYesNo",
      [BLEAK_IO_CAP_KEYBOARD_ONLY] = "KeyboardOnly",
      [BLEAK_IO_CAP_NO_INPUT_NO_OUTPUT] = "NoInputNoOutput",
      [BLEAK_IO_CAP_KEYBOARD_DISPLAY] = "KeyboardDisplay",
  };
  const bleak_client_options *o = bk_client_options(a->client);
  bleak_io_capability cap = o->pairing.io_capability;
  if (cap == BLEAK_IO_CAP_DEFAULT)
    cap = o->pairing_callback ? BLEAK_IO_CAP_KEYBOARD_DISPLAY : BLEAK_IO_CAP_NO_INPUT_NO_OUTPUT;
  return names[cap];
}

int bz_agent_reply(bz_agent *a, bool accept, uint32_t passkey) {
  if (!a || !a->pending)
    return bk_fail(BLEAK_ERR_STATE, "no pairing request is pending");
  if (a->pending_kind == BLEAK_PAIRING_REQUEST_PASSKEY && accept && passkey > 999999)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "a passkey has at most 6 digits");
  sd_bus_message *m = a->pending;
  a->pending = NULL;
  int r;
  if (!accept)
    r = sd_bus_reply_method_errorf(m, "org.bluez.Error.Rejected", "rejected by the user");
  else if (a->pending_kind == BLEAK_PAIRING_REQUEST_PASSKEY)
    r = sd_bus_reply_method_return(m, "u", passkey);
  else
    r = sd_bus_reply_method_return(m, NULL);
  sd_bus_message_unref(m);
  bk_bus_kick(a->bus);
  return r < 0 ? bk_fail(BLEAK_ERR_BACKEND, "agent reply: %s", strerror(-r)) : 0;
}

void bz_agent_free(bz_agent *a) {
  if (!a)
    return;
  if (a->pending) {
    sd_bus_reply_method_errorf(a->pending, "org.bluez.Error.Canceled", "client freed");
    sd_bus_message_unref(a->pending);
  }
  sd_bus_slot_unref(a->vtable_slot);
  free(a);
}
