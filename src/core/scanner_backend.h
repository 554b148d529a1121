/* SPDX-License-Identifier: MIT */
/*
 * The interface between the backend-neutral scanner (src/core/scanner.c)
 * and a backend. The backend reports each advertisement (or change of what
 * it knows of a device) with the properties it carries; the core merges
 * them per device, filters, keeps the list and calls the user back.
 */
#ifndef BLEAK_CORE_SCANNER_BACKEND_H
#define BLEAK_CORE_SCANNER_BACKEND_H

#include "bleak/scanner.h"

/* What one report says; a field the report does not carry is left unset
 * (has_* false, pointers NULL), and the device keeps its previous value. */
typedef struct bk_adv_report {
  const char *address; /* "AA:BB:CC:DD:EE:FF" */
  const char *name;
  bool has_rssi;
  int16_t rssi;
  bool has_tx_power;
  int16_t tx_power;
  bool has_manufacturer_data; /* the whole set, replacing the old one */
  const bleak_manufacturer_data *manufacturer_data;
  size_t n_manufacturer_data;
  bool has_service_data;
  const bleak_service_data *service_data;
  size_t n_service_data;
  bool has_service_uuids;
  const bleak_uuid *service_uuids;
  size_t n_service_uuids;
  /* The AD bytes of the report, where the backend has them (hci): an
   * advertisement's, or with raw_is_scan_response a scan response's. */
  bool has_raw;
  bool raw_is_scan_response;
  const uint8_t *raw;
  size_t raw_len;
} bk_adv_report;

typedef struct bk_scanner_backend {
  const char *name;
  int (*init)(bleak_scanner *s, const bleak_scanner_options *opts, void **state);
  void (*destroy)(bleak_scanner *s, void *state);
  /* Begin scanning; report the outcome with bk_scanner_started() (from
   * inside start() too: the core delivers it from the loop). */
  int (*start)(bleak_scanner *s);
  /* Stop scanning (fire and forget). */
  void (*stop)(bleak_scanner *s);
} bk_scanner_backend;

void *bk_scanner_backend_state(const bleak_scanner *s);
const bleak_scanner_options *bk_scanner_options(const bleak_scanner *s);
void bk_scanner_started(bleak_scanner *s, int status);
/* Report an advertisement, or a change of a known device's data, while
 * scanning (ignored otherwise). */
void bk_scanner_report(bleak_scanner *s, const bk_adv_report *r);

const bk_scanner_backend *bk_scanner_backend_for(bleak_backend_kind kind);

/* A scanner on a given backend (the client's device search, tests). */
int bk_scanner_new_with_backend(const bleak_scanner_options *opts,
                                const bk_scanner_backend *be, bleak_scanner **out);

/* How long a scannable advertisement waits for its scan response (which
 * carries the name, mostly) before it is reported, or a device search goes
 * on without the name. One figure for every backend and for connect. */
#define BK_SCAN_RESPONSE_WAIT_MS 150

#endif /* BLEAK_CORE_SCANNER_BACKEND_H */
