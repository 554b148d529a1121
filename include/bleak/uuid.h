/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/uuid.h
 * @brief Bluetooth UUIDs: parse, normalize, format, compare, name.
 *
 * The counterpart of Bleak's `bleak.uuids` module. A bleak_uuid is always the
 * full 128-bit value; 16- and 32-bit UUIDs are expanded onto the Bluetooth
 * Base UUID 0000xxxx-0000-1000-8000-00805f9b34fb. Text form is lowercase,
 * 36 characters, like Bleak's normalize_uuid_str().
 *
 * A bleak_uuid is a plain value: copy it freely; nothing to free.
 */
#ifndef BLEAK_UUID_H
#define BLEAK_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A 128-bit UUID, bytes in big-endian (text) order. */
typedef struct bleak_uuid {
  uint8_t bytes[16];
} bleak_uuid;

/** Buffer size for bleak_uuid_to_string(): 36 characters and a NUL. */
#define BLEAK_UUID_STR_LEN 37

/**
 * Parse @p str into @p out. Accepted, in any letter case:
 *  - 16-bit: "2a37", "0x2A37";
 *  - 32-bit: "0000180d", "0x0000180D";
 *  - 128-bit: "0000180d-0000-1000-8000-00805f9b34fb" (dashes at 8-4-4-4-12)
 *    or the same 32 hex digits without dashes.
 * Leading or trailing white space, a sign, a "0x" prefix on the 128-bit form,
 * empty strings, wrong lengths, misplaced dashes and non-hex characters are
 * rejected. @p out is left untouched on failure.
 * @return 0, or BLEAK_ERR_INVALID_ARG (NULL @p str or @p out, malformed text).
 */
int bleak_uuid_parse(const char *str, bleak_uuid *out);

/** The UUID of a 16-bit assigned number (e.g. 0x2a37). */
bleak_uuid bleak_uuid_from_u16(uint16_t v);
/** The UUID of a 32-bit assigned number. */
bleak_uuid bleak_uuid_from_u32(uint32_t v);

/**
 * Decode a UUID from its little-endian wire form (as ATT carries it):
 * @p len must be 2, 4 or 16.
 * @return 0, or BLEAK_ERR_INVALID_ARG (NULL pointers, other lengths).
 */
int bleak_uuid_from_le_bytes(const uint8_t *buf, size_t len, bleak_uuid *out);

/**
 * Encode @p u in its shortest little-endian wire form into @p buf (2 bytes if
 * it is a 16-bit UUID on the base, else 16; 32-bit UUIDs are sent as 16
 * bytes, as ATT requires).
 * @return the number of bytes written (2 or 16), or BLEAK_ERR_INVALID_ARG
 *         (NULL pointers), BLEAK_ERR_BUFFER_TOO_SMALL (@p cap too small).
 */
int bleak_uuid_to_le_bytes(const bleak_uuid *u, uint8_t *buf, size_t cap);

/**
 * Format @p u as 36 lowercase characters with dashes into @p buf, which must
 * hold BLEAK_UUID_STR_LEN bytes.
 * @return @p buf; NULL if @p u or @p buf is NULL.
 */
char *bleak_uuid_to_string(const bleak_uuid *u, char buf[BLEAK_UUID_STR_LEN]);

/**
 * Normalize any accepted form (see bleak_uuid_parse()) to the 36-character
 * lowercase form, like Bleak's normalize_uuid_str().
 * @return 0, or BLEAK_ERR_INVALID_ARG.
 */
int bleak_uuid_normalize(const char *str, char buf[BLEAK_UUID_STR_LEN]);

/** True when @p a and @p b are the same UUID (false if either is NULL). */
bool bleak_uuid_equal(const bleak_uuid *a, const bleak_uuid *b);

/** memcmp-like total order (NULL sorts first). */
int bleak_uuid_compare(const bleak_uuid *a, const bleak_uuid *b);

/**
 * True when @p u lies on the Bluetooth Base UUID with a 16-bit value; the
 * value goes to @p out16 when it is not NULL.
 */
bool bleak_uuid_is_16bit(const bleak_uuid *u, uint16_t *out16);

/**
 * True when @p u lies on the Bluetooth Base UUID (16- or 32-bit value); the
 * value goes to @p out32 when it is not NULL.
 */
bool bleak_uuid_is_32bit(const bleak_uuid *u, uint32_t *out32);

/**
 * The Bluetooth SIG name of @p u ("Heart Rate", "Battery Level", "Client
 * Characteristic Configuration"), a name registered with
 * bleak_uuid_register_name(), or NULL when it has none. Static storage (or the
 * registered copy): valid until bleak_uuid_clear_registered_names().
 */
const char *bleak_uuid_name(const bleak_uuid *u);

/**
 * Like Bleak's uuidstr_to_str(): the name of the UUID in @p str, or
 * "Unknown" when it has none or @p str does not parse. Never NULL.
 */
const char *bleak_uuid_str_name(const char *str);

/**
 * Register a name for a (vendor) UUID, like Bleak's register_uuids(); a later
 * registration of the same UUID replaces the name. @p name is copied.
 * Not thread-safe: register at start-up.
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL, empty name), BLEAK_ERR_NO_MEMORY.
 */
int bleak_uuid_register_name(const bleak_uuid *u, const char *name);

/** Forget every name registered with bleak_uuid_register_name(). */
void bleak_uuid_clear_registered_names(void);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_UUID_H */
