/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "backend/bluez/props.h"

int bz_dict_enter(sd_bus_message *m) {
  return sd_bus_message_enter_container(m, 'a', "{sv}");
}

int bz_dict_next(sd_bus_message *m, const char **name) {
  int r = sd_bus_message_enter_container(m, 'e', "sv");
  if (r <= 0)
    return r;
  r = sd_bus_message_read(m, "s", name);
  return r < 0 ? r : 1;
}

int bz_dict_entry_end(sd_bus_message *m) { return sd_bus_message_exit_container(m); }
int bz_dict_exit(sd_bus_message *m) { return sd_bus_message_exit_container(m); }
int bz_skip_dict(sd_bus_message *m) { return sd_bus_message_skip(m, "a{sv}"); }
int bz_var_skip(sd_bus_message *m) { return sd_bus_message_skip(m, "v"); }

/* 1 when the variant at @p m holds exactly @p sig, 0 when not, < 0. */
static int variant_is(sd_bus_message *m, const char *sig) {
  char type;
  const char *contents = NULL;
  int r = sd_bus_message_peek_type(m, &type, &contents);
  if (r <= 0)
    return r < 0 ? r : -EBADMSG;
  return type == 'v' && contents && !strcmp(contents, sig);
}

#define READ_BASIC(fn, sig, ctype, outtype)                                    \
  int fn(sd_bus_message *m, outtype *out) {                                    \
    int r = variant_is(m, sig);                                                \
    if (r <= 0)                                                                \
      return r < 0 ? r : (bz_var_skip(m) < 0 ? -EBADMSG : 0);                  \
    ctype v;                                                                   \
    r = sd_bus_message_read(m, "v", sig, &v);                                  \
    if (r < 0)                                                                 \
      return r;                                                                \
    *out = (outtype)v;                                                         \
    return 1;                                                                  \
  }

READ_BASIC(bz_var_bool, "b", int, bool)
READ_BASIC(bz_var_u16, "q", uint16_t, uint16_t)
READ_BASIC(bz_var_i16, "n", int16_t, int16_t)
READ_BASIC(bz_var_str, "s", const char *, const char *)

int bz_var_bytes(sd_bus_message *m, const void **data, size_t *len) {
  int r = variant_is(m, "ay");
  if (r <= 0)
    return r < 0 ? r : (bz_var_skip(m) < 0 ? -EBADMSG : 0);
  if ((r = sd_bus_message_enter_container(m, 'v', "ay")) < 0 ||
      (r = sd_bus_message_read_array(m, 'y', data, len)) < 0)
    return r;
  r = sd_bus_message_exit_container(m);
  return r < 0 ? r : 1;
}

int bz_var_strv(sd_bus_message *m, void (*fn)(const char *s, void *user),
                void *user) {
  int r = variant_is(m, "as");
  if (r <= 0)
    return r < 0 ? r : (bz_var_skip(m) < 0 ? -EBADMSG : 0);
  if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0 ||
      (r = sd_bus_message_enter_container(m, 'a', "s")) < 0)
    return r;
  const char *s;
  while ((r = sd_bus_message_read(m, "s", &s)) > 0)
    fn(s, user);
  if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 ||
      (r = sd_bus_message_exit_container(m)) < 0)
    return r;
  return 1;
}

int bz_walk_interfaces(sd_bus_message *m, const char *path, bz_object_fn fn,
                       void *user) {
  int r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
    const char *iface;
    if ((r = sd_bus_message_read(m, "s", &iface)) < 0 ||
        (r = fn(path, iface, m, user)) < 0 ||
        (r = sd_bus_message_exit_container(m)) < 0)
      return r;
  }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

int bz_walk_objects(sd_bus_message *m, bz_object_fn fn, void *user) {
  int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
    const char *path;
    if ((r = sd_bus_message_read(m, "o", &path)) < 0 ||
        (r = bz_walk_interfaces(m, path, fn, user)) < 0 ||
        (r = sd_bus_message_exit_container(m)) < 0)
      return r;
  }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

bool bz_parse_hex4(const char *s, uint16_t *out) {
  uint16_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = (uint16_t)(v << 4 | d);
  }
  *out = v;
  return true;
}
