/* SPDX-License-Identifier: MIT */
/* ATT server faults from and to JSON: see fault_json.h. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "vctl/fault_json.h"
#include "vctl/json_hex.h"

/* The ATT opcodes a client sends (Core Vol 3 Part F 3.4.8), by the names
 * the control socket takes. */
static const struct {
  const char *name;
  uint8_t op;
} opcodes[] = {
    {"mtu", 0x02},          {"find_info", 0x04},     {"find_by_type", 0x06},
    {"read_by_type", 0x08}, {"read", 0x0a},          {"read_blob", 0x0c},
    {"read_multiple", 0x0e}, {"read_by_group", 0x10}, {"write", 0x12},
    {"prepare_write", 0x16}, {"execute_write", 0x18}, {"confirm", 0x1e},
    {"write_cmd", 0x52},
};

typedef struct ctx {
  char *err;
  size_t errlen;
  const char **bad_key;
} ctx;

static int bad(ctx *c, const char *key, const char *msg) {
  *c->bad_key = key;
  snprintf(c->err, c->errlen, "%s", msg);
  return -1;
}

/* An integer in lo..hi, or 0 (off) when @p zero_off. */
static int get_int(ctx *c, json_t *obj, const char *key, long long lo, long long hi,
                   bool zero_off, long long *out, bool *given) {
  json_t *v = json_object_get(obj, key);
  *given = v != NULL;
  if (!v)
    return 0;
  if (!json_is_integer(v))
    return bad(c, key, "expected an integer");
  long long x = json_integer_value(v);
  if ((x < lo || x > hi) && !(zero_off && x == 0)) {
    char m[96];
    snprintf(m, sizeof m, "%lld is outside %lld..%lld%s", x, lo, hi,
             zero_off ? " (0: off)" : "");
    return bad(c, key, m);
  }
  *out = x;
  return 0;
}

static int get_opcode(ctx *c, json_t *v, uint8_t *out) {
  if (json_is_string(v)) {
    for (size_t i = 0; i < BK_ARRAY_SIZE(opcodes); i++)
      if (!strcmp(json_string_value(v), opcodes[i].name)) {
        *out = opcodes[i].op;
        return 0;
      }
    return bad(c, "drop_opcode", "not an ATT request name (mtu, find_info, find_by_type, "
                                 "read_by_type, read, read_blob, read_multiple, read_by_group, "
                                 "write, write_cmd, prepare_write, execute_write, confirm)");
  }
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
    return bad(c, "drop_opcode", "expected an opcode 0..255 (0: off) or its name");
  *out = (uint8_t)json_integer_value(v);
  return 0;
}

static bool skipped(const char *key, const char *const *skip) {
  for (size_t i = 0; skip && skip[i]; i++)
    if (!strcmp(key, skip[i]))
      return true;
  return false;
}

static int check_keys(ctx *c, json_t *obj, const char *const *skip) {
  static const char *const known[] = {"error_handle", "error_uuid", "error_code", "silent",
                                      "delay_ms",     "drop_after", "drop_opcode", "max_mtu",
                                      "malformed_hex", "comment",   "note",       NULL};
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    if (skipped(key, skip))
      continue;
    size_t i = 0;
    while (known[i] && strcmp(known[i], key))
      i++;
    if (!known[i])
      return bad(c, key, "unknown key");
  }
  return 0;
}

/* error_handle / error_uuid and error_code: a pair, both on or both off. */
static int get_error(ctx *c, json_t *obj, const vctl_peripheral *p, vctl_att_faults *f) {
  long long x;
  bool given;
  json_t *u = json_object_get(obj, "error_uuid");
  if (u && json_object_get(obj, "error_handle"))
    return bad(c, "error_uuid", "error_handle or error_uuid, not both");
  if (get_int(c, obj, "error_handle", 1, 0xffff, true, &x, &given))
    return -1;
  if (given)
    f->error_handle = (uint16_t)x;
  if (u) {
    if (!json_is_string(u))
      return bad(c, "error_uuid", "expected a UUID string");
    uint16_t h = vctl_peripheral_find_char(p, json_string_value(u), 0);
    if (!h)
      return bad(c, "error_uuid", "no characteristic of that UUID");
    f->error_handle = h;
  }
  if (get_int(c, obj, "error_code", 1, 255, true, &x, &given))
    return -1;
  if (given)
    f->error_code = (uint8_t)x;
  if (f->error_code && !f->error_handle)
    return bad(c, "error_code", "needs error_handle or error_uuid");
  if (!f->error_code && (u || json_object_get(obj, "error_handle")) && f->error_handle)
    return bad(c, u ? "error_uuid" : "error_handle", "needs error_code");
  if (!f->error_code)
    f->error_handle = 0;
  return 0;
}

int vctl_faults_from_json(json_t *obj, const vctl_peripheral *p, const char *const *skip,
                          vctl_att_faults *f, char *err, size_t errlen, const char **bad_key) {
  ctx c = {err, errlen, bad_key};
  *bad_key = NULL;
  if (!json_is_object(obj)) {
    snprintf(err, errlen, "expected an object of faults");
    return -1;
  }
  vctl_att_faults n = *f;
  long long x;
  bool given;
  json_t *v;
  if (check_keys(&c, obj, skip) || get_error(&c, obj, p, &n))
    return -1;
  if ((v = json_object_get(obj, "silent"))) {
    if (!json_is_boolean(v))
      return bad(&c, "silent", "expected true or false");
    n.silent = json_is_true(v);
  }
  if (get_int(&c, obj, "delay_ms", 0, 60000, false, &x, &given))
    return -1;
  if (given)
    n.delay_ms = (uint32_t)x;
  if (get_int(&c, obj, "drop_after", 0, 0xffffffffLL, false, &x, &given))
    return -1;
  if (given)
    n.drop_after = (uint32_t)x;
  if ((v = json_object_get(obj, "drop_opcode")) && get_opcode(&c, v, &n.drop_opcode))
    return -1;
  if (get_int(&c, obj, "max_mtu", 23, 517, true, &x, &given))
    return -1;
  if (given)
    n.max_mtu = (uint16_t)x;
  if ((v = json_object_get(obj, "malformed_hex"))) {
    size_t len;
    if (vctl_json_hex(v, n.malformed, sizeof n.malformed, &len, err, errlen)) {
      *bad_key = "malformed_hex";
      return -1;
    }
    n.malformed_len = (uint8_t)len;
  }
  *f = n;
  return 0;
}

json_t *vctl_faults_to_json(const vctl_att_faults *f) {
  json_t *o = json_pack("{s:I,s:I,s:b,s:I,s:I,s:I,s:I}", "error_handle",
                        (json_int_t)f->error_handle, "error_code", (json_int_t)f->error_code,
                        "silent", f->silent, "delay_ms", (json_int_t)f->delay_ms, "drop_after",
                        (json_int_t)f->drop_after, "drop_opcode", (json_int_t)f->drop_opcode,
                        "max_mtu", (json_int_t)f->max_mtu);
  size_t len = f->malformed_len < sizeof f->malformed ? f->malformed_len : sizeof f->malformed;
  if (o && json_object_set_new(o, "malformed_hex", vctl_json_hex_string(f->malformed, len))) {
    json_decref(o);
    return NULL;
  }
  return o;
}
