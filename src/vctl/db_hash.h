/* SPDX-License-Identifier: MIT */
/* The Database Hash of a GATT database (Core Vol 3 Part G 7.3.1). */
#ifndef BLEAK_VCTL_DB_HASH_H
#define BLEAK_VCTL_DB_HASH_H

#include <stdint.h>

#include "vctl/gatt_db.h"

/* AES-CMAC with the zero key over, in handle order, handle || type ||
 * value of every service, include, characteristic declaration and
 * Extended Properties, and handle || type of every User Description,
 * CCCD, SCCD, Presentation and Aggregate Format descriptor; the 16 bytes
 * as the CMAC gives them (as BlueZ's bt_crypto_gatt_hash does). All zero
 * when libcrypto fails, which only happens out of memory. */
void vctl_db_hash(const vctl_gatt_db *db, uint8_t out[16]);

#endif
