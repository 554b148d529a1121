/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/error.h
 * @brief Error codes: one negative int space, like libuv's.
 *
 * Every bleak function that can fail returns an int: 0 (BLEAK_OK) or more on
 * success, a negative code on failure. Completion callbacks receive the same
 * codes. The space is split so that protocol codes are kept intact:
 *
 *  - -1 .. -255       bleak's own conditions (BLEAK_ERR_*, below);
 *  - -0x100 - code    an ATT error code a peer returned (Bleak's
 *                     BleakGATTProtocolError / "Protocol Error 0x0A"):
 *                     BLEAK_ERR_ATT(0x03) is "Write Not Permitted";
 *  - -0x200 - code    an HCI status or disconnect reason from a controller;
 *  - -0x300 - code    an SMP pairing failure reason.
 *
 * bleak_strerror() and bleak_err_name() never return NULL, for any int.
 * Some failures carry a detail message (the D-Bus error text, which UUID was
 * ambiguous, ...): see bleak_error_detail().
 */
#ifndef BLEAK_ERROR_H
#define BLEAK_ERROR_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message): the one table of bleak's own codes. */
#define BLEAK_ERRNO_MAP(X)                                                     \
  X(INVALID_ARG, -1, "invalid argument")                                       \
  X(NO_MEMORY, -2, "out of memory")                                            \
  X(NOT_FOUND, -3, "not found")                                                \
  X(DEVICE_NOT_FOUND, -4, "device not found")                                  \
  X(NOT_CONNECTED, -5, "not connected")                                        \
  X(TIMEOUT, -6, "operation timed out")                                        \
  X(CANCELED, -7, "operation canceled")                                        \
  X(DISCONNECTED, -8, "disconnected while the operation was pending")          \
  X(BUSY, -9, "resource busy")                                                 \
  X(STATE, -10, "operation not allowed in the current state")                  \
  X(AMBIGUOUS, -11, "more than one attribute matches; use a handle")           \
  X(IO, -12, "input/output error")                                             \
  X(PROTOCOL, -13, "malformed or unexpected protocol data")                    \
  X(NOT_SUPPORTED, -14, "not supported")                                       \
  X(BACKEND, -15, "backend error")                                             \
  X(TOO_LONG, -16, "value too long")                                           \
  X(AUTH, -17, "authentication or pairing failed")                             \
  X(ALREADY, -18, "already in progress or already done")                       \
  X(BUFFER_TOO_SMALL, -19, "buffer too small")                                 \
  X(NO_BACKEND, -20, "backend not available")                                  \
  X(OVERFLOW, -21, "value out of range")                                       \
  X(NO_SLOT, -22, "no free connection slot on the adapter")                    \
  X(NO_ADAPTER, -23, "Bluetooth is not available: no adapter")                 \
  X(POWERED_OFF, -24, "Bluetooth is not available: adapter powered off")       \
  X(RFKILL, -25, "Bluetooth is not available: adapter blocked by rfkill")      \
  X(NO_BLUETOOTHD, -26, "Bluetooth is not available: bluetoothd not running")  \
  X(PERMISSION, -27, "Bluetooth is not available: permission denied")

/*
 * "Bluetooth is not available", with its reason (Bleak 2.0's
 * BleakBluetoothNotAvailableError and its reason): a client's connect, a
 * scanner's start and the adapter calls (bleak/adapter.h) fail with
 *  - BLEAK_ERR_NO_ADAPTER: no adapter (bluez: no org.bluez.Adapter1, or not
 *    the one asked for; hci: no such controller);
 *  - BLEAK_ERR_POWERED_OFF: the adapter is there but powered off
 *    (`btmgmt power off`, Adapter1.Powered false);
 *  - BLEAK_ERR_RFKILL: the adapter is blocked by rfkill (soft or hard);
 *  - BLEAK_ERR_NO_BLUETOOTHD: bluez only: nobody owns org.bluez on the
 *    system bus (bluetoothd is not running);
 *  - BLEAK_ERR_PERMISSION: the caller may not use Bluetooth (D-Bus
 *    AccessDenied from the bus policy, or EPERM/EACCES on an HCI socket).
 * The detail message (bleak_error_detail()) names the adapter and what was
 * seen. bleak_error_is_not_available() tells them from other failures.
 * The hci backend reports them from its user channel (NO_ADAPTER, RFKILL,
 * PERMISSION); the bluez backend from BlueZ's object tree (no Adapter1,
 * Powered false: RFKILL when an rfkill switch says so) and from D-Bus
 * errors (ServiceUnknown, NameHasNoOwner: NO_BLUETOOTHD; AccessDenied:
 * PERMISSION; org.bluez.Error.NotReady, le-connection-adapter-not-powered:
 * POWERED_OFF or RFKILL).
 *
 * BLEAK_ERR_NO_SLOT: the adapter has no free connection slot (BlueZ's
 * le-connection-concurrent-connection-limit, the controller's Connection
 * Limit Exceeded): another link must go first; a connect does not retry it.
 */

/** bleak's own error codes (all negative). */
typedef enum bleak_errno {
  BLEAK_OK = 0,
#define BLEAK_ERR_ENUM_(name, val, msg) BLEAK_ERR_##name = (val),
  BLEAK_ERRNO_MAP(BLEAK_ERR_ENUM_)
#undef BLEAK_ERR_ENUM_
} bleak_errno;

/** Bases of the protocol code ranges (see the file comment). */
#define BLEAK_ERR_ATT_BASE 0x100
#define BLEAK_ERR_HCI_BASE 0x200
#define BLEAK_ERR_SMP_BASE 0x300

/** The bleak error for ATT error code @p code (1..255). */
#define BLEAK_ERR_ATT(code) (-(BLEAK_ERR_ATT_BASE + (int)((code) & 0xff)))
/** The bleak error for HCI status / disconnect reason @p code (1..255). */
#define BLEAK_ERR_HCI(code) (-(BLEAK_ERR_HCI_BASE + (int)((code) & 0xff)))
/** The bleak error for SMP pairing failed reason @p code (1..255). */
#define BLEAK_ERR_SMP(code) (-(BLEAK_ERR_SMP_BASE + (int)((code) & 0xff)))

/** ATT error codes of the Core specification (Vol 3, Part F, 3.4.1.1). */
enum bleak_att_error {
  BLEAK_ATT_INVALID_HANDLE = 0x01,
  BLEAK_ATT_READ_NOT_PERMITTED = 0x02,
  BLEAK_ATT_WRITE_NOT_PERMITTED = 0x03,
  BLEAK_ATT_INVALID_PDU = 0x04,
  BLEAK_ATT_INSUFFICIENT_AUTHENTICATION = 0x05,
  BLEAK_ATT_REQUEST_NOT_SUPPORTED = 0x06,
  BLEAK_ATT_INVALID_OFFSET = 0x07,
  BLEAK_ATT_INSUFFICIENT_AUTHORIZATION = 0x08,
  BLEAK_ATT_PREPARE_QUEUE_FULL = 0x09,
  BLEAK_ATT_ATTRIBUTE_NOT_FOUND = 0x0a,
  BLEAK_ATT_ATTRIBUTE_NOT_LONG = 0x0b,
  BLEAK_ATT_INSUFFICIENT_KEY_SIZE = 0x0c,
  BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH = 0x0d,
  BLEAK_ATT_UNLIKELY = 0x0e,
  BLEAK_ATT_INSUFFICIENT_ENCRYPTION = 0x0f,
  BLEAK_ATT_UNSUPPORTED_GROUP_TYPE = 0x10,
  BLEAK_ATT_INSUFFICIENT_RESOURCES = 0x11,
  BLEAK_ATT_DATABASE_OUT_OF_SYNC = 0x12,
  BLEAK_ATT_VALUE_NOT_ALLOWED = 0x13,
};

/**
 * A message for @p err, in English, for people. Covers bleak's own codes,
 * every ATT error code (by its specification name, e.g. "ATT: Write Not
 * Permitted"), HCI and SMP codes, and unknown values ("unknown error").
 * The string is static: never NULL, never to be freed.
 */
const char *bleak_strerror(int err);

/**
 * The symbolic name of @p err: "BLEAK_ERR_TIMEOUT", "BLEAK_OK",
 * "BLEAK_ERR_ATT(0x03)" style names for protocol ranges, "BLEAK_ERR_UNKNOWN"
 * otherwise. Static storage (the protocol-range names are built into a
 * thread-local buffer that the next call on the same thread overwrites).
 */
const char *bleak_err_name(int err);

/** True when @p err carries an ATT error code from a peer. */
bool bleak_error_is_att(int err);
/** The ATT error code (1..255) carried by @p err, or 0 if it carries none. */
uint8_t bleak_error_att_code(int err);
/** True when @p err carries an HCI status from a controller. */
bool bleak_error_is_hci(int err);
/** True when @p err carries an SMP pairing failure reason. */
bool bleak_error_is_smp(int err);
/** True when @p err is one of the "Bluetooth is not available" reasons:
 * BLEAK_ERR_NO_ADAPTER .. BLEAK_ERR_PERMISSION (Bleak's
 * BleakBluetoothNotAvailableError). */
bool bleak_error_is_not_available(int err);

/**
 * The detail message of the most recent failure reported on this thread, or
 * "" when it had none. A failing call (or a completion callback with an
 * error) sets it just before returning (or calling back); a successful call
 * leaves it as it was. The string is owned by bleak and stays valid until the
 * next bleak call on the same thread: copy it to keep it.
 */
const char *bleak_error_detail(void);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_ERROR_H */
