/* SPDX-License-Identifier: MIT */
/*
 * Passive scanning on BlueZ: an org.bluez.AdvertisementMonitor1 of type
 * "or_patterns" exported under our own ObjectManager root and registered
 * with the adapter's AdvertisementMonitorManager1 (Bleak's bluez
 * or_patterns). BlueZ 5.66 offers that manager only when bluetoothd runs
 * with --experimental (-E); the kernel then scans passively and bluetoothd
 * filters the reports with the patterns. Matching devices show up as
 * Device1 objects and property changes, as in a discovery, which the
 * scanner reports as ever; DeviceFound names each one once.
 */
#ifndef BLEAK_BLUEZ_ADV_MONITOR_H
#define BLEAK_BLUEZ_ADV_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/bluez/bus.h"
#include "bleak/scanner.h"

typedef struct bz_monitor bz_monitor;

typedef struct bz_monitor_fns {
  /* Once: 0 when BlueZ activated the monitor; or the error
   * (BLEAK_ERR_NOT_SUPPORTED: no monitor manager, bluetoothd without -E;
   * BLEAK_ERR_BACKEND: BlueZ released it before activating it, or refused
   * the registration; BLEAK_ERR_TIMEOUT: no activation within 5 s). From a
   * bus or timer callback. */
  void (*active)(void *user, int status);
  /* BlueZ's DeviceFound (@p found) or DeviceLost for @p device_path. */
  void (*device)(void *user, const char *device_path, bool found);
} bz_monitor_fns;

/* Export the monitor and ask BlueZ to take it. The patterns are copied.
 * Errors: INVALID_ARG (no patterns: BlueZ needs at least one, as Bleak
 * says), NO_MEMORY, BACKEND. */
int bz_monitor_new(bk_bus *bus, const char *adapter_path, const bleak_or_pattern *patterns,
                   size_t n_patterns, const bz_monitor_fns *fns, void *user, bz_monitor **out);

/* Unregister (without waiting for BlueZ's reply) and remove the objects;
 * no callback fires after this. NULL-safe. */
void bz_monitor_free(bz_monitor *m);

#endif /* BLEAK_BLUEZ_ADV_MONITOR_H */
