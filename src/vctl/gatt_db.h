/* SPDX-License-Identifier: MIT */
/*
 * The GATT database of a virtual peripheral: attributes in handle order
 * (services, characteristic declarations and values, descriptors), their
 * values and permissions. Built service by service (vctl_db_add_*), the
 * way BlueZ lays out a registered application: a characteristic's CCCD
 * (0x2902) comes right after its value when it notifies or indicates,
 * then its Extended Properties (0x2900) when it has any, then its own
 * descriptors. The values kept here are the peripheral's (shared by every
 * connection); a CCCD's value is per connection and lives in the ATT
 * server (att_server.c). No I/O, no clock.
 */
#ifndef BLEAK_VCTL_GATT_DB_H
#define BLEAK_VCTL_GATT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/uuid.h"

#define VCTL_ATTR_MAX_LEN 512 /* the longest attribute value (Core Vol 3 Part F 3.2.9) */

typedef enum vctl_attr_kind {
  VCTL_ATTR_SERVICE,    /* 0x2800 primary, 0x2801 secondary */
  VCTL_ATTR_CHAR_DECL,  /* 0x2803 */
  VCTL_ATTR_CHAR_VALUE, /* the characteristic's value */
  VCTL_ATTR_CCCD,       /* 0x2902: its value is per connection */
  VCTL_ATTR_EXT_PROPS,  /* 0x2900 */
  VCTL_ATTR_DESCRIPTOR, /* any other descriptor */
} vctl_attr_kind;

/* Characteristic properties (the declaration's first byte). */
enum {
  VCTL_PROP_BROADCAST = 0x01,
  VCTL_PROP_READ = 0x02,
  VCTL_PROP_WRITE_WITHOUT_RESPONSE = 0x04,
  VCTL_PROP_WRITE = 0x08,
  VCTL_PROP_NOTIFY = 0x10,
  VCTL_PROP_INDICATE = 0x20,
  VCTL_PROP_SIGNED_WRITE = 0x40,
  VCTL_PROP_EXTENDED = 0x80,
};

/* Extended properties (0x2900's value). */
enum { VCTL_EXT_RELIABLE_WRITE = 0x0001, VCTL_EXT_WRITABLE_AUX = 0x0002 };

/* Attribute permissions: what the server lets a client do, and on what
 * link (BlueZ's encrypt-/encrypt-authenticated-/secure- flags). */
enum {
  VCTL_PERM_READ = 0x01,
  VCTL_PERM_WRITE = 0x02,
  VCTL_PERM_READ_ENCRYPT = 0x04,
  VCTL_PERM_WRITE_ENCRYPT = 0x08,
  VCTL_PERM_READ_AUTHEN = 0x10, /* an encrypted link with a key from a MITM-protected pairing */
  VCTL_PERM_WRITE_AUTHEN = 0x20,
};

typedef struct vctl_attr {
  uint16_t handle;
  uint8_t kind;         /* vctl_attr_kind */
  uint8_t props;        /* CHAR_DECL, CHAR_VALUE, CCCD: the characteristic's properties */
  uint16_t perm;        /* VCTL_PERM_* */
  uint16_t end;         /* SERVICE: the last handle of its group */
  uint16_t value_handle; /* every kind but SERVICE: its characteristic's value handle */
  int behaviour;        /* CHAR_VALUE: index of its behaviour in the peripheral, or -1 */
  bleak_uuid type;
  uint16_t len;
  uint8_t *value; /* VCTL_ATTR_MAX_LEN bytes, owned */
} vctl_attr;

typedef struct vctl_gatt_db {
  vctl_attr *attrs; /* sorted by handle */
  size_t n, cap;
  size_t open_service; /* index of the service being built, or SIZE_MAX */
  uint8_t hash[16];    /* Database Hash (Core Vol 3 Part G 7.3), kept current */
} vctl_gatt_db;

void vctl_db_init(vctl_gatt_db *db);
void vctl_db_free(vctl_gatt_db *db);

/* Each returns the new attribute's handle (a characteristic: its value
 * handle), or 0: out of memory, handles exhausted, a value over
 * VCTL_ATTR_MAX_LEN, or (char, desc) no service open. A service is open
 * from its vctl_db_add_service until the next one or vctl_db_close. New
 * services take the handles after the last one. */
uint16_t vctl_db_add_service(vctl_gatt_db *db, const bleak_uuid *uuid, bool primary);
uint16_t vctl_db_add_char(vctl_gatt_db *db, const bleak_uuid *uuid, uint8_t props,
                          uint16_t ext_props, uint16_t perm, const uint8_t *value, size_t len);
uint16_t vctl_db_add_desc(vctl_gatt_db *db, const bleak_uuid *uuid, uint16_t perm,
                          const uint8_t *value, size_t len);
/* Close the open service and bring the Database Hash up to date. */
void vctl_db_close(vctl_gatt_db *db);

/* The attribute with @p handle, or NULL. */
vctl_attr *vctl_db_find(const vctl_gatt_db *db, uint16_t handle);
/* Index of the first attribute whose handle is >= @p handle (db->n: none). */
size_t vctl_db_lower_bound(const vctl_gatt_db *db, uint16_t handle);
/* The @p nth (0-based) characteristic value of type @p uuid, or NULL. */
vctl_attr *vctl_db_char_by_uuid(const vctl_gatt_db *db, const bleak_uuid *uuid, unsigned nth);
/* The CCCD of the characteristic whose value is @p value_handle, or NULL. */
vctl_attr *vctl_db_cccd_of(const vctl_gatt_db *db, uint16_t value_handle);
/* The service group that contains @p handle, or NULL. */
vctl_attr *vctl_db_service_of(const vctl_gatt_db *db, uint16_t handle);
/* Remove the service that starts at @p start with all its attributes and
 * update the hash. @return its last handle, or 0 when none starts there. */
uint16_t vctl_db_remove_service(vctl_gatt_db *db, uint16_t start);
/* Recompute the Database Hash and store it in every 0x2B2A value. */
void vctl_db_update_hash(vctl_gatt_db *db);
/* Set an attribute's value (len <= VCTL_ATTR_MAX_LEN, else cut). */
void vctl_attr_set(vctl_attr *a, const uint8_t *value, size_t len);
/* True when @p a's type is the 16-bit UUID @p u16. */
bool vctl_attr_is(const vctl_attr *a, uint16_t u16);

#endif
