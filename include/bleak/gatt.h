/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/gatt.h
 * @brief The GATT object model: Bleak's BleakGATTServiceCollection,
 *        BleakGATTService, BleakGATTCharacteristic and BleakGATTDescriptor.
 *
 * A backend fills a collection during service discovery; users read it.
 * Everything here is read-only for users. Pointers to services,
 * characteristics and descriptors are borrowed from their collection and
 * stay valid as long as the collection is referenced: the client holds one
 * reference while connected; bleak_gatt_services_ref() keeps a tree alive
 * after the client drops it (disconnect, re-discovery, free).
 *
 * Handles follow Bleak on BlueZ: a characteristic's handle is its
 * declaration handle (its value handle is one more, see
 * bleak_gatt_characteristic_value_handle()); a service's handle is its
 * first handle. Iteration is in handle order.
 *
 * Functions that return a pointer return NULL for NULL or out-of-range
 * arguments; functions that return int return 0 or a negative error.
 */
#ifndef BLEAK_GATT_H
#define BLEAK_GATT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/uuid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bleak_gatt_services bleak_gatt_services;
typedef struct bleak_gatt_service bleak_gatt_service;
typedef struct bleak_gatt_characteristic bleak_gatt_characteristic;
typedef struct bleak_gatt_descriptor bleak_gatt_descriptor;

/**
 * Characteristic properties, with Bleak's (and BlueZ's) names. The first
 * eight are the Core spec's property bits (Vol 3 Part G 3.3.1.1) at their
 * values; the rest are BlueZ's extended and permission flags.
 */
typedef enum bleak_gatt_property {
  BLEAK_GATT_PROP_BROADCAST = 1u << 0,              /**< "broadcast" */
  BLEAK_GATT_PROP_READ = 1u << 1,                   /**< "read" */
  BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE = 1u << 2, /**< "write-without-response" */
  BLEAK_GATT_PROP_WRITE = 1u << 3,                  /**< "write" */
  BLEAK_GATT_PROP_NOTIFY = 1u << 4,                 /**< "notify" */
  BLEAK_GATT_PROP_INDICATE = 1u << 5,               /**< "indicate" */
  BLEAK_GATT_PROP_AUTHENTICATED_SIGNED_WRITES = 1u << 6, /**< "authenticated-signed-writes" */
  BLEAK_GATT_PROP_EXTENDED_PROPERTIES = 1u << 7,    /**< "extended-properties" */
  BLEAK_GATT_PROP_RELIABLE_WRITE = 1u << 8,         /**< "reliable-write" */
  BLEAK_GATT_PROP_WRITABLE_AUXILIARIES = 1u << 9,   /**< "writable-auxiliaries" */
  BLEAK_GATT_PROP_ENCRYPT_READ = 1u << 10,          /**< "encrypt-read" */
  BLEAK_GATT_PROP_ENCRYPT_WRITE = 1u << 11,         /**< "encrypt-write" */
  BLEAK_GATT_PROP_ENCRYPT_AUTHENTICATED_READ = 1u << 12,  /**< "encrypt-authenticated-read" */
  BLEAK_GATT_PROP_ENCRYPT_AUTHENTICATED_WRITE = 1u << 13, /**< "encrypt-authenticated-write" */
  BLEAK_GATT_PROP_AUTHORIZE = 1u << 14,             /**< "authorize" */
  BLEAK_GATT_PROP_SECURE_READ = 1u << 15,           /**< "secure-read" */
  BLEAK_GATT_PROP_SECURE_WRITE = 1u << 16,          /**< "secure-write" */
} bleak_gatt_property;

/** Number of defined property bits. */
#define BLEAK_GATT_PROP_COUNT 17

/** The Bleak name of one property bit ("write-without-response"), or NULL
 * for anything that is not exactly one defined bit. */
const char *bleak_gatt_property_name(uint32_t prop);

/** The bit of a Bleak/BlueZ property name (exact, lowercase), or 0. */
uint32_t bleak_gatt_property_from_name(const char *name);

/**
 * Format @p props as Bleak's list, "read,write,notify" (in bit order,
 * comma-separated, no spaces) into @p buf.
 * @return the length written (without the NUL), BLEAK_ERR_INVALID_ARG (NULL
 *         buf with cap > 0), BLEAK_ERR_BUFFER_TOO_SMALL (then @p buf holds
 *         as many whole names as fit, NUL-terminated, when cap > 0).
 */
int bleak_gatt_properties_format(uint32_t props, char *buf, size_t cap);

/* ---- the collection ---- */

/** Take a reference. @return @p s. */
bleak_gatt_services *bleak_gatt_services_ref(bleak_gatt_services *s);
/** Drop a reference (NULL-safe); the last one frees the whole tree. */
void bleak_gatt_services_unref(bleak_gatt_services *s);

size_t bleak_gatt_services_count(const bleak_gatt_services *s);
const bleak_gatt_service *bleak_gatt_services_at(const bleak_gatt_services *s,
                                                 size_t i);
/** Characteristics of all services. */
size_t bleak_gatt_services_characteristic_count(const bleak_gatt_services *s);
/** Descriptors of all characteristics. */
size_t bleak_gatt_services_descriptor_count(const bleak_gatt_services *s);

/** The first service with @p uuid (Bleak's get_service(uuid)). */
const bleak_gatt_service *
bleak_gatt_services_get_service(const bleak_gatt_services *s,
                                const bleak_uuid *uuid);
/** The service whose first handle is @p handle. */
const bleak_gatt_service *
bleak_gatt_services_get_service_by_handle(const bleak_gatt_services *s,
                                          uint16_t handle);

/**
 * The characteristic with @p uuid (Bleak's get_characteristic(uuid)).
 * @return 0, BLEAK_ERR_NOT_FOUND, BLEAK_ERR_AMBIGUOUS (more than one has
 *         that UUID: Bleak's "Multiple Characteristics with this UUID, refer
 *         to your desired characteristic by the `handle` attribute
 *         instead."), BLEAK_ERR_INVALID_ARG. *out is NULL unless 0.
 */
int bleak_gatt_services_find_characteristic(const bleak_gatt_services *s,
                                            const bleak_uuid *uuid,
                                            const bleak_gatt_characteristic **out);
/** The same, with the UUID as text (any form bleak_uuid_parse() takes). */
int bleak_gatt_services_find_characteristic_str(
    const bleak_gatt_services *s, const char *uuid,
    const bleak_gatt_characteristic **out);

/** The characteristic whose (declaration) handle is @p handle. */
const bleak_gatt_characteristic *
bleak_gatt_services_get_characteristic_by_handle(const bleak_gatt_services *s,
                                                 uint16_t handle);
/**
 * The characteristic whose value handle is @p value_handle (the handle
 * notifications and indications name), or NULL when none has it.
 */
const bleak_gatt_characteristic *
bleak_gatt_services_get_characteristic_by_value_handle(const bleak_gatt_services *s,
                                                       uint16_t value_handle);
/** The descriptor whose handle is @p handle. */
const bleak_gatt_descriptor *
bleak_gatt_services_get_descriptor_by_handle(const bleak_gatt_services *s,
                                             uint16_t handle);

/** The negotiated ATT MTU the backend recorded (23 by default). */
uint16_t bleak_gatt_services_mtu(const bleak_gatt_services *s);

/* ---- services ---- */

const bleak_uuid *bleak_gatt_service_uuid(const bleak_gatt_service *svc);
uint16_t bleak_gatt_service_handle(const bleak_gatt_service *svc);
uint16_t bleak_gatt_service_end_handle(const bleak_gatt_service *svc);
bool bleak_gatt_service_is_primary(const bleak_gatt_service *svc);
/** The SIG name of the service, or "Unknown" (never NULL). */
const char *bleak_gatt_service_description(const bleak_gatt_service *svc);
size_t bleak_gatt_service_characteristic_count(const bleak_gatt_service *svc);
const bleak_gatt_characteristic *
bleak_gatt_service_characteristic_at(const bleak_gatt_service *svc, size_t i);
/** The first characteristic of this service with @p uuid. */
const bleak_gatt_characteristic *
bleak_gatt_service_get_characteristic(const bleak_gatt_service *svc,
                                      const bleak_uuid *uuid);

/* ---- characteristics ---- */

const bleak_uuid *
bleak_gatt_characteristic_uuid(const bleak_gatt_characteristic *ch);
/** Bleak's handle: the declaration handle. */
uint16_t bleak_gatt_characteristic_handle(const bleak_gatt_characteristic *ch);
/** The handle of the value (what ATT reads, writes and notifies). */
uint16_t
bleak_gatt_characteristic_value_handle(const bleak_gatt_characteristic *ch);
/** bleak_gatt_property bits. */
uint32_t
bleak_gatt_characteristic_properties(const bleak_gatt_characteristic *ch);
/**
 * Bleak's max_write_without_response_size: the largest value a write
 * without response carries, MTU - 3 unless the backend knows better, and
 * never more than 512 (the largest attribute value; Bleak would say 514 at
 * MTU 517). 0 for NULL.
 */
size_t bleak_gatt_characteristic_max_write_without_response_size(
    const bleak_gatt_characteristic *ch);
const bleak_gatt_service *
bleak_gatt_characteristic_service(const bleak_gatt_characteristic *ch);
/** The SIG name, or "Unknown" (never NULL). */
const char *
bleak_gatt_characteristic_description(const bleak_gatt_characteristic *ch);
size_t
bleak_gatt_characteristic_descriptor_count(const bleak_gatt_characteristic *ch);
const bleak_gatt_descriptor *
bleak_gatt_characteristic_descriptor_at(const bleak_gatt_characteristic *ch,
                                        size_t i);
/** The first descriptor with @p uuid (Bleak's get_descriptor(uuid)). */
const bleak_gatt_descriptor *
bleak_gatt_characteristic_get_descriptor(const bleak_gatt_characteristic *ch,
                                         const bleak_uuid *uuid);

/* ---- descriptors ---- */

const bleak_uuid *bleak_gatt_descriptor_uuid(const bleak_gatt_descriptor *d);
uint16_t bleak_gatt_descriptor_handle(const bleak_gatt_descriptor *d);
const bleak_gatt_characteristic *
bleak_gatt_descriptor_characteristic(const bleak_gatt_descriptor *d);
/** The SIG name, or "Unknown" (never NULL). */
const char *bleak_gatt_descriptor_description(const bleak_gatt_descriptor *d);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_GATT_H */
