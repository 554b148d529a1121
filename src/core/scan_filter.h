/* SPDX-License-Identifier: MIT */
/*
 * The scanner options' filters (bleak_discovery_filter, or-patterns):
 * checked and copied when the scanner is made, then applied by the core to
 * every report, so that they mean the same on every backend (BlueZ applies
 * its own first; applying them again changes nothing).
 */
#ifndef BLEAK_CORE_SCAN_FILTER_H
#define BLEAK_CORE_SCAN_FILTER_H

#include "bleak/scanner.h"

typedef struct bk_scan_filter {
  char *pattern;             /* NULL: none */
  bleak_or_pattern *or_patterns; /* each with data copied into blob */
  size_t n_or_patterns;
  uint8_t *blob;
} bk_scan_filter;

/* Check @p o's filter and or-patterns and copy them into @p f; point
 * @p o's pointers at the copies. Errors: INVALID_ARG (detail says which),
 * NO_MEMORY; @p f is then empty. */
int bk_scan_filter_copy(bleak_scanner_options *o, bk_scan_filter *f);
void bk_scan_filter_free(bk_scan_filter *f);

/* Does one or-pattern match the AD structures @p ad (@p len bytes)? A
 * malformed structure ends the walk. */
bool bk_or_pattern_match(const bleak_or_pattern *p, const uint8_t *ad, size_t len);

/* Does the device pass @p o's filter and or-patterns? @p name may be
 * NULL; or-patterns are matched against the raw AD bytes when the
 * backend reports them (without raw bytes, the backend matched them). */
bool bk_scan_filter_match(const bleak_scanner_options *o, const char *address,
                          const char *name, const bleak_adv_data *adv);

#endif /* BLEAK_CORE_SCAN_FILTER_H */
