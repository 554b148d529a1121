/* SPDX-License-Identifier: MIT */
/* Advertising data parser: see ad.h. Every length is checked against the
 * bytes that are there; nothing is allocated. */
#include "core/ad.h"

#include <string.h>

#include "core/internal.h"

#define LOG_MOD "ad"

enum {
  AD_FLAGS = 0x01,
  AD_UUID16_SOME = 0x02,
  AD_UUID16_ALL = 0x03,
  AD_UUID32_SOME = 0x04,
  AD_UUID32_ALL = 0x05,
  AD_UUID128_SOME = 0x06,
  AD_UUID128_ALL = 0x07,
  AD_NAME_SHORT = 0x08,
  AD_NAME_COMPLETE = 0x09,
  AD_TX_POWER = 0x0a,
  AD_SERVICE_DATA16 = 0x16,
  AD_APPEARANCE = 0x19,
  AD_SERVICE_DATA32 = 0x20,
  AD_SERVICE_DATA128 = 0x21,
  AD_MANUFACTURER = 0xff,
};

/* A list of UUIDs of @p width bytes each. */
static int add_uuids(bk_ad *ad, const uint8_t *v, size_t n, size_t width) {
  if (n % width)
    return BLEAK_ERR_PROTOCOL;
  for (size_t i = 0; i < n; i += width) {
    if (ad->n_uuids == BK_AD_MAX_UUIDS) {
      ad->truncated = true;
      return 0;
    }
    bleak_uuid u;
    if (bleak_uuid_from_le_bytes(v + i, width, &u) < 0)
      return BLEAK_ERR_PROTOCOL;
    bool seen = false; /* the same UUID in two lists counts once */
    for (size_t j = 0; j < ad->n_uuids && !seen; j++)
      seen = bleak_uuid_equal(&ad->uuids[j], &u);
    if (!seen)
      ad->uuids[ad->n_uuids++] = u;
  }
  return 0;
}

static int add_service_data(bk_ad *ad, const uint8_t *v, size_t n, size_t width) {
  if (n < width)
    return BLEAK_ERR_PROTOCOL;
  if (ad->n_service_data == BK_AD_MAX_SERVICE_DATA) {
    ad->truncated = true;
    return 0;
  }
  bleak_service_data *d = &ad->service_data[ad->n_service_data];
  if (bleak_uuid_from_le_bytes(v, width, &d->uuid) < 0)
    return BLEAK_ERR_PROTOCOL;
  d->data = v + width;
  d->len = n - width;
  ad->n_service_data++;
  return 0;
}

static int add_entry(bk_ad *ad, uint8_t type, const uint8_t *v, size_t n) {
  switch (type) {
  case AD_FLAGS:
    if (n < 1)
      return BLEAK_ERR_PROTOCOL;
    ad->has_flags = true;
    ad->flags = v[0];
    return 0;
  case AD_UUID16_SOME:
  case AD_UUID16_ALL:
    return add_uuids(ad, v, n, 2);
  case AD_UUID32_SOME:
  case AD_UUID32_ALL:
    return add_uuids(ad, v, n, 4);
  case AD_UUID128_SOME:
  case AD_UUID128_ALL:
    return add_uuids(ad, v, n, 16);
  case AD_NAME_SHORT:
  case AD_NAME_COMPLETE: {
    if (ad->has_name && ad->name_complete && type == AD_NAME_SHORT)
      return 0; /* the complete name wins over a shortened one */
    size_t len = n < BK_AD_MAX_NAME ? n : BK_AD_MAX_NAME;
    const uint8_t *nul = memchr(v, 0, len);
    if (nul)
      len = (size_t)(nul - v);
    memcpy(ad->name, v, len);
    ad->name[len] = '\0';
    ad->has_name = true;
    ad->name_complete = type == AD_NAME_COMPLETE;
    return 0;
  }
  case AD_TX_POWER:
    if (n != 1)
      return BLEAK_ERR_PROTOCOL;
    ad->has_tx_power = true;
    ad->tx_power = (int8_t)v[0];
    return 0;
  case AD_APPEARANCE:
    if (n != 2)
      return BLEAK_ERR_PROTOCOL;
    ad->has_appearance = true;
    ad->appearance = (uint16_t)(v[0] | v[1] << 8);
    return 0;
  case AD_SERVICE_DATA16:
    return add_service_data(ad, v, n, 2);
  case AD_SERVICE_DATA32:
    return add_service_data(ad, v, n, 4);
  case AD_SERVICE_DATA128:
    return add_service_data(ad, v, n, 16);
  case AD_MANUFACTURER: {
    if (n < 2)
      return BLEAK_ERR_PROTOCOL;
    if (ad->n_manufacturer == BK_AD_MAX_MANUFACTURER) {
      ad->truncated = true;
      return 0;
    }
    bleak_manufacturer_data *m = &ad->manufacturer[ad->n_manufacturer++];
    m->company_id = (uint16_t)(v[0] | v[1] << 8);
    m->data = v + 2;
    m->len = n - 2;
    return 0;
  }
  default:
    return 0; /* types we do not keep */
  }
}

int bk_ad_parse(const uint8_t *data, size_t len, bk_ad *out) {
  if (!out || (!data && len))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bk_ad_parse: NULL argument");
  memset(out, 0, sizeof *out);
  int result = 0;
  size_t i = 0;
  while (i < len) {
    uint8_t field_len = data[i];
    if (field_len == 0)
      break; /* the rest is padding */
    if (field_len > len - i - 1) {
      BK_DEBUG(LOG_MOD, "AD entry at %zu: length %u runs past the end (%zu bytes)", i,
               field_len, len);
      return bk_fail(BLEAK_ERR_PROTOCOL, "advertising data: entry at %zu runs past the end", i);
    }
    uint8_t type = data[i + 1];
    int r = add_entry(out, type, data + i + 2, field_len - 1u);
    if (r < 0) {
      BK_DEBUG(LOG_MOD, "AD entry type 0x%02x with %u bytes: dropped", type, field_len - 1u);
      result = bk_fail(BLEAK_ERR_PROTOCOL, "advertising data: bad entry of type 0x%02x", type);
    }
    i += 1u + field_len;
  }
  return result;
}

void bk_ad_to_report(const bk_ad *ad, bk_adv_report *r) {
  if (ad->has_name)
    r->name = ad->name;
  if (ad->has_tx_power) {
    r->has_tx_power = true;
    r->tx_power = ad->tx_power;
  }
  if (ad->n_manufacturer) {
    r->has_manufacturer_data = true;
    r->manufacturer_data = ad->manufacturer;
    r->n_manufacturer_data = ad->n_manufacturer;
  }
  if (ad->n_service_data) {
    r->has_service_data = true;
    r->service_data = ad->service_data;
    r->n_service_data = ad->n_service_data;
  }
  if (ad->n_uuids) {
    r->has_service_uuids = true;
    r->service_uuids = ad->uuids;
    r->n_service_uuids = ad->n_uuids;
  }
}
