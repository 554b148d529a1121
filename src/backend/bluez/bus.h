/* SPDX-License-Identifier: MIT */
/*
 * sd-bus on a bleak_loop: one system bus connection per loop, shared by
 * every bluez client and scanner on that loop (as Bleak shares one
 * BlueZManager), driven by the loop's fd watch and timer.
 */
#ifndef BLEAK_BLUEZ_BUS_H
#define BLEAK_BLUEZ_BUS_H

#include <systemd/sd-bus.h>

#include "bleak/loop.h"

typedef struct bk_bus bk_bus;

/* The bus of @p loop, connected on first use; a reference for the caller.
 * The address is the system bus, or $BLEAK_DBUS_ADDRESS when set (tests).
 * Errors: BLEAK_ERR_NO_BACKEND (no bus: detail says why), NO_MEMORY. */
int bk_bus_get(bleak_loop *loop, bk_bus **out);
void bk_bus_unref(bk_bus *b);

sd_bus *bk_bus_sd(const bk_bus *b);
/* Where the bus keeps its object tree (objects.h owns what it points to). */
struct bz_objects **bk_bus_objects_slot(bk_bus *b);
bleak_loop *bk_bus_loop(const bk_bus *b);

/* Call after queuing messages on the bus outside of its own dispatch: the
 * loop flushes them and updates what it waits for at its next dispatch. */
void bk_bus_kick(bk_bus *b);

/* Map a D-Bus error (name and message) to a bleak error code, setting the
 * detail message. BlueZ's GATT errors become BLEAK_ERR_ATT(code) the way
 * BlueZ made them (src/gatt-client.c create_gatt_dbus_error). */
int bk_bus_error(const sd_bus_error *e, const char *what);

/* Same, from a method reply that may be an error; 0 when it is not. */
int bk_bus_reply_error(sd_bus_message *reply, const char *what);

#endif /* BLEAK_BLUEZ_BUS_H */
