/* SPDX-License-Identifier: MIT */
/* Advertising data from fields: see adv_data.h. */
#include "vctl/adv_data.h"

#include <stdio.h>
#include <string.h>

#include "core/internal.h"

typedef struct ad_buf {
  uint8_t *data;
  size_t len, cap;
  bool over;
} ad_buf;

static void put(ad_buf *b, uint8_t type, const uint8_t *v, size_t len) {
  if (b->len + 2 + len > b->cap || len > 254) {
    b->over = true;
    return;
  }
  b->data[b->len] = (uint8_t)(len + 1);
  b->data[b->len + 1] = type;
  if (len)
    memcpy(b->data + b->len + 2, v, len);
  b->len += 2 + len;
}

/* The complete list of UUIDs of one width (2, 4 or 16 bytes). */
static void put_uuids(ad_buf *b, const vctl_adv_fields *f, size_t width, uint8_t type) {
  uint8_t v[VCTL_AD_MAX];
  size_t n = 0;
  for (size_t i = 0; i < f->n_uuids; i++) {
    uint32_t u32;
    size_t w = bleak_uuid_is_16bit(&f->uuids[i], NULL) ? 2
               : bleak_uuid_is_32bit(&f->uuids[i], &u32) ? 4 : 16;
    if (w != width)
      continue;
    if (n + w > sizeof v) {
      b->over = true;
      return;
    }
    if (w == 4)
      bk_put_le32(v + n, u32);
    else
      (void)bleak_uuid_to_le_bytes(&f->uuids[i], v + n, w);
    n += w;
  }
  if (n)
    put(b, type, v, n);
}

static void put_fields(ad_buf *b, const vctl_adv_fields *f, bool with_name) {
  static const uint8_t flags = 0x06; /* LE General Discoverable, BR/EDR Not Supported */
  put(b, 0x01, &flags, 1);
  put_uuids(b, f, 2, 0x03);
  put_uuids(b, f, 4, 0x05);
  put_uuids(b, f, 16, 0x07);
  uint8_t v[VCTL_AD_MAX + 16];
  for (size_t i = 0; i < f->n_mfr; i++) {
    bk_put_le16(v, f->mfr[i].company);
    memcpy(v + 2, f->mfr[i].data, f->mfr[i].len);
    put(b, 0xff, v, 2 + f->mfr[i].len);
  }
  for (size_t i = 0; i < f->n_sd; i++) {
    uint32_t u32;
    size_t w = bleak_uuid_is_16bit(&f->sd[i].uuid, NULL) ? 2
               : bleak_uuid_is_32bit(&f->sd[i].uuid, &u32) ? 4 : 16;
    if (w == 4)
      bk_put_le32(v, u32);
    else
      (void)bleak_uuid_to_le_bytes(&f->sd[i].uuid, v, w);
    memcpy(v + w, f->sd[i].data, f->sd[i].len);
    put(b, w == 2 ? 0x16 : w == 4 ? 0x20 : 0x21, v, w + f->sd[i].len);
  }
  if (f->has_appearance) {
    bk_put_le16(v, f->appearance);
    put(b, 0x19, v, 2);
  }
  if (f->has_tx_power)
    put(b, 0x0a, (const uint8_t *)&f->tx_power, 1);
  if (with_name && f->name && f->name[0])
    put(b, 0x09, (const uint8_t *)f->name, strlen(f->name));
}

int vctl_adv_build(const vctl_adv_fields *f, vctl_adv *adv, char *err, size_t errlen) {
  size_t cap = adv->extended ? VCTL_AD_MAX : VCTL_ADV_LEGACY_MAX;
  ad_buf b = {adv->data, 0, cap, false};
  put_fields(&b, f, true);
  adv->scan_rsp_len = 0;
  if (b.over && f->name && f->name[0]) {
    /* The name goes to the scan response (shortened if it must). */
    b = (ad_buf){adv->data, 0, cap, false};
    put_fields(&b, f, false);
    size_t n = strlen(f->name);
    bool cut = n > cap - 2;
    ad_buf r = {adv->scan_rsp, 0, cap, false};
    put(&r, cut ? 0x08 : 0x09, (const uint8_t *)f->name, cut ? cap - 2 : n);
    adv->scan_rsp_len = (uint16_t)r.len;
  }
  if (b.over) {
    snprintf(err, errlen, "the advertisement does not fit %zu bytes%s", cap,
             adv->extended ? "" : " (set \"extended_advertising\": true for up to 251)");
    return -1;
  }
  adv->data_len = (uint16_t)b.len;
  return 0;
}
