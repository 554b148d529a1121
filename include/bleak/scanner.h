/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/scanner.h
 * @brief Finding devices: Bleak's BleakScanner, BLEDevice and
 *        AdvertisementData.
 *
 * A scanner listens to advertisements, keeps the devices it saw with their
 * latest advertisement data, and calls a detection callback as they arrive.
 * The finders (bleak_scanner_find_device_by_address/name/filter) scan until
 * a match or a timeout, as Bleak's do.
 */
#ifndef BLEAK_SCANNER_H
#define BLEAK_SCANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/client.h"
#include "bleak/loop.h"
#include "bleak/uuid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bleak_scanner bleak_scanner;

/** "no value" for tx_power in bleak_adv_data (Bleak's None). */
#define BLEAK_TX_POWER_NONE INT16_MIN
/** "no value" for rssi. */
#define BLEAK_RSSI_NONE INT16_MIN

typedef struct bleak_manufacturer_data {
  uint16_t company_id;
  const uint8_t *data;
  size_t len;
} bleak_manufacturer_data;

typedef struct bleak_service_data {
  bleak_uuid uuid;
  const uint8_t *data;
  size_t len;
} bleak_service_data;

/**
 * Bleak's AdvertisementData: the merged, latest advertisement of a device.
 * Everything it points to is owned by the scanner and valid during the
 * detection callback, or until the scanner next dispatches (for the
 * accessors below): copy what you keep.
 */
typedef struct bleak_adv_data {
  const char *local_name; /**< NULL when none was advertised */
  const bleak_manufacturer_data *manufacturer_data;
  size_t n_manufacturer_data;
  const bleak_service_data *service_data;
  size_t n_service_data;
  const bleak_uuid *service_uuids;
  size_t n_service_uuids;
  int16_t tx_power; /**< dBm, or BLEAK_TX_POWER_NONE */
  int16_t rssi;     /**< dBm, or BLEAK_RSSI_NONE */
  /** The raw AD structures (length, type, data...) of the latest
   *  advertisement and of the latest scan response, as the controller
   *  reported them, where the backend has them: the hci backend does;
   *  bluez does not (BlueZ hands out parsed properties only): NULL, 0. */
  const uint8_t *raw_advertisement;
  size_t raw_advertisement_len;
  const uint8_t *raw_scan_response;
  size_t raw_scan_response_len;
} bleak_adv_data;

/** Bleak's BLEDevice accessors. A device is owned by the scanner that found
 * it; bleak_device_ref() keeps one alive after the scanner is freed. */
const char *bleak_device_address(const bleak_device *dev);
/** The device's name, or NULL when it has none. */
const char *bleak_device_name(const bleak_device *dev);
/** The backend's adapter the device was seen on ("hci0"). */
const char *bleak_device_adapter(const bleak_device *dev);
bleak_device *bleak_device_ref(const bleak_device *dev);
void bleak_device_unref(bleak_device *dev);

/** An advertisement arrived (Bleak's detection_callback). */
typedef void (*bleak_detection_fn)(bleak_scanner *scanner,
                                   const bleak_device *device,
                                   const bleak_adv_data *adv, void *user_data);

/** A predicate for bleak_scanner_find_device_by_filter(). */
typedef bool (*bleak_device_filter_fn)(const bleak_device *device,
                                       const bleak_adv_data *adv,
                                       void *user_data);

typedef enum bleak_scanning_mode {
  BLEAK_SCAN_ACTIVE = 0,
  BLEAK_SCAN_PASSIVE = 1,
} bleak_scanning_mode;

/** BlueZ's DuplicateData discovery filter. */
typedef enum bleak_duplicates {
  /** Every advertisement reaches the detection callback, also one that
   *  repeats the last (RSSI updates), as in Bleak: DuplicateData on. */
  BLEAK_DUPLICATES_DEFAULT = 0,
  BLEAK_DUPLICATES_ON = 1,
  /** bluez: BlueZ signals only what changed (DuplicateData off). hci:
   *  ignored (every advertisement is reported). */
  BLEAK_DUPLICATES_OFF = 2,
} bleak_duplicates;

/**
 * BlueZ's discovery filter (org.bluez.Adapter1.SetDiscoveryFilter), Bleak's
 * BleakScanner(bluez={"filters": {...}}). Zeroed: no filter. The core
 * applies rssi, pathloss and pattern to every report, on both backends;
 * bluez also passes them, and duplicate_data, to SetDiscoveryFilter (so
 * BlueZ sends fewer signals).
 */
typedef struct bleak_discovery_filter {
  /** Report only advertisements received at or above this RSSI, in dBm,
   *  -127..20; 0: no threshold. Not with pathloss. */
  int16_t rssi;
  /** Report only advertisements whose path loss (advertised TX power
   *  minus RSSI) is at most this, in dB, 1..137; 0: none. An
   *  advertisement without TX power does not pass. Not with rssi. */
  uint16_t pathloss;
  bleak_duplicates duplicate_data;
  /** Report only devices whose address ("AA:BB:...") or name starts with
   *  this (BlueZ's Pattern); NULL or "": all. At most 248 bytes. */
  const char *pattern;
} bleak_discovery_filter;

/**
 * One or-pattern of a passive scan (Bleak's BlueZScannerArgs or_patterns,
 * BlueZ's org.bluez.AdvertisementMonitor1 Patterns): matches an
 * advertisement with an AD structure of type @p ad_type whose data, from
 * byte @p start_position on, begins with the @p len bytes of @p data.
 */
typedef struct bleak_or_pattern {
  uint8_t start_position; /**< 0..30 */
  uint8_t ad_type;        /**< an AD type, e.g. 0xff manufacturer data */
  const uint8_t *data;
  size_t len; /**< 1..31, start_position + len at most 31 */
} bleak_or_pattern;

/** Bleak's BleakScanner(...) arguments. Pointers are borrowed during
 * bleak_scanner_new() only. */
typedef struct bleak_scanner_options {
  bleak_loop *loop;    /**< NULL: the thread's default loop */
  const char *adapter; /**< NULL: the default adapter */
  bleak_backend_kind backend;
  const char *hci_transport; /**< see bleak_client_options */
  /** Report only devices advertising one of these services. */
  const bleak_uuid *service_uuids;
  size_t n_service_uuids;
  bleak_scanning_mode scanning_mode;
  bleak_detection_fn detection_callback;
  void *user_data;
  /** BlueZ's discovery filter (see bleak_discovery_filter). */
  bleak_discovery_filter filter;
  /** Or-patterns (Bleak's bluez or_patterns): a device is reported when
   *  one matches. hci: matched by the core against the AD bytes, in
   *  either mode. bluez: a passive scan needs at least one (as in Bleak):
   *  they go to BlueZ's org.bluez.AdvertisementMonitor1, which BlueZ 5.66
   *  offers only when bluetoothd runs with --experimental (-E); only
   *  devices the monitor matched are reported. An active scan on bluez
   *  ignores them (BlueZ's reports carry no AD bytes to match). At most
   *  16 on bluez. */
  const bleak_or_pattern *or_patterns;
  size_t n_or_patterns;
} bleak_scanner_options;

void bleak_scanner_options_init(bleak_scanner_options *opts);

/**
 * @return 0, BLEAK_ERR_INVALID_ARG (n_service_uuids or n_or_patterns
 *         without the array; a filter out of its range, rssi with
 *         pathloss, a pattern longer than 248 bytes; an or-pattern of
 *         length 0, or past byte 31), BLEAK_ERR_NO_MEMORY,
 *         BLEAK_ERR_NO_BACKEND.
 */
int bleak_scanner_new(const bleak_scanner_options *opts,
                      bleak_scanner **out);

/** Free (NULL-safe); stops scanning. Not from one of its own callbacks. */
void bleak_scanner_free(bleak_scanner *scanner);

/** Start scanning (blocking until the backend scans). Devices seen before
 * are forgotten. @return 0, BLEAK_ERR_ALREADY, BLEAK_ERR_BACKEND (also:
 * BlueZ released its advertisement monitor unused), BLEAK_ERR_INVALID_ARG
 * (a passive scan on bluez without or_patterns, or more than 16),
 * BLEAK_ERR_NOT_SUPPORTED (a passive scan on a bluetoothd without its
 * advertisement monitor: not run with -E, or a kernel that cannot
 * monitor), BLEAK_ERR_TIMEOUT (BlueZ did not activate the monitor within
 * 5 s), BLEAK_ERR_STATE (from inside a loop callback). */
int bleak_scanner_start(bleak_scanner *scanner);

/** Completion of bleak_scanner_start_async() / bleak_scanner_stop_async():
 * @p status is 0 or < 0. The scanner may be freed from here. */
typedef void (*bleak_scanner_done_fn)(bleak_scanner *scanner, int status,
                                      void *user_data);

/**
 * Start scanning without waiting: @p cb (may be NULL) fires once from the
 * loop, never before this returns, with 0 when the backend scans or its
 * error (then the scanner is stopped). Advertisements may be reported
 * before @p cb.
 * @return 0, BLEAK_ERR_INVALID_ARG, BLEAK_ERR_ALREADY (scanning or
 *         starting).
 */
int bleak_scanner_start_async(bleak_scanner *scanner, bleak_scanner_done_fn cb,
                              void *user_data);
/**
 * Stop scanning; @p cb (may be NULL) fires once from the loop with 0. A
 * start still waiting for its answer completes with BLEAK_ERR_CANCELED.
 * @return 0, BLEAK_ERR_INVALID_ARG.
 */
int bleak_scanner_stop_async(bleak_scanner *scanner, bleak_scanner_done_fn cb,
                             void *user_data);
/** Stop scanning; devices found stay. @return 0 (also when not scanning). */
int bleak_scanner_stop(bleak_scanner *scanner);

/** Scan for @p timeout_ms, then stop (Bleak's discover()). */
int bleak_scanner_discover(bleak_scanner *scanner, int timeout_ms);

/** Devices seen since the last start, in order of discovery. */
size_t bleak_scanner_device_count(const bleak_scanner *scanner);
const bleak_device *bleak_scanner_device_at(const bleak_scanner *scanner,
                                            size_t i);
const bleak_adv_data *bleak_scanner_adv_at(const bleak_scanner *scanner,
                                           size_t i);

/**
 * Scan until a device matches or @p timeout_ms passes. The match goes to
 * @p out (owned by the scanner).
 * @return 0, BLEAK_ERR_DEVICE_NOT_FOUND (timeout), and start's errors.
 */
int bleak_scanner_find_device_by_address(bleak_scanner *scanner,
                                         const char *address, int timeout_ms,
                                         const bleak_device **out);
int bleak_scanner_find_device_by_name(bleak_scanner *scanner,
                                      const char *name, int timeout_ms,
                                      const bleak_device **out);
int bleak_scanner_find_device_by_filter(bleak_scanner *scanner,
                                        bleak_device_filter_fn filter,
                                        void *user_data, int timeout_ms,
                                        const bleak_device **out);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_SCANNER_H */
