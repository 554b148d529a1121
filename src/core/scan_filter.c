/* SPDX-License-Identifier: MIT */
/* The scanner options' filters (see scan_filter.h). */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/scan_filter.h"

#define AD_MAX 31 /* a legacy advertisement's AD bytes: BlueZ's limit too */

static int check(const bleak_scanner_options *o) {
  const bleak_discovery_filter *d = &o->filter;
  if (d->rssi && (d->rssi < -127 || d->rssi > 20))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "filter.rssi %d: -127..20 dBm, or 0", d->rssi);
  if (d->pathloss > 137)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "filter.pathloss %u: 1..137 dB, or 0", d->pathloss);
  if (d->rssi && d->pathloss)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "filter: rssi or pathloss, not both (BlueZ)");
  if ((unsigned)d->duplicate_data > BLEAK_DUPLICATES_OFF)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "filter.duplicate_data %d", (int)d->duplicate_data);
  if (d->pattern && strlen(d->pattern) > 248)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "filter.pattern: at most 248 bytes");
  if (o->n_or_patterns && !o->or_patterns)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "n_or_patterns > 0 but no or_patterns");
  for (size_t i = 0; i < o->n_or_patterns; i++) {
    const bleak_or_pattern *p = &o->or_patterns[i];
    if (!p->len || !p->data || p->start_position >= AD_MAX ||
        p->len > (size_t)(AD_MAX - p->start_position))
      return bk_fail(BLEAK_ERR_INVALID_ARG,
                     "or_patterns[%zu]: 1..31 bytes of data within the 31 of an "
                     "advertisement (start_position %u, len %zu)",
                     i, p->start_position, p->len);
  }
  return 0;
}

int bk_scan_filter_copy(bleak_scanner_options *o, bk_scan_filter *f) {
  memset(f, 0, sizeof *f);
  int r = check(o);
  if (r < 0)
    return r;
  if (o->filter.pattern && *o->filter.pattern && !(f->pattern = strdup(o->filter.pattern)))
    return BLEAK_ERR_NO_MEMORY;
  if (o->n_or_patterns) {
    f->or_patterns = calloc(o->n_or_patterns, sizeof *f->or_patterns);
    f->blob = malloc(o->n_or_patterns * AD_MAX);
    if (!f->or_patterns || !f->blob) {
      bk_scan_filter_free(f);
      return BLEAK_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < o->n_or_patterns; i++) {
      f->or_patterns[i] = o->or_patterns[i];
      memcpy(f->blob + i * AD_MAX, o->or_patterns[i].data, o->or_patterns[i].len);
      f->or_patterns[i].data = f->blob + i * AD_MAX;
    }
    f->n_or_patterns = o->n_or_patterns;
  }
  o->filter.pattern = f->pattern;
  o->or_patterns = f->or_patterns;
  return 0;
}

void bk_scan_filter_free(bk_scan_filter *f) {
  free(f->pattern);
  free(f->or_patterns);
  free(f->blob);
  memset(f, 0, sizeof *f);
}

bool bk_or_pattern_match(const bleak_or_pattern *p, const uint8_t *ad, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t n = ad[i];
    if (n == 0) /* padding: no structure after it */
      return false;
    if (n > len - i - 1)
      return false;
    /* ad[i + 1] is the type; its data are the n - 1 bytes after it. */
    size_t dlen = n - 1;
    if (ad[i + 1] == p->ad_type && p->start_position <= dlen &&
        p->len <= dlen - p->start_position &&
        !memcmp(ad + i + 2 + p->start_position, p->data, p->len))
      return true;
    i += n + 1;
  }
  return false;
}

static bool starts_with(const char *s, const char *prefix) {
  return s && !strncmp(s, prefix, strlen(prefix));
}

bool bk_scan_filter_match(const bleak_scanner_options *o, const char *address,
                          const char *name, const bleak_adv_data *adv) {
  const bleak_discovery_filter *d = &o->filter;
  if (d->rssi && (adv->rssi == BLEAK_RSSI_NONE || adv->rssi < d->rssi))
    return false;
  if (d->pathloss && (adv->rssi == BLEAK_RSSI_NONE || adv->tx_power == BLEAK_TX_POWER_NONE ||
                      adv->tx_power - adv->rssi > (int)d->pathloss))
    return false;
  if (d->pattern && *d->pattern && !starts_with(address, d->pattern) &&
      !starts_with(name, d->pattern))
    return false;
  if (o->n_or_patterns && (adv->raw_advertisement || adv->raw_scan_response)) {
    for (size_t i = 0; i < o->n_or_patterns; i++)
      if ((adv->raw_advertisement &&
           bk_or_pattern_match(&o->or_patterns[i], adv->raw_advertisement,
                               adv->raw_advertisement_len)) ||
          (adv->raw_scan_response &&
           bk_or_pattern_match(&o->or_patterns[i], adv->raw_scan_response,
                               adv->raw_scan_response_len)))
        return true;
    return false;
  }
  return true;
}
