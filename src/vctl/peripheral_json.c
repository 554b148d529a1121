/* SPDX-License-Identifier: MIT */
/*
 * Peripherals from JSON (docs/vctl.md, docs/vctl.schema.json), with
 * jansson. Every error names the file, the line and column of the bad
 * value (found again in the text by json_locate.c: jansson keeps no
 * positions) and its path, e.g.
 *   fx.json:41:14: services[2].characteristics[1].uuid: not a UUID: "2a3"
 * Keys the format does not know are errors too (a typo must not pass
 * silently), except "comment" and "note", which any object may carry.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "vctl/adv_data.h"
#include "vctl/fault_json.h"
#include "vctl/json_hex.h"
#include "vctl/json_locate.h"
#include "vctl/peripheral_priv.h"

/* peripherals[0].services[2].characteristics[1].descriptors[0].properties[1]: 10 */
#define MAX_DEPTH 16
#define MAX_FILE (16u << 20)

typedef struct loader {
  const char *text;
  size_t len;
  const char *name;
  char *err;
  size_t errlen;
  vctl_json_seg path[MAX_DEPTH];
  size_t depth;
  bool failed;
} loader;

static void push_key(loader *ld, const char *key) {
  if (ld->depth < MAX_DEPTH)
    ld->path[ld->depth] = (vctl_json_seg){key, 0};
  ld->depth++;
}
static void push_index(loader *ld, size_t i) {
  if (ld->depth < MAX_DEPTH)
    ld->path[ld->depth] = (vctl_json_seg){NULL, i};
  ld->depth++;
}
static void pop(loader *ld) { ld->depth--; }

/* The first error wins: "name:line:col: path: message". Returns -1. */
static int fail(loader *ld, const char *fmt, ...) BK_PRINTF(2, 3);
static int fail(loader *ld, const char *fmt, ...) {
  if (ld->failed)
    return -1;
  ld->failed = true;
  char where[256] = "", path[256] = "", msg[256];
  int line, col;
  size_t depth = ld->depth < MAX_DEPTH ? ld->depth : MAX_DEPTH;
  if (vctl_json_locate(ld->text, ld->len, ld->path, depth, &line, &col))
    snprintf(where, sizeof where, ":%d:%d", line, col);
  size_t n = 0;
  for (size_t i = 0; i < depth && n < sizeof path; i++) {
    int w = ld->path[i].key ? snprintf(path + n, sizeof path - n, "%s%s", n ? "." : "",
                                       ld->path[i].key)
                            : snprintf(path + n, sizeof path - n, "[%zu]", ld->path[i].index);
    n += w > 0 ? (size_t)w : 0;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(ld->err, ld->errlen, "%s%s: %s%s%s", ld->name, where, path, path[0] ? ": " : "", msg);
  return -1;
}

/* Every key of @p obj is one of @p known (NULL-terminated), "comment" or
 * "note". */
static int check_keys(loader *ld, json_t *obj, const char *const *known) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    bool ok = !strcmp(key, "comment") || !strcmp(key, "note");
    for (size_t i = 0; !ok && known[i]; i++)
      ok = !strcmp(key, known[i]);
    if (!ok) {
      push_key(ld, key);
      int r = fail(ld, "unknown key \"%s\"", key);
      pop(ld);
      return r;
    }
  }
  return 0;
}

/* obj[key] (NULL when absent); the path points at it while it is read. */
static json_t *member(loader *ld, json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  if (v)
    push_key(ld, key);
  return v;
}

static int want_type(loader *ld, json_t *v, json_type t, const char *what) {
  return json_typeof(v) == t ? 0 : fail(ld, "expected %s", what);
}

static int parse_uuid(loader *ld, json_t *v, bleak_uuid *out) {
  if (want_type(ld, v, JSON_STRING, "a UUID string"))
    return -1;
  if (bleak_uuid_parse(json_string_value(v), out))
    return fail(ld, "not a UUID: \"%.60s\"", json_string_value(v));
  return 0;
}

static int parse_hex(loader *ld, json_t *v, uint8_t *out, size_t cap, size_t *len) {
  char why[128];
  return vctl_json_hex(v, out, cap, len, why, sizeof why) ? fail(ld, "%s", why) : 0;
}

static int parse_int(loader *ld, json_t *v, long long lo, long long hi, long long *out) {
  if (!json_is_integer(v))
    return fail(ld, "expected an integer");
  long long x = json_integer_value(v);
  if (x < lo || x > hi)
    return fail(ld, "%lld is outside %lld..%lld", x, lo, hi);
  *out = x;
  return 0;
}

static int parse_bool(loader *ld, json_t *v, bool *out) {
  if (!json_is_boolean(v))
    return fail(ld, "expected true or false");
  *out = json_is_true(v);
  return 0;
}

/* An optional integer member. */
static int opt_int(loader *ld, json_t *obj, const char *key, long long lo, long long hi,
                   long long *out) {
  json_t *v = member(ld, obj, key);
  if (!v)
    return 0;
  int r = parse_int(ld, v, lo, hi, out);
  pop(ld);
  return r;
}

static int opt_bool(loader *ld, json_t *obj, const char *key, bool *out) {
  json_t *v = member(ld, obj, key);
  if (!v)
    return 0;
  int r = parse_bool(ld, v, out);
  pop(ld);
  return r;
}

static int parse_address(loader *ld, json_t *v, uint8_t addr[6]) {
  if (want_type(ld, v, JSON_STRING, "an address \"AA:BB:CC:DD:EE:FF\""))
    return -1;
  const char *s = json_string_value(v);
  if (strlen(s) != 17)
    return fail(ld, "not an address: \"%.40s\"", s);
  for (int i = 0; i < 6; i++) {
    int hi = bk_hex_value(s[3 * i]), lo = bk_hex_value(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
      return fail(ld, "not an address: \"%.40s\"", s);
    addr[5 - i] = (uint8_t)(hi << 4 | lo); /* HCI order: little-endian */
  }
  return 0;
}

/* -- permissions -- */

typedef struct flag_bits {
  const char *name;
  uint8_t props;
  uint16_t ext, perm;
} flag_bits;

/* BlueZ's GattCharacteristic1/GattDescriptor1 Flags. */
static const flag_bits flags[] = {
    {"broadcast", VCTL_PROP_BROADCAST, 0, 0},
    {"read", VCTL_PROP_READ, 0, VCTL_PERM_READ},
    {"write-without-response", VCTL_PROP_WRITE_WITHOUT_RESPONSE, 0, VCTL_PERM_WRITE},
    {"write", VCTL_PROP_WRITE, 0, VCTL_PERM_WRITE},
    {"notify", VCTL_PROP_NOTIFY, 0, 0},
    {"indicate", VCTL_PROP_INDICATE, 0, 0},
    {"authenticated-signed-writes", VCTL_PROP_SIGNED_WRITE, 0, VCTL_PERM_WRITE},
    {"extended-properties", VCTL_PROP_EXTENDED, 0, 0},
    {"reliable-write", 0, VCTL_EXT_RELIABLE_WRITE, 0},
    {"writable-auxiliaries", 0, VCTL_EXT_WRITABLE_AUX, 0},
    {"encrypt-read", VCTL_PROP_READ, 0, VCTL_PERM_READ | VCTL_PERM_READ_ENCRYPT},
    {"encrypt-write", VCTL_PROP_WRITE, 0, VCTL_PERM_WRITE | VCTL_PERM_WRITE_ENCRYPT},
    {"encrypt-authenticated-read", VCTL_PROP_READ, 0, VCTL_PERM_READ | VCTL_PERM_READ_AUTHEN},
    {"encrypt-authenticated-write", VCTL_PROP_WRITE, 0, VCTL_PERM_WRITE | VCTL_PERM_WRITE_AUTHEN},
    /* LE Secure Connections is not told apart from an authenticated key. */
    {"secure-read", VCTL_PROP_READ, 0, VCTL_PERM_READ | VCTL_PERM_READ_AUTHEN},
    {"secure-write", VCTL_PROP_WRITE, 0, VCTL_PERM_WRITE | VCTL_PERM_WRITE_AUTHEN},
};

static int parse_flags(loader *ld, json_t *v, uint8_t *props, uint16_t *ext, uint16_t *perm) {
  *props = 0;
  *ext = *perm = 0;
  if (want_type(ld, v, JSON_ARRAY, "an array of flags"))
    return -1;
  size_t i;
  json_t *f;
  json_array_foreach(v, i, f) {
    push_index(ld, i);
    const char *s = json_is_string(f) ? json_string_value(f) : "";
    size_t k = 0;
    while (k < BK_ARRAY_SIZE(flags) && strcmp(flags[k].name, s))
      k++;
    if (k == BK_ARRAY_SIZE(flags))
      return fail(ld, "unknown flag \"%.40s\"", s);
    *props |= flags[k].props;
    *ext |= flags[k].ext;
    *perm |= flags[k].perm;
    pop(ld);
  }
  return 0;
}

/* "value_hex" or "value" (text) of @p obj. */
static int parse_value(loader *ld, json_t *obj, uint8_t *out, size_t *len) {
  json_t *hex = json_object_get(obj, "value_hex"), *text = json_object_get(obj, "value");
  *len = 0;
  if (hex && text) {
    push_key(ld, "value");
    return fail(ld, "\"value\" and \"value_hex\" both given");
  }
  if (hex) {
    push_key(ld, "value_hex");
    int r = parse_hex(ld, hex, out, VCTL_ATTR_MAX_LEN, len);
    pop(ld);
    return r;
  }
  if (text) {
    push_key(ld, "value");
    if (want_type(ld, text, JSON_STRING, "a string"))
      return -1;
    size_t n = json_string_length(text);
    if (n > VCTL_ATTR_MAX_LEN)
      return fail(ld, "%zu bytes, more than %d", n, VCTL_ATTR_MAX_LEN);
    memcpy(out, json_string_value(text), n);
    *len = n;
    pop(ld);
  }
  return 0;
}

/* -- behaviours -- */

static int add_behaviour(vctl_peripheral *p, const vctl_behaviour *b, uint16_t handle) {
  vctl_behaviour *v = realloc(p->behaviours, (p->n_behaviours + 1) * sizeof *v);
  if (!v)
    return -1;
  p->behaviours = v;
  v[p->n_behaviours] = *b;
  v[p->n_behaviours].handle = handle;
  vctl_db_find(&p->db, handle)->behaviour = (int)p->n_behaviours;
  p->n_behaviours++;
  return 0;
}

static const struct {
  const char *name;
  vctl_behaviour_kind kind;
  bool needs_target;
} behaviour_names[] = {
    {"heart_rate", VCTL_BHV_HEART_RATE, false},
    {"notify_stream", VCTL_BHV_NOTIFY_STREAM, false},
    {"echo", VCTL_BHV_ECHO, true},
    {"counter", VCTL_BHV_COUNTER, true},
    {"fixture_control", VCTL_BHV_FIXTURE_CONTROL, false},
    {"indicate_on_subscribe", VCTL_BHV_INDICATE_ON_SUBSCRIBE, false},
    {"value_cycle", VCTL_BHV_VALUE_CYCLE, false},
    {"bench_control", VCTL_BHV_BENCH_CONTROL, true},
};

/* The key that names a behaviour's other characteristic, or NULL. */
static const char *target_key(vctl_behaviour_kind kind) {
  switch (kind) {
  case VCTL_BHV_ECHO: return "to";
  case VCTL_BHV_COUNTER: return "stats";
  case VCTL_BHV_BENCH_CONTROL: return "notify";
  default: return NULL;
  }
}

/* value_cycle's "values": hex strings, each the value for one period. */
static int load_cycle(loader *ld, json_t *obj, vctl_behaviour *b) {
  json_t *vs = member(ld, obj, "values");
  if (!vs)
    return fail(ld, "\"value_cycle\" needs \"values\"");
  if (want_type(ld, vs, JSON_ARRAY, "an array of hex values"))
    return -1;
  if (json_array_size(vs) == 0 || json_array_size(vs) > VCTL_CYCLE_MAX)
    return fail(ld, "1 to %d values", VCTL_CYCLE_MAX);
  size_t i;
  json_t *v;
  json_array_foreach(vs, i, v) {
    push_index(ld, i);
    size_t len;
    if (parse_hex(ld, v, b->cycle[i], VCTL_CYCLE_LEN, &len))
      return -1;
    b->cycle_len[i] = (uint8_t)len;
    pop(ld);
  }
  b->n_cycle = (uint8_t)json_array_size(vs);
  if (!b->period_ms)
    b->period_ms = 1000;
  pop(ld);
  return 0;
}

/* "behaviour": "name" | "none" | {"type": name, ...}. *has: false for none.
 * @p top: an entry of the peripheral's "behaviours", which also names its
 * characteristic. */
static int parse_behaviour(loader *ld, json_t *v, uint8_t props, bool top, vctl_behaviour *b,
                           bool *has) {
  memset(b, 0, sizeof *b);
  *has = false;
  json_t *obj = json_is_object(v) ? v : NULL;
  json_t *type = obj ? json_object_get(obj, "type") : v;
  if (obj && !type)
    return fail(ld, "a behaviour object needs \"type\"");
  if (top && !obj)
    return fail(ld, "expected a behaviour object with \"characteristic\" and \"type\"");
  if (obj)
    push_key(ld, "type");
  if (!json_is_string(type))
    return fail(ld, "expected a behaviour name or object");
  const char *name = json_string_value(type);
  if (!strcmp(name, "none")) {
    if (obj)
      pop(ld);
    return 0;
  }
  size_t k = 0;
  while (k < BK_ARRAY_SIZE(behaviour_names) && strcmp(behaviour_names[k].name, name))
    k++;
  if (k == BK_ARRAY_SIZE(behaviour_names))
    return fail(ld, "unknown behaviour \"%.40s\"", name);
  if (obj)
    pop(ld);
  b->kind = behaviour_names[k].kind;
  b->period_ms = b->kind == VCTL_BHV_HEART_RATE ? 200 : 0;
  b->sequence = true;
  if (b->kind == VCTL_BHV_VALUE_CYCLE && !obj)
    return fail(ld, "\"value_cycle\" needs an object with \"values\"");
  if (behaviour_names[k].needs_target && !obj)
    return fail(ld, "\"%s\" needs an object with \"%s\"", name, target_key(b->kind));
  if ((b->kind == VCTL_BHV_HEART_RATE || b->kind == VCTL_BHV_NOTIFY_STREAM) &&
      !(props & (VCTL_PROP_NOTIFY | VCTL_PROP_INDICATE)))
    return fail(ld, "\"%s\" needs a characteristic that notifies or indicates", name);
  if (b->kind == VCTL_BHV_INDICATE_ON_SUBSCRIBE && !(props & VCTL_PROP_INDICATE))
    return fail(ld, "\"%s\" needs a characteristic that indicates", name);
  *has = true;
  if (!obj)
    return 0;
  static const char *const keys[] = {"type", "rate_hz", "period_ms", "size", "sequence", "count",
                                     "to", "upper", "stats", "notify", "values", NULL};
  static const char *const top_keys[] = {"type", "rate_hz", "period_ms", "size", "sequence",
                                         "count", "to", "upper", "stats", "notify", "values",
                                         "characteristic", "index", NULL};
  if (check_keys(ld, obj, top ? top_keys : keys))
    return -1;
  long long x;
  if (!opt_int(ld, obj, "period_ms", 0, 3600000, &x) && json_object_get(obj, "period_ms"))
    b->period_ms = (uint32_t)x;
  if (ld->failed)
    return -1;
  if (!opt_int(ld, obj, "rate_hz", 0, 1000, &x) && json_object_get(obj, "rate_hz"))
    b->period_ms = x ? (uint32_t)(1000 / x) : 0;
  if (ld->failed || opt_int(ld, obj, "count", 0, UINT32_MAX, &x))
    return -1;
  if (json_object_get(obj, "count"))
    b->count = (uint32_t)x;
  if (opt_int(ld, obj, "size", 0, VCTL_ATTR_MAX_LEN, &x))
    return -1;
  if (json_object_get(obj, "size"))
    b->size = (uint16_t)x;
  if (opt_bool(ld, obj, "sequence", &b->sequence) || opt_bool(ld, obj, "upper", &b->upper))
    return -1;
  if (b->kind == VCTL_BHV_VALUE_CYCLE && load_cycle(ld, obj, b))
    return -1;
  const char *tkey = target_key(b->kind);
  json_t *t = tkey ? member(ld, obj, tkey) : NULL;
  if (tkey && !t)
    return fail(ld, "\"%s\" needs \"%s\"", name, tkey);
  if (t) {
    if (parse_uuid(ld, t, &b->target_uuid))
      return -1;
    b->has_target = true;
    pop(ld);
  }
  return 0;
}

/* -- the database -- */

static int load_descriptor(loader *ld, vctl_peripheral *p, json_t *d, uint8_t props,
                           uint16_t ext) {
  static const char *const keys[] = {"uuid", "properties", "value_hex", "value", NULL};
  if (want_type(ld, d, JSON_OBJECT, "a descriptor object") || check_keys(ld, d, keys))
    return -1;
  bleak_uuid u;
  json_t *uv = member(ld, d, "uuid");
  if (!uv)
    return fail(ld, "a descriptor needs \"uuid\"");
  if (parse_uuid(ld, uv, &u))
    return -1;
  pop(ld);
  uint16_t u16 = 0;
  if (bleak_uuid_is_16bit(&u, &u16) && u16 == 0x2902) {
    /* The CCCD the database adds by itself (database.json lists it). */
    if (!(props & (VCTL_PROP_NOTIFY | VCTL_PROP_INDICATE)))
      return fail(ld, "a CCCD (0x2902) on a characteristic that neither notifies nor indicates");
    return 0;
  }
  if (u16 == 0x2900 && bleak_uuid_is_16bit(&u, NULL)) {
    if (!ext)
      return fail(ld, "Extended Properties (0x2900) come from \"reliable-write\" or "
                      "\"writable-auxiliaries\"");
    return 0;
  }
  uint8_t dprops = VCTL_PROP_READ;
  uint16_t dext = 0, perm = VCTL_PERM_READ;
  json_t *fv = member(ld, d, "properties");
  if (fv) {
    if (parse_flags(ld, fv, &dprops, &dext, &perm))
      return -1;
    pop(ld);
  }
  uint8_t value[VCTL_ATTR_MAX_LEN];
  size_t len;
  if (parse_value(ld, d, value, &len))
    return -1;
  if (!vctl_db_add_desc(&p->db, &u, perm, value, len))
    return fail(ld, "no handles left (or out of memory)");
  return 0;
}

static int load_characteristic(loader *ld, vctl_peripheral *p, json_t *c) {
  static const char *const keys[] = {"uuid", "properties", "descriptors", "value_hex", "value",
                                     "behaviour", NULL};
  if (want_type(ld, c, JSON_OBJECT, "a characteristic object") || check_keys(ld, c, keys))
    return -1;
  bleak_uuid u;
  json_t *uv = member(ld, c, "uuid");
  if (!uv)
    return fail(ld, "a characteristic needs \"uuid\"");
  if (parse_uuid(ld, uv, &u))
    return -1;
  pop(ld);
  uint8_t props = 0;
  uint16_t ext = 0, perm = 0;
  json_t *fv = member(ld, c, "properties");
  if (!fv)
    return fail(ld, "a characteristic needs \"properties\"");
  if (parse_flags(ld, fv, &props, &ext, &perm))
    return -1;
  pop(ld);
  uint8_t value[VCTL_ATTR_MAX_LEN];
  size_t len;
  if (parse_value(ld, c, value, &len))
    return -1;
  vctl_behaviour b;
  bool has = false;
  json_t *bv = member(ld, c, "behaviour");
  if (bv) {
    if (parse_behaviour(ld, bv, props, false, &b, &has))
      return -1;
    pop(ld);
  } else {
    has = vctl_behaviour_default(&u, &b);
  }
  uint16_t h = vctl_db_add_char(&p->db, &u, props, ext, perm, value, len);
  if (!h)
    return fail(ld, "no handles left (or out of memory)");
  if (has && add_behaviour(p, &b, h))
    return fail(ld, "out of memory");
  json_t *ds = member(ld, c, "descriptors");
  if (ds) {
    if (want_type(ld, ds, JSON_ARRAY, "an array of descriptors"))
      return -1;
    size_t i;
    json_t *d;
    json_array_foreach(ds, i, d) {
      push_index(ld, i);
      if (load_descriptor(ld, p, d, props, ext))
        return -1;
      pop(ld);
    }
    pop(ld);
  }
  return 0;
}

static int load_service(loader *ld, vctl_peripheral *p, json_t *s) {
  static const char *const keys[] = {"uuid", "primary", "characteristics", NULL};
  if (want_type(ld, s, JSON_OBJECT, "a service object") || check_keys(ld, s, keys))
    return -1;
  bleak_uuid u;
  json_t *uv = member(ld, s, "uuid");
  if (!uv)
    return fail(ld, "a service needs \"uuid\"");
  if (parse_uuid(ld, uv, &u))
    return -1;
  pop(ld);
  bool primary = true;
  if (opt_bool(ld, s, "primary", &primary))
    return -1;
  if (!vctl_db_add_service(&p->db, &u, primary))
    return fail(ld, "no handles left (or out of memory)");
  json_t *cs = member(ld, s, "characteristics");
  if (!cs)
    return 0;
  if (want_type(ld, cs, JSON_ARRAY, "an array of characteristics"))
    return -1;
  size_t i;
  json_t *c;
  json_array_foreach(cs, i, c) {
    push_index(ld, i);
    if (load_characteristic(ld, p, c))
      return -1;
    pop(ld);
  }
  pop(ld);
  return 0;
}

/* The peripheral's "behaviours": [{"characteristic": UUID, "index": N,
 * "type": ...}]: the same as a characteristic's "behaviour", put apart
 * (a file that keeps its database as another tool wrote it); it replaces
 * the one the characteristic has. */
static int load_behaviours(loader *ld, vctl_peripheral *p, json_t *list) {
  if (want_type(ld, list, JSON_ARRAY, "an array of behaviours"))
    return -1;
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    push_index(ld, i);
    if (want_type(ld, e, JSON_OBJECT, "a behaviour object"))
      return -1;
    bleak_uuid u;
    json_t *cv = member(ld, e, "characteristic");
    if (!cv)
      return fail(ld, "a behaviour needs \"characteristic\"");
    if (parse_uuid(ld, cv, &u))
      return -1;
    pop(ld);
    long long nth = 0;
    if (opt_int(ld, e, "index", 0, 0xffff, &nth))
      return -1;
    vctl_attr *a = vctl_db_char_by_uuid(&p->db, &u, (unsigned)nth);
    if (!a) {
      char text[BLEAK_UUID_STR_LEN];
      push_key(ld, "characteristic");
      return fail(ld, "no characteristic %s (index %lld) in the database",
                  bleak_uuid_to_string(&u, text), nth);
    }
    vctl_behaviour b;
    bool has;
    uint16_t h = a->handle;
    if (parse_behaviour(ld, e, a->props, true, &b, &has))
      return -1;
    if (a->behaviour >= 0) { /* replaced (none: left inert, indexes stay) */
      b.handle = h;
      if (!has)
        b.kind = VCTL_BHV_NONE;
      p->behaviours[a->behaviour] = b;
    } else if (has && add_behaviour(p, &b, h)) {
      return fail(ld, "out of memory");
    }
    pop(ld);
  }
  return 0;
}

/* -- the advertisement -- */

typedef struct adv_parts {
  char name[VCTL_NAME_MAX + 1];
  bleak_uuid uuids[32];
  vctl_adv_mfr mfr[8];
  vctl_adv_sd sd[8];
  vctl_adv_fields f;
} adv_parts;

static int load_advertisement(loader *ld, json_t *a, adv_parts *out) {
  static const char *const keys[] = {"local_name", "service_uuids", "manufacturer_data",
                                     "service_data", "appearance", "tx_power", NULL};
  if (want_type(ld, a, JSON_OBJECT, "an advertisement object") || check_keys(ld, a, keys))
    return -1;
  json_t *v;
  if ((v = member(ld, a, "local_name"))) {
    if (want_type(ld, v, JSON_STRING, "a string"))
      return -1;
    if (json_string_length(v) > VCTL_NAME_MAX)
      return fail(ld, "a name of more than %d bytes", VCTL_NAME_MAX);
    snprintf(out->name, sizeof out->name, "%s", json_string_value(v));
    out->f.name = out->name;
    pop(ld);
  }
  if ((v = member(ld, a, "service_uuids"))) {
    if (want_type(ld, v, JSON_ARRAY, "an array of UUIDs"))
      return -1;
    if (json_array_size(v) > BK_ARRAY_SIZE(out->uuids))
      return fail(ld, "more than %zu UUIDs", BK_ARRAY_SIZE(out->uuids));
    size_t i;
    json_t *u;
    json_array_foreach(v, i, u) {
      push_index(ld, i);
      if (parse_uuid(ld, u, &out->uuids[i]))
        return -1;
      pop(ld);
    }
    out->f.uuids = out->uuids;
    out->f.n_uuids = json_array_size(v);
    pop(ld);
  }
  if ((v = member(ld, a, "manufacturer_data"))) {
    if (want_type(ld, v, JSON_OBJECT, "an object: company id -> hex"))
      return -1;
    const char *key;
    json_t *d;
    json_object_foreach(v, key, d) {
      push_key(ld, key);
      if (out->f.n_mfr == BK_ARRAY_SIZE(out->mfr))
        return fail(ld, "more than %zu entries", BK_ARRAY_SIZE(out->mfr));
      char *end;
      errno = 0;
      unsigned long id = strtoul(key, &end, 0);
      if (!*key || *end || errno || id > 0xffff)
        return fail(ld, "not a company id (0..65535): \"%.20s\"", key);
      vctl_adv_mfr *m = &out->mfr[out->f.n_mfr++];
      m->company = (uint16_t)id;
      if (parse_hex(ld, d, m->data, sizeof m->data, &m->len))
        return -1;
      pop(ld);
    }
    out->f.mfr = out->mfr;
    pop(ld);
  }
  if ((v = member(ld, a, "service_data"))) {
    if (want_type(ld, v, JSON_OBJECT, "an object: UUID -> hex"))
      return -1;
    const char *key;
    json_t *d;
    json_object_foreach(v, key, d) {
      push_key(ld, key);
      if (out->f.n_sd == BK_ARRAY_SIZE(out->sd))
        return fail(ld, "more than %zu entries", BK_ARRAY_SIZE(out->sd));
      vctl_adv_sd *s = &out->sd[out->f.n_sd++];
      if (bleak_uuid_parse(key, &s->uuid))
        return fail(ld, "not a UUID: \"%.60s\"", key);
      if (parse_hex(ld, d, s->data, sizeof s->data, &s->len))
        return -1;
      pop(ld);
    }
    out->f.sd = out->sd;
    pop(ld);
  }
  long long x;
  if (opt_int(ld, a, "appearance", 0, 0xffff, &x))
    return -1;
  if ((out->f.has_appearance = json_object_get(a, "appearance") != NULL))
    out->f.appearance = (uint16_t)x;
  if (opt_int(ld, a, "tx_power", -127, 20, &x))
    return -1;
  if ((out->f.has_tx_power = json_object_get(a, "tx_power") != NULL))
    out->f.tx_power = (int8_t)x;
  return 0;
}

/* -- a peripheral -- */

static int load_peripheral(loader *ld, json_t *obj, size_t index, vctl_peripheral **out) {
  static const char *const keys[] = {"address", "address_type", "connectable",
                                     "extended_advertising", "interval_ms", "mtu", "name",
                                     "appearance", "advertisement", "builtin_services",
                                     "services", "behaviours", "faults", NULL};
  if (want_type(ld, obj, JSON_OBJECT, "a peripheral object") || check_keys(ld, obj, keys))
    return -1;
  vctl_peripheral *p = vctl_peripheral_new();
  adv_parts *parts = calloc(1, sizeof *parts);
  if (!p || !parts) {
    free(parts);
    vctl_peripheral_free(p);
    return fail(ld, "out of memory");
  }
  int r = -1;
  json_t *v;
  long long x;
  bool builtin = true;
  /* Default address: a random static one per peripheral of the file. */
  static const uint8_t base[6] = {0x01, 0x00, 0x00, 0x00, 0xde, 0xc0};
  memcpy(p->adv.addr, base, 6);
  p->adv.addr[0] = (uint8_t)(index + 1);
  p->adv.addr[1] = (uint8_t)((index + 1) >> 8);
  p->adv.addr_type = 1;
  if ((v = member(ld, obj, "address"))) {
    if (parse_address(ld, v, p->adv.addr))
      goto out;
    p->adv.addr_type = 0;
    pop(ld);
  }
  if ((v = member(ld, obj, "address_type"))) {
    const char *t = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(t, "public") && strcmp(t, "random")) {
      fail(ld, "expected \"public\" or \"random\"");
      goto out;
    }
    p->adv.addr_type = !strcmp(t, "random");
    pop(ld);
  }
  if (opt_bool(ld, obj, "connectable", &p->adv.connectable) ||
      opt_bool(ld, obj, "extended_advertising", &p->adv.extended) ||
      opt_bool(ld, obj, "builtin_services", &builtin))
    goto out;
  if (opt_int(ld, obj, "interval_ms", 20, 10240, &x))
    goto out;
  if (json_object_get(obj, "interval_ms"))
    p->adv.interval_ms = (uint32_t)x;
  if (opt_int(ld, obj, "mtu", 23, 517, &x))
    goto out;
  if (json_object_get(obj, "mtu"))
    p->mtu = (uint16_t)x;
  if (opt_int(ld, obj, "appearance", 0, 0xffff, &x))
    goto out;
  if (json_object_get(obj, "appearance"))
    p->appearance = (uint16_t)x;
  if ((v = member(ld, obj, "advertisement"))) {
    if (load_advertisement(ld, v, parts))
      goto out;
    pop(ld);
  }
  snprintf(p->name, sizeof p->name, "%s", parts->name);
  if ((v = member(ld, obj, "name"))) {
    if (want_type(ld, v, JSON_STRING, "a string"))
      goto out;
    if (json_string_length(v) > VCTL_NAME_MAX) {
      fail(ld, "a name of more than %d bytes", VCTL_NAME_MAX);
      goto out;
    }
    snprintf(p->name, sizeof p->name, "%s", json_string_value(v));
    pop(ld);
  }
  if (!parts->f.name && p->name[0])
    parts->f.name = p->name;
  char why[160];
  if (vctl_adv_build(&parts->f, &p->adv, why, sizeof why)) {
    push_key(ld, "advertisement");
    fail(ld, "%s", why);
    goto out;
  }
  if (builtin && vctl_peripheral_add_builtin_services(p)) {
    fail(ld, "out of memory");
    goto out;
  }
  if ((v = member(ld, obj, "services"))) {
    if (want_type(ld, v, JSON_ARRAY, "an array of services"))
      goto out;
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
      push_index(ld, i);
      if (load_service(ld, p, s))
        goto out;
      pop(ld);
    }
    pop(ld);
  }
  if ((v = member(ld, obj, "behaviours"))) {
    if (load_behaviours(ld, p, v))
      goto out;
    pop(ld);
  }
  vctl_db_close(&p->db);
  if (vctl_behaviours_bind(p, why, sizeof why)) {
    push_key(ld, "services");
    fail(ld, "%s", why);
    goto out;
  }
  /* Faults last: error_uuid names a characteristic of the database. The
   * control socket's "fault" command parses the same keys. */
  if ((v = member(ld, obj, "faults"))) {
    const char *key;
    if (vctl_faults_from_json(v, p, NULL, &p->faults, why, sizeof why, &key)) {
      if (key)
        push_key(ld, key);
      fail(ld, "%s", why);
      goto out;
    }
    pop(ld);
  }
  r = 0;
out:
  free(parts);
  if (r)
    vctl_peripheral_free(p);
  else
    *out = p;
  return r;
}

static int load_text(const char *text, size_t len, const char *name, vctl_peripheral ***out,
                     size_t *count, char *err, size_t errlen) {
  char dummy[1];
  if (!err || !errlen) {
    err = dummy;
    errlen = sizeof dummy;
  }
  err[0] = '\0';
  loader ld = {.text = text, .len = len, .name = name ? name : "<json>", .err = err,
               .errlen = errlen};
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    snprintf(err, errlen, "%s:%d:%d: %s", ld.name, je.line, je.column, je.text);
    return -1;
  }
  json_t *list = json_is_object(root) ? json_object_get(root, "peripherals") : NULL;
  size_t n = list ? json_array_size(list) : 1;
  vctl_peripheral **ps = NULL;
  int r = -1;
  if (list && (!json_is_array(list) || n == 0)) {
    push_key(&ld, "peripherals");
    fail(&ld, "expected a non-empty array of peripherals");
    goto out;
  }
  if (list && json_object_size(root) > 1) {
    static const char *const keys[] = {"peripherals", NULL};
    if (check_keys(&ld, root, keys))
      goto out;
  }
  if (!(ps = calloc(n, sizeof *ps))) {
    fail(&ld, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    if (list) {
      push_key(&ld, "peripherals");
      push_index(&ld, i);
    }
    if (load_peripheral(&ld, list ? json_array_get(list, i) : root, i, &ps[i]))
      goto out;
    if (list) {
      pop(&ld);
      pop(&ld);
    }
  }
  *out = ps;
  *count = n;
  ps = NULL;
  r = 0;
out:
  if (ps)
    vctl_peripherals_free(ps, n);
  json_decref(root);
  return r;
}

int vctl_peripherals_load_string(const char *json, const char *name, vctl_peripheral ***out,
                                 size_t *count, char *err, size_t errlen) {
  if (!json || !out || !count) {
    if (err && errlen)
      snprintf(err, errlen, "vctl_peripherals_load_string: NULL argument");
    return -1;
  }
  return load_text(json, strlen(json), name, out, count, err, errlen);
}

int vctl_peripherals_load(const char *path, vctl_peripheral ***out, size_t *count, char *err,
                          size_t errlen) {
  if (!path || !out || !count) {
    if (err && errlen)
      snprintf(err, errlen, "vctl_peripherals_load: NULL argument");
    return -1;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (err && errlen)
      snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_FILE) {
        if (err && errlen)
          snprintf(err, errlen, "%s: larger than %u bytes", path, MAX_FILE);
        free(text);
        fclose(f);
        return -1;
      }
      cap = cap ? cap * 2 : 65536;
      char *t = realloc(text, cap);
      if (!t) {
        free(text);
        fclose(f);
        if (err && errlen)
          snprintf(err, errlen, "%s: out of memory", path);
        return -1;
      }
      text = t;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  bool bad = ferror(f);
  fclose(f);
  int r = -1;
  if (bad) {
    if (err && errlen)
      snprintf(err, errlen, "%s: read error", path);
  } else {
    r = load_text(text, len, path, out, count, err, errlen);
  }
  free(text);
  return r;
}
