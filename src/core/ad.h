/* SPDX-License-Identifier: MIT */
/* Advertising data (Core Vol 3 Part C 11, Supplement Part A): the
 * length-type-value entries of an advertising report or scan response,
 * parsed without allocation into what BleakScanner's AdvertisementData
 * holds. Sans-I/O: bytes in, fields out. For the hci backend; each field
 * points into the caller's buffer (manufacturer and service data) or is
 * copied (name, UUIDs). */
#ifndef BLEAK_CORE_AD_H
#define BLEAK_CORE_AD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/scanner.h"
#include "core/scanner_backend.h"

#define BK_AD_MAX_UUIDS 64  /* an extended report of 1650 bytes could list more */
#define BK_AD_MAX_MANUFACTURER 8
#define BK_AD_MAX_SERVICE_DATA 8
#define BK_AD_MAX_NAME 248  /* a Device Name has at most 248 octets */

typedef struct bk_ad {
  bool has_flags;
  uint8_t flags;
  bool has_name;
  bool name_complete;            /* type 0x09, else shortened 0x08 */
  char name[BK_AD_MAX_NAME + 1]; /* NUL-terminated; cut at an embedded NUL */
  bool has_tx_power;
  int8_t tx_power;
  bool has_appearance;
  uint16_t appearance;
  bleak_uuid uuids[BK_AD_MAX_UUIDS];
  size_t n_uuids;
  bleak_manufacturer_data manufacturer[BK_AD_MAX_MANUFACTURER];
  size_t n_manufacturer;
  bleak_service_data service_data[BK_AD_MAX_SERVICE_DATA];
  size_t n_service_data;
  bool truncated; /* more UUIDs or data entries than there is room for */
} bk_ad;

/*
 * Parse @p len bytes of advertising data into @p out (cleared first). A
 * zero length byte ends the data (the rest is padding, as the spec allows).
 * @return 0; BLEAK_ERR_PROTOCOL when an entry runs past the end or has a
 *         length its type does not allow (a UUID list of 3 bytes, a TX
 *         power of 2): that entry is skipped, what came before it and after
 *         it (when the lengths still frame) is kept; BLEAK_ERR_INVALID_ARG
 *         for NULL @p out, or NULL @p data with @p len > 0.
 * The manufacturer and service data point into @p data: valid as long as it.
 */
int bk_ad_parse(const uint8_t *data, size_t len, bk_ad *out);

/* Fill a scanner report (address, RSSI left to the caller) from @p ad; the
 * report points into @p ad. */
void bk_ad_to_report(const bk_ad *ad, bk_adv_report *r);

#endif
