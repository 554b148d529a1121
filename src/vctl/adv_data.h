/* SPDX-License-Identifier: MIT */
/* The advertising data of a virtual peripheral, built from its fields the
 * way BlueZ builds an LEAdvertisement1's (bt_ad_generate: service UUIDs,
 * manufacturer data, service data, then the name; the kernel puts the
 * flags first). */
#ifndef BLEAK_VCTL_ADV_DATA_H
#define BLEAK_VCTL_ADV_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/uuid.h"
#include "vctl/peripheral.h"

#define VCTL_ADV_LEGACY_MAX 31

typedef struct vctl_adv_mfr {
  uint16_t company;
  uint8_t data[VCTL_AD_MAX];
  size_t len;
} vctl_adv_mfr;

typedef struct vctl_adv_sd {
  bleak_uuid uuid;
  uint8_t data[VCTL_AD_MAX];
  size_t len;
} vctl_adv_sd;

typedef struct vctl_adv_fields {
  const char *name; /* NULL or "": none */
  const bleak_uuid *uuids;
  size_t n_uuids;
  const vctl_adv_mfr *mfr;
  size_t n_mfr;
  const vctl_adv_sd *sd;
  size_t n_sd;
  bool has_appearance;
  uint16_t appearance;
  bool has_tx_power;
  int8_t tx_power;
} vctl_adv_fields;

/* Fill adv->data (flags 0x06 and the fields) and adv->scan_rsp (the name,
 * when the rest leaves it no room: 31 bytes legacy, VCTL_AD_MAX extended,
 * as adv->extended says). 0, or -1 with the reason in err when the fields
 * do not fit even so. */
int vctl_adv_build(const vctl_adv_fields *f, vctl_adv *adv, char *err, size_t errlen);

#endif
