/* SPDX-License-Identifier: MIT */
/*
 * Building a GATT collection (for backends). Attributes may be added in any
 * order (D-Bus delivers objects unordered); parents are named by handle, so
 * nothing a backend holds is invalidated while the tree grows. Then
 * bk_gatt_services_finish() sorts, links and validates: a hostile peer or
 * D-Bus peer cannot make the tree inconsistent, only make finish() fail.
 */
#ifndef BLEAK_CORE_GATT_BUILD_H
#define BLEAK_CORE_GATT_BUILD_H

#include "bleak/gatt.h"

/* A new, empty collection with one reference; NULL when out of memory. */
bleak_gatt_services *bk_gatt_services_new(void);

/* Add a service spanning [start, end]. Errors: NO_MEMORY, STATE (after
 * finish). Validity is checked by finish. */
int bk_gatt_services_add_service(bleak_gatt_services *s, const bleak_uuid *uuid,
                                 uint16_t start, uint16_t end, bool primary);

/* Add a characteristic of the service starting at @p service_handle. */
int bk_gatt_services_add_characteristic(bleak_gatt_services *s,
                                        uint16_t service_handle,
                                        const bleak_uuid *uuid,
                                        uint16_t handle, uint16_t value_handle,
                                        uint32_t props);

/* Add a descriptor of the characteristic declared at @p char_handle. */
int bk_gatt_services_add_descriptor(bleak_gatt_services *s, uint16_t char_handle,
                                    const bleak_uuid *uuid, uint16_t handle);

/* Record the negotiated ATT MTU (default 23). Also after finish. */
void bk_gatt_services_set_mtu(bleak_gatt_services *s, uint16_t mtu);

/* Set an explicit max_write_without_response_size for the characteristic
 * declared at @p char_handle (after finish). Errors: NOT_FOUND. */
int bk_gatt_services_set_max_write_without_response(bleak_gatt_services *s,
                                                    uint16_t char_handle,
                                                    size_t size);

/* Sort, link and validate. Errors: BLEAK_ERR_PROTOCOL with a detail message
 * naming the offending handle (handle 0, end before start, overlapping
 * services, duplicate handles, a characteristic or descriptor outside its
 * parent's range or whose parent does not exist), NO_MEMORY. After an error
 * the collection is still safe to unref. */
int bk_gatt_services_finish(bleak_gatt_services *s);

/* Keep only the services whose UUID is in @p uuids (Bleak's services=
 * filter), with their characteristics and descriptors. Works before or
 * after finish. */
void bk_gatt_services_filter(bleak_gatt_services *s, const bleak_uuid *uuids,
                             size_t n);

#endif /* BLEAK_CORE_GATT_BUILD_H */
