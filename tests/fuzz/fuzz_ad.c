/* SPDX-License-Identifier: MIT */
/* Fuzz target: advertising data (src/core/ad.c) and the or-pattern walk
 * over the same bytes (src/core/scan_filter.c). Whatever the bytes, the
 * parsers stay inside them, and what they return is consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/error.h"
#include "core/ad.h"
#include "core/scan_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bk_ad ad;
  int r = bk_ad_parse(data, size, &ad);
  if (r != 0 && r != BLEAK_ERR_PROTOCOL)
    abort();
  if (ad.n_uuids > BK_AD_MAX_UUIDS || ad.n_manufacturer > BK_AD_MAX_MANUFACTURER ||
      ad.n_service_data > BK_AD_MAX_SERVICE_DATA || strlen(ad.name) > BK_AD_MAX_NAME)
    abort();
  /* Every pointer lies inside the input. */
  for (size_t i = 0; i < ad.n_manufacturer; i++)
    if (ad.manufacturer[i].data < data || ad.manufacturer[i].data + ad.manufacturer[i].len > data + size)
      abort();
  for (size_t i = 0; i < ad.n_service_data; i++)
    if (ad.service_data[i].data < data || ad.service_data[i].data + ad.service_data[i].len > data + size)
      abort();
  bk_adv_report rep;
  memset(&rep, 0, sizeof rep);
  bk_ad_to_report(&ad, &rep);
  /* Or-patterns: the first bytes pick the pattern; ASan catches a read
   * outside the input. */
  if (size >= 3) {
    size_t len = (size_t)(data[2] % 31) + 1;
    bleak_or_pattern p = {.start_position = (uint8_t)(data[0] % 31), .ad_type = data[1],
                          .data = data, .len = len <= size ? len : size};
    (void)bk_or_pattern_match(&p, data + 3, size - 3);
  }
  return 0;
}
