/* SPDX-License-Identifier: MIT */
/*
 * Bonds that last (bond_store.h): the text format on buffers (a parser
 * that trusts nothing, a writer), and the files: one per bond, written
 * atomically, in a directory resolved in one place.
 */
#include "backend/hci/bond_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/hci/hci.h"
#include "bleak/error.h"
#include "bleak/uuid.h"
#include "core/gatt_build.h"
#include "core/internal.h"

#define MOD "bond"

void bk_bond_clear(bk_bond *b) {
  if (!b)
    return;
  bleak_gatt_services_unref(b->gatt);
  explicit_bzero(b, sizeof *b);
}

/* ---- addresses and names ------------------------------------------------- */

static const char *const type_names[2] = {"public", "random"};

static bool addr_ok(const bk_bond_addr *a) {
  return a->type == BK_BOND_ADDR_PUBLIC || a->type == BK_BOND_ADDR_RANDOM;
}

static bool id_ok(const bk_bond_id *id) { return addr_ok(&id->local) && addr_ok(&id->peer); }


/* "AA:BB:CC:DD:EE:FF" (17 characters exactly, either case) or, with
 * @p colons false, "AABBCCDDEEFF"; the result little-endian. Stricter
 * than bk_hci_parse_address() (sscanf's %x takes signs, spaces, "0x"):
 * a file gets no leeway. */
static bool parse_addr_text(const char *s, size_t n, bool colons, uint8_t out[6]) {
  size_t step = colons ? 3 : 2;
  if (n != (colons ? 17 : 12))
    return false;
  for (size_t i = 0; i < 6; i++) {
    const char *p = s + i * step;
    int hi = bk_hex_value(p[0]), lo = bk_hex_value(p[1]);
    if (hi < 0 || lo < 0 || (colons && i < 5 && p[2] != ':'))
      return false;
    out[5 - i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

int bk_bond_file_name(const bk_bond_id *id, char out[BK_BOND_NAME_LEN]) {
  if (!id || !out || !id_ok(id))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: NULL or a bad address type");
  const uint8_t *l = id->local.addr, *p = id->peer.addr;
  snprintf(out, BK_BOND_NAME_LEN, "%02X%02X%02X%02X%02X%02X-%s_%02X%02X%02X%02X%02X%02X-%s.bond",
           l[5], l[4], l[3], l[2], l[1], l[0], type_names[id->local.type], p[5], p[4], p[3],
           p[2], p[1], p[0], type_names[id->peer.type]);
  return 0;
}

static bool parse_type(const char *s, size_t n, uint8_t *out) {
  for (uint8_t t = 0; t < 2; t++) {
    if (n == strlen(type_names[t]) && !memcmp(s, type_names[t], n)) {
      *out = t;
      return true;
    }
  }
  return false;
}

int bk_bond_parse_file_name(const char *name, bk_bond_id *out) {
  /* 12 hex, '-', 6, '_', 12 hex, '-', 6, ".bond" */
  if (!name || !out || strlen(name) != BK_BOND_NAME_LEN - 1 || name[12] != '-' ||
      name[19] != '_' || name[32] != '-' || strcmp(name + 39, ".bond") != 0)
    return BLEAK_ERR_INVALID_ARG;
  bk_bond_id id;
  if (!parse_addr_text(name, 12, false, id.local.addr) ||
      !parse_type(name + 13, 6, &id.local.type) ||
      !parse_addr_text(name + 20, 12, false, id.peer.addr) ||
      !parse_type(name + 33, 6, &id.peer.type))
    return BLEAK_ERR_INVALID_ARG;
  /* One spelling per bond: lower-case hex is another file's name. */
  char again[BK_BOND_NAME_LEN];
  if (bk_bond_file_name(&id, again) != 0 || strcmp(again, name) != 0)
    return BLEAK_ERR_INVALID_ARG;
  *out = id;
  return 0;
}

/* ---- writing ------------------------------------------------------------- */

/* A growing text buffer that never leaves a copy of its contents behind
 * (it holds keys): growth wipes the old block. Bounded by
 * BK_BOND_MAX_FILE; err is sticky. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  int err;
} sbuf;

static void sb_wipe(sbuf *b) {
  if (b->p)
    explicit_bzero(b->p, b->cap);
  free(b->p);
  *b = (sbuf){0};
}

static void sb_printf(sbuf *b, const char *fmt, ...) BK_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->err)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->err = BLEAK_ERR_INVALID_ARG;
      return;
    }
    if (b->p && (size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t need = b->len + (size_t)n + 1;
    if (need > BK_BOND_MAX_FILE + 1) {
      b->err = bk_fail(BLEAK_ERR_TOO_LONG, "the bond file would be larger than %u bytes",
                       BK_BOND_MAX_FILE);
      return;
    }
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < need)
      ncap *= 2;
    if (ncap > BK_BOND_MAX_FILE + 1)
      ncap = BK_BOND_MAX_FILE + 1;
    char *np = malloc(ncap);
    if (!np) {
      b->err = BLEAK_ERR_NO_MEMORY;
      return;
    }
    if (b->p)
      memcpy(np, b->p, b->len + 1);
    size_t len = b->len;
    sb_wipe(b);
    b->p = np;
    b->len = len;
    b->cap = ncap;
  }
}

static void sb_hex(sbuf *b, const char *key, const uint8_t v[16]) {
  char hex[33];
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", v[i]);
  sb_printf(b, "%s = %s\n", key, hex);
  explicit_bzero(hex, sizeof hex);
}

static int check_bond(const bk_bond *b) {
  if (!b)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: NULL");
  if (!id_ok(&b->id))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: address type %u/%u (0 public, 1 random)",
                   b->id.local.type, b->id.peer.type);
  if (b->key_size < 7 || b->key_size > 16)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: key size %u (7..16)", b->key_size);
  if (b->created < 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: created before 1970");
  if (b->secure_connections && (b->ediv || b->rand))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: a Secure Connections LTK has EDIV 0, Rand 0");
  if (b->has_db_hash && !b->gatt)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: a Database Hash without a database");
  return 0;
}

#define PROP_DEFINED ((1u << BLEAK_GATT_PROP_COUNT) - 1u)

static int format_gatt(sbuf *o, const bleak_gatt_services *s, const bk_bond *b) {
  size_t ns = bleak_gatt_services_count(s);
  /* An unfinished collection is not linked (and lookups find nothing). */
  if (ns && !bleak_gatt_services_get_service_by_handle(
                s, bleak_gatt_service_handle(bleak_gatt_services_at(s, 0))))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: the GATT collection is not finished");
  sb_printf(o, "\n[gatt]\n");
  if (b->has_db_hash)
    sb_hex(o, "database_hash", b->db_hash);
  for (size_t i = 0; i < ns; i++) {
    const bleak_gatt_service *svc = bleak_gatt_services_at(s, i);
    char u[BLEAK_UUID_STR_LEN];
    sb_printf(o, "service = 0x%04x 0x%04x %s %s\n", bleak_gatt_service_handle(svc),
              bleak_gatt_service_end_handle(svc),
              bleak_gatt_service_is_primary(svc) ? "primary" : "secondary",
              bleak_uuid_to_string(bleak_gatt_service_uuid(svc), u));
    for (size_t j = 0; j < bleak_gatt_service_characteristic_count(svc); j++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(svc, j);
      uint32_t props = bleak_gatt_characteristic_properties(ch);
      if (props & ~PROP_DEFINED)
        return bk_fail(BLEAK_ERR_INVALID_ARG,
                       "bond: characteristic 0x%04x has property bits without a name",
                       bleak_gatt_characteristic_handle(ch));
      char pn[512] = "-";
      if (props && bleak_gatt_properties_format(props, pn, sizeof pn) < 0)
        return BLEAK_ERR_BUFFER_TOO_SMALL; /* cannot happen: all fit */
      sb_printf(o, "characteristic = 0x%04x 0x%04x %s %s\n", bleak_gatt_characteristic_handle(ch),
                bleak_gatt_characteristic_value_handle(ch), pn,
                bleak_uuid_to_string(bleak_gatt_characteristic_uuid(ch), u));
      for (size_t k = 0; k < bleak_gatt_characteristic_descriptor_count(ch); k++) {
        const bleak_gatt_descriptor *d = bleak_gatt_characteristic_descriptor_at(ch, k);
        sb_printf(o, "descriptor = 0x%04x %s\n", bleak_gatt_descriptor_handle(d),
                  bleak_uuid_to_string(bleak_gatt_descriptor_uuid(d), u));
      }
    }
  }
  return 0;
}

int bk_bond_format(const bk_bond *b, char **out, size_t *len) {
  if (!out || !len)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: NULL output");
  *out = NULL;
  *len = 0;
  int err = check_bond(b);
  if (err)
    return err;
  sbuf o = {0};
  char a[18];
  sb_printf(&o, "# A bleak bond: the keys of a pairing. Keep it private.\n");
  sb_printf(&o, "version = %d\n", BK_BOND_VERSION);
  bk_hci_format_address(b->id.local.addr, a);
  sb_printf(&o, "local = %s\nlocal_type = %s\n", a, type_names[b->id.local.type]);
  bk_hci_format_address(b->id.peer.addr, a);
  sb_printf(&o, "peer = %s\npeer_type = %s\n", a, type_names[b->id.peer.type]);
  sb_printf(&o, "created = %" PRId64 "\n", b->created);
  sb_hex(&o, "ltk", b->ltk);
  sb_printf(&o, "key_size = %u\n", b->key_size);
  sb_printf(&o, "authenticated = %s\n", b->authenticated ? "true" : "false");
  sb_printf(&o, "secure_connections = %s\n", b->secure_connections ? "true" : "false");
  sb_printf(&o, "ediv = %04" PRIx16 "\n", b->ediv);
  sb_printf(&o, "rand = %016" PRIx64 "\n", b->rand);
  if (b->has_irk)
    sb_hex(&o, "irk", b->irk);
  if (b->has_local_csrk) {
    sb_hex(&o, "local_csrk", b->local_csrk);
    sb_printf(&o, "local_sign_counter = %" PRIu32 "\n", b->local_sign_counter);
  }
  if (b->has_peer_csrk) {
    sb_hex(&o, "peer_csrk", b->peer_csrk);
    sb_printf(&o, "peer_sign_counter = %" PRIu32 "\n", b->peer_sign_counter);
  }
  if (b->gatt)
    err = format_gatt(&o, b->gatt, b);
  sb_printf(&o, "\n[end]\n");
  if (!err)
    err = o.err;
  if (err) {
    sb_wipe(&o);
    return err;
  }
  *out = o.p;
  *len = o.len;
  return 0;
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct span {
  const char *p;
  size_t n;
} span;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static span trim(span s) {
  while (s.n && is_blank(s.p[0])) {
    s.p++;
    s.n--;
  }
  while (s.n && is_blank(s.p[s.n - 1]))
    s.n--;
  return s;
}

static bool span_is(span s, const char *lit) {
  return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

/* The next blank-separated field of *s (empty at the end). */
static span next_field(span *s) {
  *s = trim(*s);
  size_t i = 0;
  while (i < s->n && !is_blank(s->p[i]))
    i++;
  span f = {s->p, i};
  s->p += i;
  s->n -= i;
  return f;
}

/* Exactly @p n fields in @p v. */
static bool split_fields(span v, span *f, size_t n) {
  for (size_t i = 0; i < n; i++) {
    f[i] = next_field(&v);
    if (!f[i].n)
      return false;
  }
  return trim(v).n == 0;
}

/* Decimal, digits only, at most @p max. */
static bool parse_dec(span s, uint64_t max, uint64_t *out) {
  if (!s.n || s.n > 20)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < s.n; i++) {
    if (s.p[i] < '0' || s.p[i] > '9')
      return false;
    unsigned d = (unsigned)(s.p[i] - '0');
    if (v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

/* Exactly @p digits hex digits (at most 16). */
static bool parse_hex_num(span s, size_t digits, uint64_t *out) {
  if (s.n != digits)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < s.n; i++) {
    int d = bk_hex_value(s.p[i]);
    if (d < 0)
      return false;
    v = v << 4 | (uint64_t)d;
  }
  *out = v;
  return true;
}

static bool parse_handle(span s, uint16_t *out) {
  uint64_t v;
  if (s.n != 6 || s.p[0] != '0' || (s.p[1] != 'x' && s.p[1] != 'X') ||
      !parse_hex_num((span){s.p + 2, 4}, 4, &v))
    return false;
  *out = (uint16_t)v;
  return true;
}

static bool parse_uuid(span s, bleak_uuid *out) {
  char buf[BLEAK_UUID_STR_LEN];
  if (s.n >= sizeof buf)
    return false;
  memcpy(buf, s.p, s.n);
  buf[s.n] = '\0';
  return bleak_uuid_parse(buf, out) == 0;
}

/* Bleak's names joined by ',', or "-" for none. */
static bool parse_props(span s, uint32_t *out) {
  if (span_is(s, "-")) {
    *out = 0;
    return true;
  }
  uint32_t props = 0;
  for (;;) {
    const char *comma = memchr(s.p, ',', s.n);
    size_t n = comma ? (size_t)(comma - s.p) : s.n;
    char name[40];
    if (!n || n >= sizeof name)
      return false;
    memcpy(name, s.p, n);
    name[n] = '\0';
    uint32_t bit = bleak_gatt_property_from_name(name);
    if (!bit)
      return false;
    props |= bit;
    if (!comma)
      break;
    s.p += n + 1;
    s.n -= n + 1;
  }
  *out = props;
  return true;
}

/* The keys of the top of the file, in the order they are written. */
enum key {
  K_VERSION, K_LOCAL, K_LOCAL_TYPE, K_PEER, K_PEER_TYPE, K_CREATED, K_LTK, K_KEY_SIZE,
  K_AUTHENTICATED, K_SC, K_EDIV, K_RAND, K_IRK, K_LOCAL_CSRK, K_LOCAL_COUNTER, K_PEER_CSRK,
  K_PEER_COUNTER, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "version", "local", "local_type", "peer", "peer_type", "created",
    "ltk", "key_size", "authenticated", "secure_connections", "ediv", "rand",
    "irk", "local_csrk", "local_sign_counter", "peer_csrk", "peer_sign_counter",
};

/* Every file has these. */
static const enum key required[] = {K_LOCAL, K_LOCAL_TYPE, K_PEER, K_PEER_TYPE, K_CREATED,
                                    K_LTK, K_KEY_SIZE, K_AUTHENTICATED, K_SC, K_EDIV,
                                    K_RAND};

typedef enum section { SEC_TOP, SEC_GATT, SEC_END } section;

typedef struct parser {
  unsigned line;           /* the line being read (1-based) */
  unsigned key_line[K_COUNT]; /* where each top key was (0: not yet) */
  section sec;
  unsigned gatt_line, hash_line, end_line;
  bk_bond *b;
  /* [gatt]: the tree being built, the service and characteristic that
   * the next lines belong to */
  bleak_gatt_services *s;
  bool have_svc, have_chr;
  uint16_t svc, chr;
} parser;

#define FAIL(ps, ...) fail_line(ps, __VA_ARGS__)

static int fail_line(const parser *ps, const char *fmt, ...) BK_PRINTF(2, 3);
static int fail_line(const parser *ps, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return bk_fail(BLEAK_ERR_PROTOCOL, "bond file line %u: %s", ps->line, msg);
}

/* A key's name quoted in a detail only when it looks like a name (it may
 * be a damaged line whose text is a key's value: never echo that). */
static bool nameish(span k) {
  if (!k.n || k.n > 24)
    return false;
  for (size_t i = 0; i < k.n; i++)
    if (!((k.p[i] >= 'a' && k.p[i] <= 'z') || k.p[i] == '_'))
      return false;
  return true;
}

static int unknown_key(const parser *ps, span k, const char *where) {
  if (nameish(k))
    return FAIL(ps, "unknown key '%.*s' %s", (int)k.n, k.p, where);
  return FAIL(ps, "unknown key %s", where);
}

/* 16 bytes as 32 hex digits: "not hex" and "wrong length" told apart. */
static int parse_key16(const parser *ps, const char *name, span v, uint8_t out[16]) {
  for (size_t i = 0; i < v.n; i++)
    if (bk_hex_value(v.p[i]) < 0)
      return FAIL(ps, "'%s' is not hex", name);
  if (v.n % 2)
    return FAIL(ps, "'%s' has an odd number of hex digits", name);
  if (v.n != 32)
    return FAIL(ps, "'%s' is %zu byte%s long, not 16", name, v.n / 2, v.n == 2 ? "" : "s");
  for (size_t i = 0; i < 16; i++)
    out[i] = (uint8_t)(bk_hex_value(v.p[2 * i]) << 4 | bk_hex_value(v.p[2 * i + 1]));
  return 0;
}

static int parse_bool(const parser *ps, const char *name, span v, bool *out) {
  if (span_is(v, "true"))
    *out = true;
  else if (span_is(v, "false"))
    *out = false;
  else
    return FAIL(ps, "'%s' is neither true nor false", name);
  return 0;
}

static int top_value(parser *ps, enum key k, span v) {
  bk_bond *b = ps->b;
  const char *name = key_names[k];
  uint64_t n;
  switch (k) {
  case K_VERSION:
    return FAIL(ps, "'version' again");
  case K_LOCAL:
  case K_PEER:
    if (!parse_addr_text(v.p, v.n, true, k == K_LOCAL ? b->id.local.addr : b->id.peer.addr))
      return FAIL(ps, "'%s' is not an address (XX:XX:XX:XX:XX:XX)", name);
    return 0;
  case K_LOCAL_TYPE:
  case K_PEER_TYPE:
    if (!parse_type(v.p, v.n, k == K_LOCAL_TYPE ? &b->id.local.type : &b->id.peer.type))
      return FAIL(ps, "'%s' is neither public nor random", name);
    return 0;
  case K_CREATED:
    if (!parse_dec(v, INT64_MAX, &n))
      return FAIL(ps, "'created' is not a time (seconds since 1970)");
    b->created = (int64_t)n;
    return 0;
  case K_LTK:
    return parse_key16(ps, name, v, b->ltk);
  case K_KEY_SIZE:
    if (!parse_dec(v, 255, &n) || n < 7 || n > 16)
      return FAIL(ps, "'key_size' is not 7..16");
    b->key_size = (uint8_t)n;
    return 0;
  case K_AUTHENTICATED:
    return parse_bool(ps, name, v, &b->authenticated);
  case K_SC:
    return parse_bool(ps, name, v, &b->secure_connections);
  case K_EDIV:
    if (!parse_hex_num(v, 4, &n))
      return FAIL(ps, "'ediv' is not 4 hex digits");
    b->ediv = (uint16_t)n;
    return 0;
  case K_RAND:
    if (!parse_hex_num(v, 16, &n))
      return FAIL(ps, "'rand' is not 16 hex digits");
    b->rand = n;
    return 0;
  case K_IRK:
    b->has_irk = true;
    return parse_key16(ps, name, v, b->irk);
  case K_LOCAL_CSRK:
    b->has_local_csrk = true;
    return parse_key16(ps, name, v, b->local_csrk);
  case K_PEER_CSRK:
    b->has_peer_csrk = true;
    return parse_key16(ps, name, v, b->peer_csrk);
  case K_LOCAL_COUNTER:
  case K_PEER_COUNTER:
    if (!parse_dec(v, UINT32_MAX, &n))
      return FAIL(ps, "'%s' is not a 32-bit number", name);
    *(k == K_LOCAL_COUNTER ? &b->local_sign_counter : &b->peer_sign_counter) = (uint32_t)n;
    return 0;
  case K_COUNT:
    break;
  }
  return FAIL(ps, "unknown key");
}

static int top_line(parser *ps, span k, span v) {
  for (int i = 0; i < K_COUNT; i++) {
    if (!span_is(k, key_names[i]))
      continue;
    if (ps->key_line[i])
      return FAIL(ps, "'%s' again (first on line %u)", key_names[i], ps->key_line[i]);
    ps->key_line[i] = ps->line;
    return top_value(ps, (enum key)i, v);
  }
  return unknown_key(ps, k, "before [gatt]");
}

static int builder_err(const parser *ps, int err) {
  return err == BLEAK_ERR_NO_MEMORY ? err : FAIL(ps, "the GATT builder refused it");
}

static int gatt_line(parser *ps, span k, span v) {
  span f[4];
  uint16_t h1, h2;
  bleak_uuid u;
  if (span_is(k, "database_hash")) {
    if (ps->hash_line)
      return FAIL(ps, "'database_hash' again (first on line %u)", ps->hash_line);
    ps->hash_line = ps->line;
    ps->b->has_db_hash = true;
    return parse_key16(ps, "database_hash", v, ps->b->db_hash);
  }
  if (span_is(k, "service")) {
    if (!split_fields(v, f, 4) || !parse_handle(f[0], &h1) || !parse_handle(f[1], &h2))
      return FAIL(ps, "not 'service = 0xSTART 0xEND primary|secondary UUID'");
    bool primary = span_is(f[2], "primary");
    if (!primary && !span_is(f[2], "secondary"))
      return FAIL(ps, "a service is primary or secondary");
    if (!parse_uuid(f[3], &u))
      return FAIL(ps, "not a UUID");
    int err = bk_gatt_services_add_service(ps->s, &u, h1, h2, primary);
    if (err)
      return builder_err(ps, err);
    ps->have_svc = true;
    ps->have_chr = false;
    ps->svc = h1;
    return 0;
  }
  if (span_is(k, "characteristic")) {
    uint32_t props;
    if (!split_fields(v, f, 4) || !parse_handle(f[0], &h1) || !parse_handle(f[1], &h2))
      return FAIL(ps, "not 'characteristic = 0xHANDLE 0xVALUE PROPERTIES UUID'");
    if (!parse_props(f[2], &props))
      return FAIL(ps, "not a list of properties (names joined by ',', or '-')");
    if (!parse_uuid(f[3], &u))
      return FAIL(ps, "not a UUID");
    if (!ps->have_svc)
      return FAIL(ps, "a characteristic before any service");
    int err = bk_gatt_services_add_characteristic(ps->s, ps->svc, &u, h1, h2, props);
    if (err)
      return builder_err(ps, err);
    ps->have_chr = true;
    ps->chr = h1;
    return 0;
  }
  if (span_is(k, "descriptor")) {
    if (!split_fields(v, f, 2) || !parse_handle(f[0], &h1))
      return FAIL(ps, "not 'descriptor = 0xHANDLE UUID'");
    if (!parse_uuid(f[1], &u))
      return FAIL(ps, "not a UUID");
    if (!ps->have_chr)
      return FAIL(ps, "a descriptor before any characteristic of its service");
    int err = bk_gatt_services_add_descriptor(ps->s, ps->chr, &u, h1);
    if (err)
      return builder_err(ps, err);
    return 0;
  }
  return unknown_key(ps, k, "in [gatt]");
}

static int section_line(parser *ps, span l) {
  if (l.n < 2 || l.p[l.n - 1] != ']')
    return FAIL(ps, "a section header is '[name]'");
  span name = trim((span){l.p + 1, l.n - 2});
  if (span_is(name, "gatt")) {
    if (ps->sec != SEC_TOP)
      return FAIL(ps, "[gatt] again (first on line %u)", ps->gatt_line);
    ps->s = bk_gatt_services_new();
    if (!ps->s)
      return BLEAK_ERR_NO_MEMORY;
    ps->sec = SEC_GATT;
    ps->gatt_line = ps->line;
    return 0;
  }
  if (span_is(name, "end")) {
    ps->sec = SEC_END;
    ps->end_line = ps->line;
    return 0;
  }
  if (nameish(name))
    return FAIL(ps, "unknown section [%.*s]", (int)name.n, name.p);
  return FAIL(ps, "unknown section");
}

/* The first line that says something: "version = 1". */
static int version_line(parser *ps, span k, span v) {
  uint64_t n;
  if (!span_is(k, "version"))
    return FAIL(ps, "a bond file begins with 'version = %d'", BK_BOND_VERSION);
  ps->key_line[K_VERSION] = ps->line;
  if (!parse_dec(v, UINT32_MAX, &n))
    return FAIL(ps, "'version' is not a number");
  if (n != BK_BOND_VERSION)
    return FAIL(ps, "version %" PRIu64 " is not one this reads (%d)", n, BK_BOND_VERSION);
  return 0;
}

static int one_line(parser *ps, span l) {
  for (size_t i = 0; i < l.n; i++) {
    unsigned char c = (unsigned char)l.p[i];
    if (c == '\0')
      return FAIL(ps, "a NUL byte");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return FAIL(ps, "a control character (0x%02x)", c);
  }
  l = trim(l);
  if (!l.n || l.p[0] == '#')
    return 0;
  if (ps->sec == SEC_END)
    return FAIL(ps, "text after [end]");
  if (l.p[0] == '[') {
    if (!ps->key_line[K_VERSION])
      return FAIL(ps, "a bond file begins with 'version = %d'", BK_BOND_VERSION);
    return section_line(ps, l);
  }
  const char *eq = memchr(l.p, '=', l.n);
  if (!eq)
    return FAIL(ps, "not 'key = value'");
  span k = trim((span){l.p, (size_t)(eq - l.p)});
  span v = trim((span){eq + 1, l.n - (size_t)(eq - l.p) - 1});
  if (!ps->key_line[K_VERSION])
    return version_line(ps, k, v);
  return ps->sec == SEC_TOP ? top_line(ps, k, v) : gatt_line(ps, k, v);
}

static bool addr_equal(const bk_bond_addr *a, const bk_bond_addr *b) {
  return a->type == b->type && !memcmp(a->addr, b->addr, 6);
}

/* After [end]: what every file has, what goes together, whose it is. */
static int check_whole(parser *ps, const bk_bond_id *expect) {
  bk_bond *b = ps->b;
  ps->line = ps->end_line;
  for (size_t i = 0; i < BK_ARRAY_SIZE(required); i++)
    if (!ps->key_line[required[i]])
      return FAIL(ps, "no '%s' before [end]", key_names[required[i]]);
  struct {
    enum key key, counter;
  } pairs[] = {{K_LOCAL_CSRK, K_LOCAL_COUNTER}, {K_PEER_CSRK, K_PEER_COUNTER}};
  for (size_t i = 0; i < BK_ARRAY_SIZE(pairs); i++) {
    unsigned a = ps->key_line[pairs[i].key], c = ps->key_line[pairs[i].counter];
    if (!a != !c) {
      ps->line = a ? a : c;
      return FAIL(ps, "'%s' goes with '%s'", key_names[a ? pairs[i].key : pairs[i].counter],
                  key_names[a ? pairs[i].counter : pairs[i].key]);
    }
  }
  if (b->secure_connections && (b->ediv || b->rand)) {
    ps->line = ps->key_line[b->ediv ? K_EDIV : K_RAND];
    return FAIL(ps, "a Secure Connections LTK has EDIV 0 and Rand 0");
  }
  if (expect) {
    char want[18];
    if (!addr_equal(&b->id.local, &expect->local)) {
      ps->line = ps->key_line[K_LOCAL];
      bk_hci_format_address(expect->local.addr, want);
      return FAIL(ps, "'local' is not the file name's (%s, %s)", want,
                  type_names[expect->local.type & 1]);
    }
    if (!addr_equal(&b->id.peer, &expect->peer)) {
      ps->line = ps->key_line[K_PEER];
      bk_hci_format_address(expect->peer.addr, want);
      return FAIL(ps, "'peer' is not the file name's (%s, %s)", want,
                  type_names[expect->peer.type & 1]);
    }
  }
  if (ps->s) {
    int err = bk_gatt_services_finish(ps->s);
    if (err == BLEAK_ERR_NO_MEMORY)
      return err;
    if (err) {
      char why[256];
      snprintf(why, sizeof why, "%s", bleak_error_detail());
      ps->line = ps->gatt_line;
      return FAIL(ps, "[gatt]: %s", why);
    }
  }
  return 0;
}

int bk_bond_parse(const char *text, size_t len, const bk_bond_id *expect, bk_bond *out) {
  if (!out || (!text && len))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond parse: NULL argument");
  memset(out, 0, sizeof *out);
  if (len > BK_BOND_MAX_FILE)
    return bk_fail(BLEAK_ERR_PROTOCOL, "a bond file of %zu bytes: more than %u", len,
                   BK_BOND_MAX_FILE);
  parser ps = {.b = out};
  size_t pos = 0;
  int err = 0;
  while (!err && pos < len) {
    ps.line++;
    const char *nl = memchr(text + pos, '\n', len - pos);
    if (!nl) {
      err = FAIL(&ps, "no newline at its end: the file is cut short");
      break;
    }
    span l = {text + pos, (size_t)(nl - (text + pos))};
    pos += l.n + 1;
    err = one_line(&ps, l);
  }
  if (!err && !ps.key_line[K_VERSION])
    err = bk_fail(BLEAK_ERR_PROTOCOL, "bond file: empty (no 'version = %d')", BK_BOND_VERSION);
  else if (!err && ps.sec != SEC_END)
    err = bk_fail(BLEAK_ERR_PROTOCOL, "bond file: ends at line %u without [end]: cut short",
                  ps.line);
  if (!err)
    err = check_whole(&ps, expect);
  if (err) {
    bleak_gatt_services_unref(ps.s);
    bk_bond_clear(out);
    return err;
  }
  out->gatt = ps.s;
  return 0;
}

/* ---- the directory ------------------------------------------------------- */

/* @p a, then "/" and @p b unless NULL, as a new string (no trailing '/'
 * on @p a kept). */
static int path_join(const char *a, const char *b, char **out) {
  size_t n = strlen(a);
  while (n > 1 && a[n - 1] == '/')
    n--;
  size_t total = n + (b ? 1 + strlen(b) : 0);
  if (total >= PATH_MAX)
    return bk_fail(BLEAK_ERR_TOO_LONG, "bond directory: a path longer than %d bytes", PATH_MAX);
  char *p = malloc(total + 1);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  memcpy(p, a, n);
  if (b && n == 1 && a[0] == '/') { /* the root: no second '/' */
    memcpy(p + 1, b, strlen(b) + 1);
  } else if (b) {
    p[n] = '/';
    memcpy(p + n + 1, b, strlen(b) + 1);
  } else {
    p[n] = '\0';
  }
  *out = p;
  return 0;
}

int bk_bond_dir_resolve_env(const char *option, const bk_bond_env *env, char **out) {
  if (!out || !env)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond directory: NULL argument");
  *out = NULL;
  if (option && *option)
    return path_join(option, NULL, out);
  if (env->bond_dir && *env->bond_dir)
    return path_join(env->bond_dir, NULL, out);
  if (env->xdg_state_home && env->xdg_state_home[0] == '/')
    return path_join(env->xdg_state_home, "bleak/bonds", out);
  if (env->home && *env->home)
    return path_join(env->home, ".local/state/bleak/bonds", out);
  if (env->root)
    return path_join(BK_BOND_SYSTEM_DIR, NULL, out);
  return bk_fail(BLEAK_ERR_INVALID_ARG, "no directory for bonds: HOME is not set; set "
                                        "BLEAK_BOND_DIR (or the client's bond directory)");
}

int bk_bond_dir_resolve(const char *option, char **out) {
  /* secure_getenv: a set-user-ID program does not take its caller's
   * word for where keys go. */
  bk_bond_env env = {
      .bond_dir = secure_getenv("BLEAK_BOND_DIR"),
      .xdg_state_home = secure_getenv("XDG_STATE_HOME"),
      .home = secure_getenv("HOME"),
      .root = geteuid() == 0,
  };
  return bk_bond_dir_resolve_env(option, &env, out);
}

static int io_fail(const char *what, const char *path, int e) {
  return bk_fail(BLEAK_ERR_IO, "bond store: %s %s: %s", what, path, strerror(e));
}

/* mkdir -p, each directory made 0700 (whatever the umask). An existing
 * one is left as it is. */
static int make_dirs(const char *dir) {
  char *p;
  int err = path_join(dir, NULL, &p);
  if (err)
    return err;
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0')
      continue;
    char c = *s;
    *s = '\0';
    if (mkdir(p, 0700) == 0) {
      if (chmod(p, 0700) != 0)
        err = io_fail("cannot set the mode of", p, errno);
    } else if (errno != EEXIST) {
      err = io_fail("cannot make", p, errno);
    }
    *s = c;
    if (err || c == '\0')
      break;
  }
  struct stat st;
  if (!err && stat(p, &st) != 0)
    err = io_fail("cannot reach", p, errno);
  else if (!err && !S_ISDIR(st.st_mode))
    err = bk_fail(BLEAK_ERR_IO, "bond store: %s is not a directory", p);
  free(p);
  return err;
}

/* After a rename or an unlink in @p dir (@p done says which): the
 * change is made, but lasts only once the directory is synced. */
static int sync_dir(const char *dir, const char *done) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = fd < 0 ? -1 : fsync(fd);
  int e = errno;
  if (fd >= 0)
    close(fd);
  /* Some file systems cannot sync a directory (EINVAL): nothing to do. */
  if (r != 0 && e != EINVAL)
    return bk_fail(BLEAK_ERR_IO, "bond store: %s, but cannot sync %s: %s", done, dir,
                   strerror(e));
  return 0;
}

/* The path of bond (local, peer) in @p dir, and its name. */
static int bond_path(const char *dir, const bk_bond_addr *local, const bk_bond_addr *peer,
                     char name[BK_BOND_NAME_LEN], char **path) {
  if (!dir || !*dir || !local || !peer)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond: NULL argument");
  bk_bond_id id = {*local, *peer};
  int err = bk_bond_file_name(&id, name);
  return err ? err : path_join(dir, name, path);
}

/* ---- the files ----------------------------------------------------------- */

/* The whole file, at most BK_BOND_MAX_FILE bytes, into a new buffer. */
static int read_file(const char *path, const char *name, char **out, size_t *len) {
  /* O_NONBLOCK: a FIFO in the way must not hang us (fstat refuses it). */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return bk_fail(BLEAK_ERR_NOT_FOUND, "no bond %s", path);
    return io_fail("cannot open", path, errno);
  }
  struct stat st;
  int err = 0;
  char *buf = NULL;
  size_t n = 0;
  if (fstat(fd, &st) != 0)
    err = io_fail("cannot stat", path, errno);
  else if (!S_ISREG(st.st_mode))
    err = bk_fail(BLEAK_ERR_PROTOCOL, "bond file %s: not a regular file", name);
  else if ((uint64_t)st.st_size > BK_BOND_MAX_FILE)
    err = bk_fail(BLEAK_ERR_PROTOCOL, "bond file %s: %jd bytes, more than the %u allowed", name,
                  (intmax_t)st.st_size, BK_BOND_MAX_FILE);
  else if (!(buf = malloc((size_t)st.st_size + 1)))
    err = BLEAK_ERR_NO_MEMORY;
  /* Read one byte more than it had: a file that grew is not the one we
   * sized (bonds are replaced by rename, never written in place). */
  size_t cap = buf ? (size_t)st.st_size + 1 : 0;
  while (!err && n < cap) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      err = io_fail("cannot read", path, errno);
    else if (r == 0)
      break;
    else
      n += (size_t)r;
  }
  if (!err && n == cap)
    err = bk_fail(BLEAK_ERR_IO, "bond file %s changed while it was read", name);
  close(fd);
  if (err) {
    if (buf)
      explicit_bzero(buf, cap);
    free(buf);
    return err;
  }
  *out = buf;
  *len = n;
  return 0;
}

int bk_bond_load(const char *dir, const bk_bond_addr *local, const bk_bond_addr *peer,
                 bk_bond *out) {
  if (!out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond load: NULL argument");
  memset(out, 0, sizeof *out);
  char name[BK_BOND_NAME_LEN], *path = NULL, *text = NULL;
  size_t len = 0;
  int err = bond_path(dir, local, peer, name, &path);
  if (!err)
    err = read_file(path, name, &text, &len);
  free(path);
  if (err)
    return err;
  bk_bond_id id = {*local, *peer};
  err = bk_bond_parse(text, len, &id, out);
  explicit_bzero(text, len);
  free(text);
  if (err == BLEAK_ERR_PROTOCOL) {
    char why[256];
    snprintf(why, sizeof why, "%s", bleak_error_detail());
    bk_fail(err, "%s (%s)", why, name);
  }
  return err;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 ? errno : EIO;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* The new file in a temporary one beside the old, made ours alone, synced,
 * then renamed over it. */
static int write_atomic(const char *dir, const char *name, const char *path, const char *text,
                        size_t len) {
  char *tmp;
  char tname[BK_BOND_NAME_LEN + 8];
  snprintf(tname, sizeof tname, ".%s.XXXXXX", name);
  int err = path_join(dir, tname, &tmp);
  if (err)
    return err;
  /* mkostemp: O_CREAT | O_EXCL (never someone else's file), 0600. */
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    err = io_fail("cannot create a file in", dir, errno);
    free(tmp);
    return err;
  }
  int e;
  if (fchmod(fd, 0600) != 0)
    err = io_fail("cannot set the mode of", tmp, errno);
  else if ((e = write_all(fd, text, len)) != 0)
    err = io_fail("cannot write", tmp, e);
  else if (fsync(fd) != 0)
    err = io_fail("cannot sync", tmp, errno);
  if (close(fd) != 0 && !err)
    err = io_fail("cannot close", tmp, errno);
  if (!err && rename(tmp, path) != 0)
    err = io_fail("cannot rename over", path, errno);
  if (err)
    (void)unlink(tmp);
  free(tmp);
  return err;
}

int bk_bond_store(const char *dir, const bk_bond *b) {
  if (!dir || !*dir || !b)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond store: NULL argument");
  char *text = NULL, *path = NULL, name[BK_BOND_NAME_LEN];
  size_t len = 0;
  int err = bk_bond_format(b, &text, &len);
  if (!err)
    err = bond_path(dir, &b->id.local, &b->id.peer, name, &path);
  if (!err)
    err = make_dirs(dir);
  if (!err)
    err = write_atomic(dir, name, path, text, len);
  if (!err)
    err = sync_dir(dir, "stored");
  if (text)
    explicit_bzero(text, len);
  free(text);
  free(path);
  return err;
}

int bk_bond_remove(const char *dir, const bk_bond_addr *local, const bk_bond_addr *peer) {
  char name[BK_BOND_NAME_LEN], *path = NULL;
  int err = bond_path(dir, local, peer, name, &path);
  if (err)
    return err;
  if (unlink(path) != 0)
    err = errno == ENOENT || errno == ENOTDIR ? bk_fail(BLEAK_ERR_NOT_FOUND, "no bond %s", path)
                                               : io_fail("cannot remove", path, errno);
  free(path);
  return err ? err : sync_dir(dir, "removed");
}

static int cmp_addr(const bk_bond_addr *a, const bk_bond_addr *b) {
  for (int i = 5; i >= 0; i--)
    if (a->addr[i] != b->addr[i])
      return a->addr[i] < b->addr[i] ? -1 : 1;
  return (int)a->type - (int)b->type;
}

/* File name order: local address, its type, then the peer's. */
static int cmp_id(const void *x, const void *y) {
  const bk_bond_id *a = x, *b = y;
  int c = cmp_addr(&a->local, &b->local);
  return c ? c : cmp_addr(&a->peer, &b->peer);
}

int bk_bond_list(const char *dir, bk_bond_id **out, size_t *n) {
  if (!dir || !*dir || !out || !n)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond list: NULL argument");
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : io_fail("cannot read", dir, errno);
  bk_bond_id *ids = NULL;
  size_t count = 0, cap = 0;
  int err = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno)
        err = io_fail("cannot read", dir, errno);
      break;
    }
    bk_bond_id id;
    if (bk_bond_parse_file_name(e->d_name, &id) != 0)
      continue; /* not a bond: a temporary file, something else's */
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      bk_bond_id *p = realloc(ids, ncap * sizeof *ids);
      if (!p) {
        err = BLEAK_ERR_NO_MEMORY;
        break;
      }
      ids = p;
      cap = ncap;
    }
    ids[count++] = id;
  }
  closedir(d);
  if (err) {
    free(ids);
    return err;
  }
  if (count)
    qsort(ids, count, sizeof *ids, cmp_id);
  *out = ids;
  *n = count;
  return 0;
}

int bk_bond_foreach(const char *dir, bk_bond_fn fn, void *user, size_t *bad) {
  if (bad)
    *bad = 0;
  if (!fn)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bond foreach: NULL callback");
  bk_bond_id *ids;
  size_t n;
  int err = bk_bond_list(dir, &ids, &n);
  for (size_t i = 0; !err && i < n; i++) {
    bk_bond b;
    int r = bk_bond_load(dir, &ids[i].local, &ids[i].peer, &b);
    if (r == BLEAK_ERR_NO_MEMORY) {
      err = r;
    } else if (r == BLEAK_ERR_NOT_FOUND) {
      continue; /* removed since the listing */
    } else if (r) {
      /* The detail names lines and keys, never a key's value. */
      BK_WARN(MOD, "bond skipped: %s", bleak_error_detail());
      if (bad)
        (*bad)++;
    } else {
      err = fn(&b, user);
      bk_bond_clear(&b);
    }
  }
  free(ids);
  return err;
}

int bk_bond_remove_peer(const char *dir, const uint8_t peer[6]) {
  bk_bond_id *ids = NULL;
  size_t n = 0;
  int removed = 0;
  int r = bk_bond_list(dir, &ids, &n);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (!memcmp(ids[i].peer.addr, peer, 6)) {
      r = bk_bond_remove(dir, &ids[i].local, &ids[i].peer);
      if (r == 0)
        removed++;
      else if (r == BLEAK_ERR_NOT_FOUND) /* gone meanwhile */
        r = 0;
    }
  free(ids);
  return r < 0 ? r : removed;
}
