/* SPDX-License-Identifier: MIT */
/*
 * Reading BlueZ's property dictionaries (a{sv}) and GetManagedObjects
 * replies (a{oa{sa{sv}}}) defensively: a property of an unexpected type is
 * skipped, never trusted; a malformed message ends the walk with an error.
 */
#ifndef BLEAK_BLUEZ_PROPS_H
#define BLEAK_BLUEZ_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* Called for each (object, interface); @p m is positioned at the a{sv} of
 * that interface, which the callback must consume (bz_dict_*) or skip
 * (bz_skip_dict). Return < 0 to stop. */
typedef int (*bz_object_fn)(const char *path, const char *iface,
                            sd_bus_message *m, void *user);

/* Walk a GetManagedObjects reply (or an InterfacesAdded signal body after
 * its object path: set @p single). */
int bz_walk_objects(sd_bus_message *m, bz_object_fn fn, void *user);
int bz_walk_interfaces(sd_bus_message *m, const char *path, bz_object_fn fn,
                       void *user);

/* Iterate a{sv}: bz_dict_enter(), then while bz_dict_next() returns 1, read
 * the value with one bz_var_* (each consumes the variant, skipping it when
 * its type is not the expected one and returning 0) and bz_dict_entry_end();
 * then bz_dict_exit(). */
int bz_dict_enter(sd_bus_message *m);
int bz_dict_next(sd_bus_message *m, const char **name);
int bz_dict_entry_end(sd_bus_message *m);
int bz_dict_exit(sd_bus_message *m);
int bz_skip_dict(sd_bus_message *m);

/* Returns 1 and the value when the variant has the type, 0 when it was
 * skipped, < 0 on a malformed message. Strings are borrowed from @p m. */
int bz_var_bool(sd_bus_message *m, bool *out);
int bz_var_u16(sd_bus_message *m, uint16_t *out);
int bz_var_i16(sd_bus_message *m, int16_t *out);
int bz_var_str(sd_bus_message *m, const char **out);
int bz_var_bytes(sd_bus_message *m, const void **data, size_t *len);
int bz_var_skip(sd_bus_message *m);
/* An as variant: @p fn(string, user) per element. */
int bz_var_strv(sd_bus_message *m, void (*fn)(const char *s, void *user),
                void *user);

/* "0a1f" → 0x0a1f: exactly four lowercase or uppercase hex digits. */
bool bz_parse_hex4(const char *s, uint16_t *out);

#endif /* BLEAK_BLUEZ_PROPS_H */
