/* SPDX-License-Identifier: MIT */
/* The control socket's commands (docs/vctl.md, "The control socket"): each
 * checks its keys, then acts on the peripherals, the controller or through
 * the tool's action callback. See control.h. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "vctl/att_conn_priv.h"
#include "vctl/control_priv.h"
#include "vctl/fault_json.h"
#include "vctl/json_hex.h"

#define ATT_MAX_PDU 517 /* the largest ATT MTU */
#define FILE_MAX 4096   /* a path's bytes */

/* -- the keys -- */

/* Every key of the request is "cmd", "id" or one of @p known. */
static int check_keys(vctl_request *r, const char *const *known) {
  const char *key;
  json_t *v;
  json_object_foreach(r->obj, key, v) {
    bool ok = !strcmp(key, "cmd") || !strcmp(key, "id");
    for (size_t i = 0; !ok && known && known[i]; i++)
      ok = !strcmp(key, known[i]);
    if (!ok)
      return vctl_request_fail(r, "unknown key \"%.60s\"", key);
  }
  return 0;
}

/* An optional integer key in lo..hi (*out unchanged when absent). */
static int opt_int(vctl_request *r, const char *key, long long lo, long long hi,
                   long long *out) {
  json_t *v = json_object_get(r->obj, key);
  if (!v)
    return 0;
  if (!json_is_integer(v))
    return vctl_request_fail(r, "\"%s\": expected an integer", key);
  long long x = json_integer_value(v);
  if (x < lo || x > hi)
    return vctl_request_fail(r, "\"%s\": %lld is outside %lld..%lld", key, x, lo, hi);
  *out = x;
  return 0;
}

/* "peripheral": its index (default 0). */
static vctl_peripheral *peripheral(vctl_request *r, size_t *index) {
  vctl_control_hub *hub = r->s->hub;
  long long i = 0;
  if (!hub->n_periphs) {
    vctl_request_fail(r, "no peripherals");
    return NULL;
  }
  if (opt_int(r, "peripheral", 0, (long long)hub->n_periphs - 1, &i))
    return NULL;
  if (index)
    *index = (size_t)i;
  return hub->periphs[i];
}

/* "handle": N, or "uuid" (+ "nth"): a characteristic's value handle. */
static int characteristic(vctl_request *r, vctl_peripheral *p, uint16_t *handle) {
  json_t *u = json_object_get(r->obj, "uuid");
  bool has_handle = json_object_get(r->obj, "handle") != NULL;
  if (u && has_handle)
    return vctl_request_fail(r, "\"handle\" or \"uuid\", not both");
  if (!u && json_object_get(r->obj, "nth"))
    return vctl_request_fail(r, "\"nth\" goes with \"uuid\"");
  if (has_handle) {
    long long h = 0;
    if (opt_int(r, "handle", 1, 0xffff, &h))
      return -1;
    *handle = (uint16_t)h;
    return 0;
  }
  if (!u)
    return vctl_request_fail(r, "needs \"handle\" or \"uuid\"");
  if (!json_is_string(u))
    return vctl_request_fail(r, "\"uuid\": expected a string");
  long long nth = 0;
  if (opt_int(r, "nth", 0, 0xffff, &nth))
    return -1;
  *handle = vctl_peripheral_find_char(p, json_string_value(u), (unsigned)nth);
  if (!*handle)
    return vctl_request_fail(r, "\"uuid\": no characteristic %.40s (nth %lld)",
                             json_string_value(u), nth);
  return 0;
}

/* "value_hex": @p lo..@p cap bytes. */
static int value_hex(vctl_request *r, uint8_t *out, size_t lo, size_t cap, size_t *len) {
  json_t *v = json_object_get(r->obj, "value_hex");
  if (!v)
    return vctl_request_fail(r, "needs \"value_hex\"");
  char why[128];
  if (vctl_json_hex(v, out, cap, len, why, sizeof why))
    return vctl_request_fail(r, "\"value_hex\": %s", why);
  if (*len < lo)
    return vctl_request_fail(r, "\"value_hex\": fewer than %zu bytes", lo);
  return 0;
}

static int set_member(vctl_request *r, const char *key, json_t *v) {
  return json_object_set_new(r->result, key, v) ? vctl_request_fail(r, "out of memory") : 0;
}

static vctl_controller *controller(vctl_request *r) {
  if (!r->s->hub->ctl)
    vctl_request_fail(r, "no host connected");
  return r->s->hub->ctl;
}

/* -- the commands -- */

static int cmd_status(vctl_request *r) {
  if (check_keys(r, NULL))
    return -1;
  vctl_control_hub *hub = r->s->hub;
  json_t *list = json_array();
  if (!list || set_member(r, "peripherals", list))
    return -1;
  for (size_t i = 0; i < hub->n_periphs; i++) {
    const vctl_peripheral *p = hub->periphs[i];
    const uint8_t *a = p->adv.addr;
    char addr[18];
    snprintf(addr, sizeof addr, "%02X:%02X:%02X:%02X:%02X:%02X", a[5], a[4], a[3], a[2], a[1],
             a[0]);
    json_t *e = json_pack("{s:I,s:s,s:s,s:I,s:o}", "index", (json_int_t)i, "name", p->name,
                          "address", addr, "links", (json_int_t)p->n_conns, "faults",
                          vctl_faults_to_json(&p->faults));
    if (!e || json_array_append_new(list, e))
      return vctl_request_fail(r, "out of memory");
  }
  return set_member(r, "host_connected", json_boolean(hub->ctl != NULL));
}

static int set_or_notify(vctl_request *r, bool notify) {
  static const char *const keys[] = {"peripheral", "handle", "uuid", "nth", "value_hex", NULL};
  uint8_t v[VCTL_ATTR_MAX_LEN];
  size_t len;
  uint16_t h;
  vctl_peripheral *p;
  if (check_keys(r, keys) || !(p = peripheral(r, NULL)) || characteristic(r, p, &h) ||
      value_hex(r, v, 0, sizeof v, &len))
    return -1;
  if (vctl_peripheral_set_value(p, h, v, len, notify))
    return vctl_request_fail(r, "handle 0x%04x: not a characteristic value or descriptor", h);
  return set_member(r, "handle", json_integer(h));
}

static int cmd_set(vctl_request *r) { return set_or_notify(r, false); }
static int cmd_notify(vctl_request *r) { return set_or_notify(r, true); }

static int cmd_received(vctl_request *r) {
  if (check_keys(r, NULL))
    return -1;
  vctl_control_hub *hub = r->s->hub;
  json_t *counters = json_array();
  if (!counters || set_member(r, "counters", counters))
    return -1;
  for (size_t i = 0; i < hub->n_periphs; i++) {
    const vctl_peripheral *p = hub->periphs[i];
    for (size_t k = 0; k < p->n_behaviours; k++) {
      const vctl_behaviour *b = &p->behaviours[k];
      if (b->kind != VCTL_BHV_COUNTER)
        continue;
      json_t *e = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "peripheral", (json_int_t)i, "handle",
                            (json_int_t)b->handle, "packets", (json_int_t)b->stats.packets,
                            "bytes", (json_int_t)b->stats.bytes, "lost",
                            (json_int_t)b->stats.lost, "reordered",
                            (json_int_t)b->stats.reordered);
      if (!e || json_array_append_new(counters, e))
        return vctl_request_fail(r, "out of memory");
    }
  }
  return vctl_control_log_take(hub, r->result) ? vctl_request_fail(r, "out of memory") : 0;
}

static int cmd_fault(vctl_request *r) {
  static const char *const skip[] = {"cmd", "id", "peripheral", NULL};
  vctl_peripheral *p = peripheral(r, NULL);
  if (!p)
    return -1;
  vctl_att_faults f = p->faults;
  /* The malformed answer is a one-off: not armed again by a later
   * "fault" that does not give it. */
  f.malformed_len = 0;
  char why[256];
  const char *key;
  if (vctl_faults_from_json(r->obj, p, skip, &f, why, sizeof why, &key))
    return key ? vctl_request_fail(r, "\"%.60s\": %s", key, why) : vctl_request_fail(r, "%s", why);
  vctl_peripheral_set_faults(p, &f);
  return set_member(r, "faults", vctl_faults_to_json(&p->faults));
}

static int cmd_clear(vctl_request *r) {
  static const char *const keys[] = {"peripheral", NULL};
  vctl_peripheral *p;
  if (check_keys(r, keys) || !(p = peripheral(r, NULL)))
    return -1;
  vctl_peripheral_set_faults(p, NULL);
  return 0;
}

static int cmd_send_raw(vctl_request *r) {
  static const char *const keys[] = {"peripheral", "value_hex", NULL};
  uint8_t v[ATT_MAX_PDU];
  size_t len;
  vctl_peripheral *p;
  if (check_keys(r, keys) || !(p = peripheral(r, NULL)) || value_hex(r, v, 1, sizeof v, &len))
    return -1;
  size_t n = p->n_conns;
  for (size_t i = 0; i < p->n_conns; i++)
    vctl_att_conn_send_raw(p->conns[i], v, len, r->now);
  return set_member(r, "links", json_integer((json_int_t)n));
}

static int cmd_disconnect(vctl_request *r) {
  static const char *const keys[] = {"peripheral", "reason", NULL};
  long long reason = 0x13;
  size_t i;
  if (check_keys(r, keys) || !peripheral(r, &i) || opt_int(r, "reason", 1, 255, &reason))
    return -1;
  vctl_controller *ctl = r->s->hub->ctl;
  int n = ctl ? vctl_controller_disconnect_peripheral(ctl, i, (uint8_t)reason, r->now) : 0;
  return set_member(r, "links", json_integer(n > 0 ? n : 0));
}

static int cmd_service_changed(vctl_request *r) {
  static const char *const keys[] = {"peripheral", "file", NULL};
  vctl_peripheral *p;
  if (check_keys(r, keys) || !(p = peripheral(r, NULL)))
    return -1;
  json_t *f = json_object_get(r->obj, "file");
  if (!f)
    return vctl_request_fail(r, "needs \"file\"");
  if (!json_is_string(f) || !json_string_length(f) || json_string_length(f) > FILE_MAX ||
      strlen(json_string_value(f)) != json_string_length(f))
    return vctl_request_fail(r, "\"file\": expected a path (1..%d bytes, no NUL)", FILE_MAX);
  vctl_control_action a = {.kind = VCTL_CONTROL_SERVICE_CHANGED, .file = json_string_value(f)};
  if (r->s->act(r->s->user, &a)) {
    vctl_peripherals_free(a.list, a.count);
    a.err[sizeof a.err - 1] = 0;
    return vctl_request_fail(r, "%s", a.err[0] ? a.err : "the file was not loaded");
  }
  int rc = 0;
  if (!a.count || !a.list)
    rc = vctl_request_fail(r, "\"file\": no peripheral in it");
  else if (vctl_peripheral_replace_db(p, a.list[0]))
    rc = vctl_request_fail(r, "out of memory");
  vctl_peripherals_free(a.list, a.count); /* with the old database */
  return rc;
}

static int cmd_hardware_error(vctl_request *r) {
  static const char *const keys[] = {"code", NULL};
  long long code = 0;
  vctl_controller *ctl;
  if (check_keys(r, keys) || opt_int(r, "code", 0, 255, &code) || !(ctl = controller(r)))
    return -1;
  vctl_controller_hardware_error(ctl, (uint8_t)code, r->now);
  return 0;
}

static int cmd_reset(vctl_request *r) {
  vctl_controller *ctl;
  if (check_keys(r, NULL) || !(ctl = controller(r)))
    return -1;
  vctl_controller_lose_state(ctl, r->now);
  return 0;
}

static int cmd_disappear(vctl_request *r) {
  if (check_keys(r, NULL) || !controller(r))
    return -1;
  vctl_control_action a = {.kind = VCTL_CONTROL_DISAPPEAR};
  if (r->s->act(r->s->user, &a)) {
    a.err[sizeof a.err - 1] = 0;
    return vctl_request_fail(r, "%s", a.err[0] ? a.err : "the host's link stays");
  }
  return 0;
}

static const struct {
  const char *name;
  int (*run)(vctl_request *r);
} commands[] = {
    {"status", cmd_status},
    {"set", cmd_set},
    {"notify", cmd_notify},
    {"received", cmd_received},
    {"fault", cmd_fault},
    {"clear", cmd_clear},
    {"send_raw", cmd_send_raw},
    {"disconnect", cmd_disconnect},
    {"service_changed", cmd_service_changed},
    {"hardware_error", cmd_hardware_error},
    {"reset", cmd_reset},
    {"disappear", cmd_disappear},
};

int vctl_control_run(vctl_request *r, const char *cmd) {
  for (size_t i = 0; i < BK_ARRAY_SIZE(commands); i++)
    if (!strcmp(cmd, commands[i].name))
      return commands[i].run(r);
  return vctl_request_fail(r, "unknown cmd \"%.40s\"", cmd);
}
