/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/adapter.h
 * @brief The local adapters and the devices a backend knows.
 *
 * Two questions Bleak users ask (Bleak #1585, #367): which Bluetooth
 * adapters are there (name, address, powered), and which devices does the
 * system know already, connected or paired, without scanning for them.
 *
 * - bluez: BlueZ's org.bluez.Adapter1 objects (name "hci0", Address,
 *   Powered, Alias) and its Device1 objects that are connected, paired or
 *   bonded, from the loop's one copy of BlueZ's object tree (one
 *   GetManagedObjects per bus connection, shared with clients and
 *   scanners).
 * - hci: the controller of the transport (bleak_adapter_options
 *   .hci_transport, else $BLEAK_HCI) in its own words: its public address
 *   (Read BD_ADDR), powered once our host stack has initialised it; the
 *   known devices are the bonds made with that address (bleak/bonds.h: the
 *   controller keeps no list of its own), paired and not connected.
 *
 * Every call comes as an async one, completing once from the loop, never
 * before it returns, and a blocking twin that runs the loop until then.
 */
#ifndef BLEAK_ADAPTER_H
#define BLEAK_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/client.h"
#include "bleak/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One local adapter. */
typedef struct bleak_adapter_info {
  char name[64];    /**< bluez: "hci0"; hci: the transport ("unix:/tmp/...") */
  char address[18]; /**< "AA:BB:CC:DD:EE:FF" */
  bool powered;
  char alias[249];  /**< bluez: Adapter1.Alias; hci: "" */
} bleak_adapter_info;

/** One device the backend knows without scanning. */
typedef struct bleak_known_device {
  char address[18];
  char name[249];   /**< "" when the backend knows none */
  char adapter[64]; /**< the adapter it is known on (as bleak_adapter_info.name) */
  bool connected;
  bool paired;
  bool bonded;      /**< keys kept (bluez: Bonded; hci: a bond file) */
} bleak_known_device;

/** Which backend and adapter to ask. Start from bleak_adapter_options_init().
 * Strings are borrowed until the call returns (copied inside). */
typedef struct bleak_adapter_options {
  bleak_loop *loop;  /**< NULL: the thread's default loop */
  bleak_backend_kind backend;
  /** bluez: "hci0" for that adapter's devices only; NULL: every adapter.
   *  Ignored when listing adapters. */
  const char *adapter;
  const char *hci_transport; /**< hci: the controller; NULL: $BLEAK_HCI */
  const char *bond_dir;      /**< hci: the bonds (NULL: the default, bleak/bonds.h) */
  int timeout_ms;            /**< 0: 10000 */
} bleak_adapter_options;

void bleak_adapter_options_init(bleak_adapter_options *opts);

/** Completion of bleak_adapters_list_async(): @p list (@p n entries) is
 * valid during the call only; NULL, 0 when @p status < 0. */
typedef void (*bleak_adapters_fn)(int status, const bleak_adapter_info *list, size_t n,
                                  void *user_data);
/** Completion of bleak_known_devices_async(), likewise. */
typedef void (*bleak_known_devices_fn)(int status, const bleak_known_device *list, size_t n,
                                       void *user_data);

/**
 * List the local adapters. @p cb fires once, from the loop.
 * @return 0 (started), BLEAK_ERR_INVALID_ARG (NULL cb, bad options),
 *         BLEAK_ERR_NO_MEMORY, BLEAK_ERR_NO_BACKEND (not built in, or no
 *         D-Bus system bus).
 *         Completion errors: BLEAK_ERR_NO_BLUETOOTHD (bluez: nobody owns
 *         org.bluez), BLEAK_ERR_PERMISSION (D-Bus access denied; hci: no
 *         CAP_NET_ADMIN for the user channel), BLEAK_ERR_NO_ADAPTER (hci:
 *         no such controller; bluez lists none: 0 with n 0),
 *         BLEAK_ERR_RFKILL (hci), BLEAK_ERR_TIMEOUT, BLEAK_ERR_IO,
 *         BLEAK_ERR_BACKEND (detail says why).
 */
int bleak_adapters_list_async(const bleak_adapter_options *opts, bleak_adapters_fn cb,
                              void *user_data);
/** Blocking twin: *@p out gets an array the caller frees with free() (NULL
 * when there are none), *@p n its length. Errors as the async form's, and
 * BLEAK_ERR_STATE from inside a loop callback. */
int bleak_adapters_list(const bleak_adapter_options *opts, bleak_adapter_info **out, size_t *n);

/**
 * List the devices the backend knows that are connected or paired (see
 * the file comment for what each backend knows). Errors as
 * bleak_adapters_list_async(), and BLEAK_ERR_NO_ADAPTER (bluez: the
 * adapter asked for is not there).
 */
int bleak_known_devices_async(const bleak_adapter_options *opts, bleak_known_devices_fn cb,
                              void *user_data);
int bleak_known_devices(const bleak_adapter_options *opts, bleak_known_device **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_ADAPTER_H */
