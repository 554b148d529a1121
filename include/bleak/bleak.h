/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/bleak.h
 * @brief The umbrella header of bleak-c: include this one.
 *
 * bleak-c is Python Bleak's BleakClient and BleakScanner for C programs. Each
 * concept has its own header, included here:
 *  - bleak/error.h    error codes, bleak_strerror(), bleak_error_detail()
 *  - bleak/log.h      log levels, handler, BLEAK_LOGGING
 *  - bleak/loop.h     the event loop and the hooks to embed it
 *  - bleak/uuid.h     UUIDs (Bleak's bleak.uuids)
 *  - bleak/gatt.h     services, characteristics, descriptors
 *  - bleak/client.h   the GATT client (Bleak's BleakClient)
 *  - bleak/scanner.h  finding devices (Bleak's BleakScanner, BLEDevice,
 *                     AdvertisementData)
 *  - bleak/version.h  versions
 */
#ifndef BLEAK_BLEAK_H
#define BLEAK_BLEAK_H

#include "bleak/adapter.h"
#include "bleak/bonds.h"
#include "bleak/client.h"
#include "bleak/error.h"
#include "bleak/gatt.h"
#include "bleak/log.h"
#include "bleak/scanner.h"
#include "bleak/loop.h"
#include "bleak/uuid.h"
#include "bleak/version.h"

#endif /* BLEAK_BLEAK_H */
