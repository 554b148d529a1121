/* SPDX-License-Identifier: MIT */
/*
 * The GATT collection: three flat arrays (services, characteristics,
 * descriptors), each sorted by handle after finish, so that the
 * characteristics of a service (and the descriptors of a characteristic)
 * are contiguous slices, and lookups by handle are binary searches. No
 * allocation per lookup; the arrays do not move once finished, so borrowed
 * pointers stay valid for the collection's life.
 */
#include <stdlib.h>
#include <string.h>

#include "bleak/gatt.h"
#include "bleak/client.h" /* BLEAK_MAX_ATTR_VALUE */
#include "core/gatt_build.h"
#include "core/internal.h"

#define DEFAULT_MTU 23

struct bleak_gatt_descriptor {
  bleak_uuid uuid;
  uint16_t handle;
  uint16_t char_handle;
  const bleak_gatt_characteristic *chr;
};

struct bleak_gatt_characteristic {
  bleak_uuid uuid;
  uint16_t handle;
  uint16_t value_handle;
  uint16_t service_handle;
  uint32_t props;
  size_t max_wwr; /* 0: MTU - 3 */
  const bleak_gatt_service *svc;
  const bleak_gatt_services *coll;
  const bleak_gatt_descriptor *descs;
  size_t n_descs;
};

struct bleak_gatt_service {
  bleak_uuid uuid;
  uint16_t start;
  uint16_t end;
  bool primary;
  const bleak_gatt_characteristic *chars;
  size_t n_chars;
};

struct bleak_gatt_services {
  int refs;
  bool finished;
  uint16_t mtu;
  bleak_gatt_service *svcs;
  size_t n_svcs, cap_svcs;
  bleak_gatt_characteristic *chars;
  size_t n_chars, cap_chars;
  bleak_gatt_descriptor *descs;
  size_t n_descs, cap_descs;
};

/* ---- properties ---- */

static const char *const prop_names[BLEAK_GATT_PROP_COUNT] = {
    "broadcast",
    "read",
    "write-without-response",
    "write",
    "notify",
    "indicate",
    "authenticated-signed-writes",
    "extended-properties",
    "reliable-write",
    "writable-auxiliaries",
    "encrypt-read",
    "encrypt-write",
    "encrypt-authenticated-read",
    "encrypt-authenticated-write",
    "authorize",
    "secure-read",
    "secure-write",
};

const char *bleak_gatt_property_name(uint32_t prop) {
  for (int i = 0; i < BLEAK_GATT_PROP_COUNT; i++)
    if (prop == (1u << i))
      return prop_names[i];
  return NULL;
}

uint32_t bleak_gatt_property_from_name(const char *name) {
  if (!name)
    return 0;
  for (int i = 0; i < BLEAK_GATT_PROP_COUNT; i++)
    if (!strcmp(name, prop_names[i]))
      return 1u << i;
  return 0;
}

int bleak_gatt_properties_format(uint32_t props, char *buf, size_t cap) {
  if (!buf && cap)
    return BLEAK_ERR_INVALID_ARG;
  size_t len = 0;
  bool fits = true;
  if (cap)
    buf[0] = '\0';
  for (int i = 0; i < BLEAK_GATT_PROP_COUNT; i++) {
    if (!(props & (1u << i)))
      continue;
    size_t n = strlen(prop_names[i]) + (len ? 1 : 0);
    if (len + n + 1 > cap) {
      fits = false;
      break;
    }
    if (len)
      buf[len] = ',';
    memcpy(buf + len + (len ? 1 : 0), prop_names[i], strlen(prop_names[i]) + 1);
    len += n;
  }
  if (!fits)
    return bk_fail(BLEAK_ERR_BUFFER_TOO_SMALL, "%zu bytes are too few", cap);
  return (int)len;
}

/* ---- building ---- */

bleak_gatt_services *bk_gatt_services_new(void) {
  bleak_gatt_services *s = calloc(1, sizeof *s);
  if (s) {
    s->refs = 1;
    s->mtu = DEFAULT_MTU;
  }
  return s;
}

/* Room for one more element in @p arr (of *cap elements of @p size): the
 * array to use from now on, or NULL when out of memory (arr still valid). */
static void *grow(void *arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return arr;
  size_t ncap = *cap ? *cap * 2 : 8;
  void *p = realloc(arr, ncap * size);
  if (p)
    *cap = ncap;
  return p;
}

static int check_building(const bleak_gatt_services *s, const bleak_uuid *u) {
  if (!s || !u)
    return BLEAK_ERR_INVALID_ARG;
  if (s->finished)
    return bk_fail(BLEAK_ERR_STATE, "GATT collection is finished already");
  return 0;
}

int bk_gatt_services_add_service(bleak_gatt_services *s, const bleak_uuid *uuid,
                                 uint16_t start, uint16_t end, bool primary) {
  int r = check_building(s, uuid);
  if (r < 0)
    return r;
  void *p = grow(s->svcs, &s->cap_svcs, s->n_svcs, sizeof *s->svcs);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  s->svcs = p;
  s->svcs[s->n_svcs++] = (bleak_gatt_service){
      .uuid = *uuid, .start = start, .end = end, .primary = primary};
  return 0;
}

int bk_gatt_services_add_characteristic(bleak_gatt_services *s,
                                        uint16_t service_handle,
                                        const bleak_uuid *uuid,
                                        uint16_t handle, uint16_t value_handle,
                                        uint32_t props) {
  int r = check_building(s, uuid);
  if (r < 0)
    return r;
  void *p = grow(s->chars, &s->cap_chars, s->n_chars, sizeof *s->chars);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  s->chars = p;
  s->chars[s->n_chars++] = (bleak_gatt_characteristic){
      .uuid = *uuid,
      .handle = handle,
      .value_handle = value_handle,
      .service_handle = service_handle,
      .props = props};
  return 0;
}

int bk_gatt_services_add_descriptor(bleak_gatt_services *s, uint16_t char_handle,
                                    const bleak_uuid *uuid, uint16_t handle) {
  int r = check_building(s, uuid);
  if (r < 0)
    return r;
  void *p = grow(s->descs, &s->cap_descs, s->n_descs, sizeof *s->descs);
  if (!p)
    return BLEAK_ERR_NO_MEMORY;
  s->descs = p;
  s->descs[s->n_descs++] = (bleak_gatt_descriptor){
      .uuid = *uuid, .handle = handle, .char_handle = char_handle};
  return 0;
}

void bk_gatt_services_set_mtu(bleak_gatt_services *s, uint16_t mtu) {
  if (s)
    s->mtu = mtu < DEFAULT_MTU ? DEFAULT_MTU : mtu;
}

static int cmp_svc(const void *a, const void *b) {
  const bleak_gatt_service *x = a, *y = b;
  return (int)x->start - (int)y->start;
}
static int cmp_char(const void *a, const void *b) {
  const bleak_gatt_characteristic *x = a, *y = b;
  return (int)x->handle - (int)y->handle;
}
/* Finished collections have declaration < value < next declaration
 * (link_characteristics checks it), so the characteristics, sorted by
 * declaration handle, are sorted by value handle too. */
static int cmp_char_value(const void *a, const void *b) {
  const bleak_gatt_characteristic *x = a, *y = b;
  return (int)x->value_handle - (int)y->value_handle;
}
static int cmp_desc(const void *a, const void *b) {
  const bleak_gatt_descriptor *x = a, *y = b;
  return (int)x->handle - (int)y->handle;
}

static int validate_services(const bleak_gatt_services *s) {
  for (size_t i = 0; i < s->n_svcs; i++) {
    const bleak_gatt_service *v = &s->svcs[i];
    if (v->start == 0 || v->end < v->start)
      return bk_fail(BLEAK_ERR_PROTOCOL, "service 0x%04x-0x%04x: bad range",
                     v->start, v->end);
    if (i && v->start <= s->svcs[i - 1].end)
      return bk_fail(BLEAK_ERR_PROTOCOL,
                     "service at 0x%04x overlaps the one at 0x%04x-0x%04x",
                     v->start, s->svcs[i - 1].start, s->svcs[i - 1].end);
  }
  return 0;
}

/* Services are sorted; find the one starting at @p start. */
static bleak_gatt_service *svc_by_start(const bleak_gatt_services *s,
                                        uint16_t start) {
  bleak_gatt_service key = {.start = start};
  return bsearch(&key, s->svcs, s->n_svcs, sizeof *s->svcs, cmp_svc);
}

static bleak_gatt_characteristic *char_by_handle(const bleak_gatt_services *s,
                                                 uint16_t handle) {
  bleak_gatt_characteristic key = {.handle = handle};
  return bsearch(&key, s->chars, s->n_chars, sizeof *s->chars, cmp_char);
}

static int link_characteristics(bleak_gatt_services *s) {
  for (size_t i = 0; i < s->n_svcs; i++) {
    s->svcs[i].chars = NULL;
    s->svcs[i].n_chars = 0;
  }
  for (size_t i = 0; i < s->n_chars; i++) {
    bleak_gatt_characteristic *c = &s->chars[i];
    bleak_gatt_service *v = svc_by_start(s, c->service_handle);
    if (!v)
      return bk_fail(BLEAK_ERR_PROTOCOL,
                     "characteristic 0x%04x: no service at 0x%04x", c->handle,
                     c->service_handle);
    if (c->handle <= v->start || c->value_handle <= c->handle ||
        c->value_handle > v->end)
      return bk_fail(BLEAK_ERR_PROTOCOL,
                     "characteristic 0x%04x (value 0x%04x) outside service "
                     "0x%04x-0x%04x",
                     c->handle, c->value_handle, v->start, v->end);
    if (i && c->handle <= s->chars[i - 1].value_handle)
      return bk_fail(BLEAK_ERR_PROTOCOL,
                     "characteristic 0x%04x overlaps the one at 0x%04x",
                     c->handle, s->chars[i - 1].handle);
    /* Sorted by handle and services do not overlap: a contiguous slice. */
    if (!v->chars)
      v->chars = c;
    v->n_chars++;
    c->svc = v;
    c->coll = s;
    c->descs = NULL;
    c->n_descs = 0;
  }
  return 0;
}

/* The handle just before the next characteristic, or the service's end. */
static uint16_t char_end(const bleak_gatt_services *s,
                         const bleak_gatt_characteristic *c) {
  size_t i = (size_t)(c - s->chars);
  if (i + 1 < s->n_chars && s->chars[i + 1].svc == c->svc)
    return (uint16_t)(s->chars[i + 1].handle - 1);
  return c->svc->end;
}

static int link_descriptors(bleak_gatt_services *s) {
  for (size_t i = 0; i < s->n_descs; i++) {
    bleak_gatt_descriptor *d = &s->descs[i];
    bleak_gatt_characteristic *c = char_by_handle(s, d->char_handle);
    if (!c)
      return bk_fail(BLEAK_ERR_PROTOCOL,
                     "descriptor 0x%04x: no characteristic at 0x%04x",
                     d->handle, d->char_handle);
    if (d->handle <= c->value_handle || d->handle > char_end(s, c))
      return bk_fail(BLEAK_ERR_PROTOCOL,
                     "descriptor 0x%04x outside characteristic 0x%04x",
                     d->handle, c->handle);
    if (i && d->handle == s->descs[i - 1].handle)
      return bk_fail(BLEAK_ERR_PROTOCOL, "duplicate descriptor handle 0x%04x",
                     d->handle);
    if (!c->descs)
      c->descs = d;
    c->n_descs++;
    d->chr = c;
  }
  return 0;
}

static int link_all(bleak_gatt_services *s) {
  if (s->n_svcs)
    qsort(s->svcs, s->n_svcs, sizeof *s->svcs, cmp_svc);
  if (s->n_chars)
    qsort(s->chars, s->n_chars, sizeof *s->chars, cmp_char);
  if (s->n_descs)
    qsort(s->descs, s->n_descs, sizeof *s->descs, cmp_desc);
  int r = validate_services(s);
  if (r == 0)
    r = link_characteristics(s);
  if (r == 0)
    r = link_descriptors(s);
  return r;
}

int bk_gatt_services_finish(bleak_gatt_services *s) {
  if (!s)
    return BLEAK_ERR_INVALID_ARG;
  if (s->finished)
    return 0;
  int r = link_all(s);
  if (r < 0) {
    /* Leave nothing half-linked for a caller that ignores the error. */
    s->n_svcs = s->n_chars = s->n_descs = 0;
    return r;
  }
  s->finished = true;
  return 0;
}

static bool uuid_in(const bleak_uuid *u, const bleak_uuid *set, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (bleak_uuid_equal(u, &set[i]))
      return true;
  return false;
}

void bk_gatt_services_filter(bleak_gatt_services *s, const bleak_uuid *uuids,
                             size_t n) {
  if (!s || !uuids)
    return;
  size_t nv = 0, nc = 0, nd = 0;
  for (size_t i = 0; i < s->n_svcs; i++)
    if (uuid_in(&s->svcs[i].uuid, uuids, n))
      s->svcs[nv++] = s->svcs[i];
  s->n_svcs = nv;
  if (nv)
    qsort(s->svcs, nv, sizeof *s->svcs, cmp_svc);
  for (size_t i = 0; i < s->n_chars; i++)
    if (svc_by_start(s, s->chars[i].service_handle))
      s->chars[nc++] = s->chars[i];
  s->n_chars = nc;
  if (nc)
    qsort(s->chars, nc, sizeof *s->chars, cmp_char);
  for (size_t i = 0; i < s->n_descs; i++)
    if (char_by_handle(s, s->descs[i].char_handle))
      s->descs[nd++] = s->descs[i];
  s->n_descs = nd;
  if (s->finished && link_all(s) < 0)
    s->n_svcs = s->n_chars = s->n_descs = 0; /* cannot happen: was valid */
}

int bk_gatt_services_set_max_write_without_response(bleak_gatt_services *s,
                                                    uint16_t char_handle,
                                                    size_t size) {
  bleak_gatt_characteristic *c = s ? char_by_handle(s, char_handle) : NULL;
  if (!c)
    return BLEAK_ERR_NOT_FOUND;
  c->max_wwr = size;
  return 0;
}

/* ---- the collection ---- */

bleak_gatt_services *bleak_gatt_services_ref(bleak_gatt_services *s) {
  if (s)
    s->refs++;
  return s;
}

void bleak_gatt_services_unref(bleak_gatt_services *s) {
  if (!s || --s->refs > 0)
    return;
  free(s->svcs);
  free(s->chars);
  free(s->descs);
  free(s);
}

size_t bleak_gatt_services_count(const bleak_gatt_services *s) {
  return s ? s->n_svcs : 0;
}

const bleak_gatt_service *bleak_gatt_services_at(const bleak_gatt_services *s,
                                                 size_t i) {
  return s && i < s->n_svcs ? &s->svcs[i] : NULL;
}

size_t bleak_gatt_services_characteristic_count(const bleak_gatt_services *s) {
  return s ? s->n_chars : 0;
}

size_t bleak_gatt_services_descriptor_count(const bleak_gatt_services *s) {
  return s ? s->n_descs : 0;
}

uint16_t bleak_gatt_services_mtu(const bleak_gatt_services *s) {
  return s ? s->mtu : DEFAULT_MTU;
}

const bleak_gatt_service *
bleak_gatt_services_get_service(const bleak_gatt_services *s,
                                const bleak_uuid *uuid) {
  if (!s || !uuid)
    return NULL;
  for (size_t i = 0; i < s->n_svcs; i++)
    if (bleak_uuid_equal(&s->svcs[i].uuid, uuid))
      return &s->svcs[i];
  return NULL;
}

const bleak_gatt_service *
bleak_gatt_services_get_service_by_handle(const bleak_gatt_services *s,
                                          uint16_t handle) {
  return s && s->finished ? svc_by_start(s, handle) : NULL;
}

int bleak_gatt_services_find_characteristic(const bleak_gatt_services *s,
                                            const bleak_uuid *uuid,
                                            const bleak_gatt_characteristic **out) {
  if (out)
    *out = NULL;
  if (!s || !uuid || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "find_characteristic: NULL argument");
  const bleak_gatt_characteristic *found = NULL;
  size_t count = 0;
  for (size_t i = 0; i < s->n_chars; i++) {
    if (bleak_uuid_equal(&s->chars[i].uuid, uuid)) {
      if (!found)
        found = &s->chars[i];
      count++;
    }
  }
  char str[BLEAK_UUID_STR_LEN];
  if (!found)
    return bk_fail(BLEAK_ERR_NOT_FOUND, "no characteristic with UUID %s",
                   bleak_uuid_to_string(uuid, str));
  if (count > 1)
    return bk_fail(BLEAK_ERR_AMBIGUOUS,
                   "%zu characteristics have UUID %s: refer to your desired "
                   "characteristic by its handle instead",
                   count, bleak_uuid_to_string(uuid, str));
  *out = found;
  return 0;
}

int bleak_gatt_services_find_characteristic_str(
    const bleak_gatt_services *s, const char *uuid,
    const bleak_gatt_characteristic **out) {
  if (out)
    *out = NULL;
  bleak_uuid u;
  if (!uuid || bleak_uuid_parse(uuid, &u) < 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "not a UUID: \"%.40s\"",
                   uuid ? uuid : "(null)");
  return bleak_gatt_services_find_characteristic(s, &u, out);
}

const bleak_gatt_characteristic *
bleak_gatt_services_get_characteristic_by_handle(const bleak_gatt_services *s,
                                                 uint16_t handle) {
  return s && s->finished ? char_by_handle(s, handle) : NULL;
}

const bleak_gatt_characteristic *
bleak_gatt_services_get_characteristic_by_value_handle(const bleak_gatt_services *s,
                                                       uint16_t value_handle) {
  if (!s || !s->finished)
    return NULL;
  bleak_gatt_characteristic key = {.value_handle = value_handle};
  return bsearch(&key, s->chars, s->n_chars, sizeof *s->chars, cmp_char_value);
}

const bleak_gatt_descriptor *
bleak_gatt_services_get_descriptor_by_handle(const bleak_gatt_services *s,
                                             uint16_t handle) {
  if (!s || !s->finished)
    return NULL;
  bleak_gatt_descriptor key = {.handle = handle};
  return bsearch(&key, s->descs, s->n_descs, sizeof *s->descs, cmp_desc);
}

/* ---- services, characteristics, descriptors ---- */

static const char *name_or_unknown(const bleak_uuid *u) {
  const char *n = bleak_uuid_name(u);
  return n ? n : "Unknown";
}

const bleak_uuid *bleak_gatt_service_uuid(const bleak_gatt_service *v) {
  return v ? &v->uuid : NULL;
}
uint16_t bleak_gatt_service_handle(const bleak_gatt_service *v) {
  return v ? v->start : 0;
}
uint16_t bleak_gatt_service_end_handle(const bleak_gatt_service *v) {
  return v ? v->end : 0;
}
bool bleak_gatt_service_is_primary(const bleak_gatt_service *v) {
  return v && v->primary;
}
const char *bleak_gatt_service_description(const bleak_gatt_service *v) {
  return v ? name_or_unknown(&v->uuid) : "Unknown";
}
size_t bleak_gatt_service_characteristic_count(const bleak_gatt_service *v) {
  return v ? v->n_chars : 0;
}
const bleak_gatt_characteristic *
bleak_gatt_service_characteristic_at(const bleak_gatt_service *v, size_t i) {
  return v && i < v->n_chars ? &v->chars[i] : NULL;
}
const bleak_gatt_characteristic *
bleak_gatt_service_get_characteristic(const bleak_gatt_service *v,
                                      const bleak_uuid *uuid) {
  if (!v || !uuid)
    return NULL;
  for (size_t i = 0; i < v->n_chars; i++)
    if (bleak_uuid_equal(&v->chars[i].uuid, uuid))
      return &v->chars[i];
  return NULL;
}

const bleak_uuid *
bleak_gatt_characteristic_uuid(const bleak_gatt_characteristic *c) {
  return c ? &c->uuid : NULL;
}
uint16_t bleak_gatt_characteristic_handle(const bleak_gatt_characteristic *c) {
  return c ? c->handle : 0;
}
uint16_t
bleak_gatt_characteristic_value_handle(const bleak_gatt_characteristic *c) {
  return c ? c->value_handle : 0;
}
uint32_t
bleak_gatt_characteristic_properties(const bleak_gatt_characteristic *c) {
  return c ? c->props : 0;
}
size_t bleak_gatt_characteristic_max_write_without_response_size(
    const bleak_gatt_characteristic *c) {
  if (!c)
    return 0;
  size_t max = c->max_wwr ? c->max_wwr : (size_t)(c->coll->mtu - 3);
  /* An attribute value has at most 512 bytes whatever the MTU (Core Vol 3
   * Part F 3.2.9): with MTU 517, MTU - 3 would be 514. */
  return max < BLEAK_MAX_ATTR_VALUE ? max : BLEAK_MAX_ATTR_VALUE;
}
const bleak_gatt_service *
bleak_gatt_characteristic_service(const bleak_gatt_characteristic *c) {
  return c ? c->svc : NULL;
}
const char *
bleak_gatt_characteristic_description(const bleak_gatt_characteristic *c) {
  return c ? name_or_unknown(&c->uuid) : "Unknown";
}
size_t
bleak_gatt_characteristic_descriptor_count(const bleak_gatt_characteristic *c) {
  return c ? c->n_descs : 0;
}
const bleak_gatt_descriptor *
bleak_gatt_characteristic_descriptor_at(const bleak_gatt_characteristic *c,
                                        size_t i) {
  return c && i < c->n_descs ? &c->descs[i] : NULL;
}
const bleak_gatt_descriptor *
bleak_gatt_characteristic_get_descriptor(const bleak_gatt_characteristic *c,
                                         const bleak_uuid *uuid) {
  if (!c || !uuid)
    return NULL;
  for (size_t i = 0; i < c->n_descs; i++)
    if (bleak_uuid_equal(&c->descs[i].uuid, uuid))
      return &c->descs[i];
  return NULL;
}

const bleak_uuid *bleak_gatt_descriptor_uuid(const bleak_gatt_descriptor *d) {
  return d ? &d->uuid : NULL;
}
uint16_t bleak_gatt_descriptor_handle(const bleak_gatt_descriptor *d) {
  return d ? d->handle : 0;
}
const bleak_gatt_characteristic *
bleak_gatt_descriptor_characteristic(const bleak_gatt_descriptor *d) {
  return d ? d->chr : NULL;
}
const char *bleak_gatt_descriptor_description(const bleak_gatt_descriptor *d) {
  return d ? name_or_unknown(&d->uuid) : "Unknown";
}
