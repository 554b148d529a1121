/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/client.h
 * @brief The GATT client: Bleak's BleakClient.
 *
 * A bleak_client talks to one peripheral: connect, discover services, read
 * and write characteristics and descriptors, subscribe to notifications and
 * indications, pair. The names follow Bleak's BleakClient.
 *
 * Every operation comes twice:
 *  - async, `bleak_client_X_async(..., cb, user_data)`: returns an operation
 *    id (> 0) and later calls @p cb exactly once, from the client's loop,
 *    never before the async call has returned: with success, an error, a
 *    timeout, BLEAK_ERR_CANCELED (bleak_client_cancel()) or
 *    BLEAK_ERR_DISCONNECTED (the link dropped, or the client was freed),
 *    or BLEAK_ERR_IO / BLEAK_ERR_NO_BACKEND when what the backend talks to
 *    went away (the hci backend's controller transport, bluetoothd).
 *    When the async call itself fails (returns < 0), @p cb is never called.
 *  - blocking, `bleak_client_X(...)`: starts the async twin and runs the
 *    client's loop until it completes (bleak_loop_run_until()); other
 *    callbacks of the loop (notifications, other clients) fire meanwhile.
 *    Blocking calls fail with BLEAK_ERR_STATE from inside a callback of the
 *    same loop: use the async form there.
 *
 * Errors common to all operations: BLEAK_ERR_INVALID_ARG (NULL client or
 * arguments), BLEAK_ERR_NOT_CONNECTED, BLEAK_ERR_TIMEOUT,
 * BLEAK_ERR_DISCONNECTED, BLEAK_ERR_ATT(code) when the peer answered with an
 * ATT error (Bleak's BleakGATTProtocolError), BLEAK_ERR_BACKEND with a
 * detail message (bleak_error_detail()) for backend failures.
 *
 * A client is not thread-safe: use it from its loop's thread only.
 */
#ifndef BLEAK_CLIENT_H
#define BLEAK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/gatt.h"
#include "bleak/loop.h"
#include "bleak/uuid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bleak_client bleak_client;
typedef struct bleak_device bleak_device;

/** Largest value of a characteristic or descriptor (Core spec: 512). */
#define BLEAK_MAX_ATTR_VALUE 512

/** Write modes, Bleak's write_gatt_char(response=...). */
typedef enum bleak_write_mode {
  /** response=None: with response when the characteristic has "write",
   *  else without (when it has "write-without-response"). */
  BLEAK_WRITE_AUTO = 0,
  BLEAK_WRITE_WITH_RESPONSE = 1,    /**< response=True: Write Request */
  BLEAK_WRITE_WITHOUT_RESPONSE = 2, /**< response=False: Write Command */
} bleak_write_mode;

/** The link dropped (peer, local disconnect, or controller gone). Fires once
 * per connection, from the loop, after every pending operation completed
 * with BLEAK_ERR_DISCONNECTED. Not called by bleak_client_free(). */
typedef void (*bleak_disconnected_fn)(bleak_client *client, void *user_data);

/** Completion of an operation without a value. @p status is 0 or < 0. */
typedef void (*bleak_done_fn)(bleak_client *client, int status,
                              void *user_data);

/** Completion of a read. @p data (@p len bytes) is valid only during the
 * call; it is NULL with len 0 when @p status < 0. */
typedef void (*bleak_read_fn)(bleak_client *client, int status,
                              const uint8_t *data, size_t len,
                              void *user_data);

/** A notification or indication value arrived (Bleak's start_notify
 * callback(sender, data)). @p data is valid only during the call. */
typedef void (*bleak_notify_fn)(bleak_client *client,
                                const bleak_gatt_characteristic *sender,
                                const uint8_t *data, size_t len,
                                void *user_data);

/** What a pairing agent is asked (passkey entry, numeric comparison). */
typedef enum bleak_pairing_request {
  /** Show @p passkey to the user (they type it on the peripheral). Answer
   *  with bleak_client_pairing_reply(..., true, 0) or nothing. */
  BLEAK_PAIRING_DISPLAY_PASSKEY = 1,
  /** Return the passkey shown by the peripheral, 0..999999. */
  BLEAK_PAIRING_REQUEST_PASSKEY = 2,
  /** Numeric comparison: confirm that @p passkey matches the peer's. */
  BLEAK_PAIRING_CONFIRM = 3,
  /** Just Works: confirm pairing without a number. */
  BLEAK_PAIRING_AUTHORIZE = 4,
} bleak_pairing_request;

/**
 * A pairing agent callback. Answer at once or later (from the loop) with
 * bleak_client_pairing_reply(). With no agent callback, Just Works and
 * numeric comparison are accepted and passkey entry fails.
 */
typedef void (*bleak_pairing_fn)(bleak_client *client,
                                 bleak_pairing_request request,
                                 uint32_t passkey, void *user_data);

/** What the user can do while pairing (Core Vol 3 Part H 2.3.2): it
 * chooses the association model with the peer's. */
typedef enum bleak_io_capability {
  /** KeyboardDisplay with a pairing callback, NoInputNoOutput (Just
   *  Works) without one. */
  BLEAK_IO_CAP_DEFAULT = 0,
  BLEAK_IO_CAP_DISPLAY_ONLY = 1,
  BLEAK_IO_CAP_DISPLAY_YES_NO = 2,
  BLEAK_IO_CAP_KEYBOARD_ONLY = 3,
  BLEAK_IO_CAP_NO_INPUT_NO_OUTPUT = 4,
  BLEAK_IO_CAP_KEYBOARD_DISPLAY = 5,
} bleak_io_capability;

/**
 * Out-of-band pairing data: what the peripheral gave by other means (an
 * NFC tag, a QR code, a label), so that pairing is protected against a
 * man in the middle without a number to show or type. The hci backend
 * uses it; bluez does not (BlueZ takes OOB data through its own
 * org.bluez.Adapter1 interfaces, not an agent).
 */
typedef struct bleak_oob_data {
  /** LE Secure Connections: the peer's random value r and confirmation
   *  value C (Core Vol 3, Part H, 2.3.5.6.4), 16 octets each, least
   *  significant first as the LE Secure Connections Random Value (0x23)
   *  and Confirmation Value (0x22) AD types carry them. */
  bool has_sc;
  uint8_t sc_random[16];
  uint8_t sc_confirm[16];
  /** LE legacy pairing: the shared temporary key (the Security Manager TK
   *  Value AD type, 0x10), least significant octet first. Legacy only:
   *  cannot go with sc_only, and an SC peer pairs without it. */
  bool has_legacy_tk;
  uint8_t legacy_tk[16];
} bleak_oob_data;

/** How pairing is done. Zeroed, it is what Bleak's pair() does: bond,
 * any association model the two sides allow, keys of 7 to 16 octets. The
 * hci backend applies all of it; bluez applies io_capability (its
 * agent's) and leaves the rest to bluetoothd's configuration. */
typedef struct bleak_pairing_options {
  bleak_io_capability io_capability;
  bool no_bonding;  /**< pair for this connection only: keep no keys */
  bool mitm;        /**< require an authenticated key: Just Works fails */
  bool sc_only;     /**< LE Secure Connections only: refuse legacy pairing */
  int min_key_size; /**< 7..16 octets; 0: 7 (as BlueZ) */
  /** hci: the directory of the bond files; NULL: $BLEAK_BOND_DIR, else
   *  $XDG_STATE_HOME/bleak/bonds, else ~/.local/state/bleak/bonds, else
   *  (no HOME, as root) /var/lib/bleak/bonds. Borrowed during
   *  bleak_client_new() only. */
  const char *bond_dir;
  /** The peer's out-of-band data (hci), or NULL: none. Copied by
   *  bleak_client_new() (and wiped when the client is freed). With it, an
   *  OOB-capable peer pairs with the OOB model; a wrong value fails the
   *  pairing with BLEAK_ERR_SMP(0x04), Confirm Value Failed. */
  const bleak_oob_data *oob;
} bleak_pairing_options;

/** Which backend serves a client or scanner (Bleak's backend=). */
typedef enum bleak_backend_kind {
  /** $BLEAK_BACKEND ("bluez" or "hci") if set, else bluez on Linux. */
  BLEAK_BACKEND_AUTO = 0,
  BLEAK_BACKEND_BLUEZ = 1, /**< BlueZ over D-Bus */
  BLEAK_BACKEND_HCI = 2,   /**< our own host stack over HCI */
} bleak_backend_kind;

/**
 * Constructor options, Bleak's BleakClient(...) keyword arguments. Start
 * from bleak_client_options_init(); every pointer is borrowed for the
 * duration of bleak_client_new() only (copied inside).
 */
typedef struct bleak_client_options {
  bleak_loop *loop;    /**< NULL: the thread's default loop */
  const char *adapter; /**< "hci0"... NULL: the default adapter */
  bleak_backend_kind backend;
  /** Transport of the hci backend ("unix:/tmp/bt-server-le", "hci1", ...);
   *  NULL: $BLEAK_HCI. Ignored by bluez. */
  const char *hci_transport;
  /** Connect timeout (ms), also the default of blocking calls' waits for
   *  discovery; Bleak's timeout=30.0 (since Bleak 2.1.1). 0: 30000. */
  int timeout_ms;
  /** Pair after connecting (Bleak's pair=True). */
  bool pair;
  /** Only these services are kept after discovery (Bleak's services=). */
  const bleak_uuid *services;
  size_t n_services;
  bleak_disconnected_fn disconnected_callback;
  void *disconnected_user_data;
  /** The pairing agent (see bleak_pairing_fn). When set, the agent is in
   *  place from connect on, so pairing the backend starts by itself (BlueZ
   *  does when a read or write needs encryption) reaches it too. */
  bleak_pairing_fn pairing_callback;
  void *pairing_user_data;
  /** How to pair (see bleak_pairing_options). */
  bleak_pairing_options pairing;
  /** Connect once: no retry of a transient failure. By default a connect
   *  tries again, with backoff (100 ms doubling to 1 s), while its timeout
   *  leaves room, after what the backend calls transient: on bluez
   *  le-connection-abort-by-local and other org.bluez.Error.Failed,
   *  InProgress, a link that drops before the services are resolved,
   *  ServicesResolved that does not come within half the time left (at
   *  least 5 s: then, once per connect, BlueZ's cache of a device that is
   *  not paired is cleared with RemoveDevice and the device found again),
   *  bluetoothd restarting (waited for up to 8 s); on hci a connection
   *  that failed to be established (HCI 0x3e), a busy controller, a link
   *  that drops while the connect sets it up. Each retry is logged
   *  at INFO with the reason. Never retried: BLEAK_ERR_NO_SLOT, the "not
   *  available" errors, DEVICE_NOT_FOUND, pairing and ATT refusals. */
  bool no_connect_retry;
  /** hci: the ATT transaction timeout (ms): a request the peer leaves
   *  unanswered this long fails with BLEAK_ERR_TIMEOUT, with every other
   *  pending one, and the link is dropped (Core Vol 3 Part F 3.3.3).
   *  0: 30000, the spec's; shorter is for tests of a silent peer
   *  (tests/fault). < 0: BLEAK_ERR_INVALID_ARG. Ignored by bluez (BlueZ's
   *  own, 30 s). */
  int att_timeout_ms;
} bleak_client_options;

/** Fill @p opts with the defaults. */
void bleak_client_options_init(bleak_client_options *opts);

/**
 * Create a client for the peripheral at @p address ("AA:BB:CC:DD:EE:FF",
 * any case). Nothing happens on the air until bleak_client_connect().
 * @param opts may be NULL for the defaults.
 * @param out receives the client, owned by the caller: bleak_client_free().
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL, malformed address, bad options),
 *         BLEAK_ERR_NO_MEMORY, BLEAK_ERR_NO_BACKEND (the backend is not
 *         built in or cannot start: detail says why).
 */
int bleak_client_new(const char *address, const bleak_client_options *opts,
                     bleak_client **out);

/** Like bleak_client_new() for a device a scanner found (Bleak's
 * BleakClient(BLEDevice)). @p device is borrowed. */
int bleak_client_new_from_device(const bleak_device *device,
                                 const bleak_client_options *opts,
                                 bleak_client **out);

/**
 * Free the client (NULL-safe). If connected, it disconnects (without
 * waiting for the link to go; on the hci backend, the last client or
 * scanner of a socket transport closes it gracefully, which can take up to
 * 300 ms). Pending operations complete with BLEAK_ERR_DISCONNECTED before
 * this returns (their callbacks run from here; async calls made from them
 * fail with BLEAK_ERR_STATE); the disconnected callback does not fire for
 * this. From one of this client's own callbacks (a completion, a
 * notification, the disconnected callback) the free is deferred: it
 * happens from the loop once that callback has returned, and no callback
 * of the client fires after the one that asked, but for the completions
 * of what was still pending.
 */
void bleak_client_free(bleak_client *client);

/* ---- connection ---- */

/**
 * Connect, then discover services (waits for them, as Bleak's connect()
 * does), then pair if the options ask. Finds the device by scanning first
 * when the backend does not know it yet.
 * @return operation id, or BLEAK_ERR_INVALID_ARG, BLEAK_ERR_ALREADY
 *         (connected or connecting). Completion errors: BLEAK_ERR_TIMEOUT,
 *         BLEAK_ERR_DEVICE_NOT_FOUND, BLEAK_ERR_DISCONNECTED,
 *         BLEAK_ERR_BACKEND, BLEAK_ERR_CANCELED, BLEAK_ERR_NO_SLOT (no
 *         free connection slot on the adapter), the "not available"
 *         errors (BLEAK_ERR_NO_ADAPTER, POWERED_OFF, RFKILL,
 *         NO_BLUETOOTHD, PERMISSION: bleak_error_is_not_available()),
 *         BLEAK_ERR_ATT()/SMP() of a pairing (pair=true). Transient
 *         failures are retried first (no_connect_retry).
 */
int bleak_client_connect_async(bleak_client *client, bleak_done_fn cb,
                               void *user_data);
/** Blocking connect; @return 0 or the errors of the async form. */
int bleak_client_connect(bleak_client *client);

/**
 * Disconnect. Completes when the link is down (0; also when it was not
 * connected). Pending operations complete with BLEAK_ERR_DISCONNECTED
 * first, then the disconnected callback fires.
 */
int bleak_client_disconnect_async(bleak_client *client, bleak_done_fn cb,
                                  void *user_data);
int bleak_client_disconnect(bleak_client *client);

/** Bleak's is_connected. */
bool bleak_client_is_connected(const bleak_client *client);

/**
 * Cancel a pending operation: it completes with BLEAK_ERR_CANCELED from the
 * loop (not during this call). A connect that is canceled disconnects.
 * @return 0, BLEAK_ERR_NOT_FOUND (no such pending operation: it completed
 *         already), BLEAK_ERR_INVALID_ARG.
 */
int bleak_client_cancel(bleak_client *client, int op_id);

/** Bleak's set_disconnected_callback() (deprecated there; kept here). */
void bleak_client_set_disconnected_callback(bleak_client *client,
                                            bleak_disconnected_fn cb,
                                            void *user_data);

/* ---- properties ---- */

/** The peer's address, "AA:BB:CC:DD:EE:FF" (owned by the client). */
const char *bleak_client_address(const bleak_client *client);
/** The peer's name as the backend knows it, or its address (owned by the
 * client; valid until the next loop dispatch). */
const char *bleak_client_name(const bleak_client *client);
/** Bleak's mtu_size: the negotiated ATT MTU (23 before negotiation). */
int bleak_client_mtu_size(const bleak_client *client);
/** The name of the backend serving the client: "bluez" or "hci". */
const char *bleak_client_backend_id(const bleak_client *client);
/** The loop the client runs on. */
bleak_loop *bleak_client_loop(const bleak_client *client);

/**
 * Bleak's services: the discovered collection, or NULL when not connected.
 * Borrowed: valid until the client disconnects or is freed; take a
 * reference with bleak_gatt_services_ref() to keep it longer.
 */
bleak_gatt_services *bleak_client_services(const bleak_client *client);

/** Bleak's deprecated get_services(): the same collection, in *out.
 * @return 0, BLEAK_ERR_NOT_CONNECTED, BLEAK_ERR_INVALID_ARG. */
int bleak_client_get_services(bleak_client *client, bleak_gatt_services **out);

/**
 * Resolve a characteristic the way Bleak's read_gatt_char(specifier) does:
 * by UUID string (any accepted form) or by handle.
 * @return 0, BLEAK_ERR_NOT_CONNECTED, BLEAK_ERR_NOT_FOUND,
 *         BLEAK_ERR_AMBIGUOUS (several characteristics share the UUID: use
 *         the handle), BLEAK_ERR_INVALID_ARG (malformed UUID).
 */
int bleak_client_char_by_uuid(const bleak_client *client, const char *uuid,
                              const bleak_gatt_characteristic **out);
int bleak_client_char_by_handle(const bleak_client *client, uint16_t handle,
                                const bleak_gatt_characteristic **out);

/* ---- characteristics ---- */

/**
 * Options of a read: Bleak's read_gatt_char(..., use_cached=...) and
 * read_gatt_descriptor(..., use_cached=...). Zeroed (or a NULL pointer):
 * the value is read from the peer.
 */
typedef struct bleak_read_options {
  /** Answer with a value held already, with no round trip to the peer:
   *  the last value this client read or was notified of (or indicated)
   *  during this connection, on both backends; else, on bluez, BlueZ's own
   *  Value property (what BlueZ last read or was notified of, for any
   *  process: as Bleak's use_cached). When there is no value yet, the read
   *  goes to the peer as without use_cached. */
  bool use_cached;
} bleak_read_options;

/** Read a characteristic's value. The characteristic must belong to this
 * client's current services (else BLEAK_ERR_NOT_FOUND). */
int bleak_client_read_gatt_char_async(bleak_client *client,
                                      const bleak_gatt_characteristic *ch,
                                      bleak_read_fn cb, void *user_data);
/**
 * Blocking read into @p buf (@p cap bytes; BLEAK_MAX_ATTR_VALUE always
 * fits). The value's length goes to @p len.
 * @return 0, BLEAK_ERR_BUFFER_TOO_SMALL (the value did not fit: *len says
 *         how long it is), or the async form's errors.
 */
int bleak_client_read_gatt_char(bleak_client *client,
                                const bleak_gatt_characteristic *ch,
                                uint8_t *buf, size_t cap, size_t *len);

/** Read with options (@p opts may be NULL: the defaults). Errors as
 * bleak_client_read_gatt_char_async(). */
int bleak_client_read_gatt_char_opts_async(bleak_client *client,
                                           const bleak_gatt_characteristic *ch,
                                           const bleak_read_options *opts,
                                           bleak_read_fn cb, void *user_data);
/** Blocking read with options; errors as bleak_client_read_gatt_char(). */
int bleak_client_read_gatt_char_opts(bleak_client *client,
                                     const bleak_gatt_characteristic *ch,
                                     const bleak_read_options *opts,
                                     uint8_t *buf, size_t cap, size_t *len);

/**
 * Write @p len bytes (copied before this returns) to a characteristic.
 * @return operation id, or BLEAK_ERR_TOO_LONG (@p len > 512, or a
 *         write without response longer than max_write_without_response_size),
 *         BLEAK_ERR_NOT_SUPPORTED (without response, explicit or chosen by
 *         AUTO, on a characteristic without "write-without-response"; a
 *         write with response that the peer refuses completes with its ATT
 *         error instead),
 *         and the common errors.
 */
int bleak_client_write_gatt_char_async(bleak_client *client,
                                       const bleak_gatt_characteristic *ch,
                                       const uint8_t *data, size_t len,
                                       bleak_write_mode mode, bleak_done_fn cb,
                                       void *user_data);
int bleak_client_write_gatt_char(bleak_client *client,
                                 const bleak_gatt_characteristic *ch,
                                 const uint8_t *data, size_t len,
                                 bleak_write_mode mode);

/**
 * Subscribe to notifications or indications (whichever the characteristic
 * has; notifications when both). @p cb fires from the loop for every value
 * until bleak_client_stop_notify() or disconnection.
 * @return operation id, or BLEAK_ERR_ALREADY (already subscribed: Bleak
 *         raises too), BLEAK_ERR_NOT_SUPPORTED (neither notify nor indicate).
 */
int bleak_client_start_notify_async(bleak_client *client,
                                    const bleak_gatt_characteristic *ch,
                                    bleak_notify_fn cb, void *notify_user_data,
                                    bleak_done_fn done, void *done_user_data);
int bleak_client_start_notify(bleak_client *client,
                              const bleak_gatt_characteristic *ch,
                              bleak_notify_fn cb, void *user_data);

/** Options of start_notify. Zeroed (or a NULL pointer): the default. */
typedef struct bleak_notify_options {
  /** bluez: subscribe with StartNotify (values come as PropertiesChanged
   *  signals of the characteristic's Value) instead of AcquireNotify (a
   *  socket of its own: fewer copies, our default, and Bleak's). Bleak
   *  2.1's use_start_notify: for peripherals or BlueZ versions where
   *  AcquireNotify misbehaves. Without it, a characteristic that BlueZ
   *  does not give by AcquireNotify (indications; NotSupported,
   *  NotPermitted) falls back to StartNotify by itself. hci: ignored (one
   *  way only: the CCCD is written). */
  bool use_start_notify;
} bleak_notify_options;

/** start_notify with options (@p opts may be NULL: the defaults). Errors
 * as bleak_client_start_notify_async(). */
int bleak_client_start_notify_opts_async(bleak_client *client,
                                         const bleak_gatt_characteristic *ch,
                                         const bleak_notify_options *opts,
                                         bleak_notify_fn cb,
                                         void *notify_user_data,
                                         bleak_done_fn done,
                                         void *done_user_data);
int bleak_client_start_notify_opts(bleak_client *client,
                                   const bleak_gatt_characteristic *ch,
                                   const bleak_notify_options *opts,
                                   bleak_notify_fn cb, void *user_data);

/** Unsubscribe. @return operation id, or BLEAK_ERR_NOT_FOUND (never
 * subscribed). No value callback fires once this has been called. */
int bleak_client_stop_notify_async(bleak_client *client,
                                   const bleak_gatt_characteristic *ch,
                                   bleak_done_fn cb, void *user_data);
int bleak_client_stop_notify(bleak_client *client,
                             const bleak_gatt_characteristic *ch);

/* ---- descriptors ---- */

int bleak_client_read_gatt_descriptor_async(bleak_client *client,
                                            const bleak_gatt_descriptor *desc,
                                            bleak_read_fn cb, void *user_data);
int bleak_client_read_gatt_descriptor(bleak_client *client,
                                      const bleak_gatt_descriptor *desc,
                                      uint8_t *buf, size_t cap, size_t *len);
/** read_gatt_descriptor with options (@p opts may be NULL); see
 * bleak_read_options. */
int bleak_client_read_gatt_descriptor_opts_async(
    bleak_client *client, const bleak_gatt_descriptor *desc,
    const bleak_read_options *opts, bleak_read_fn cb, void *user_data);
int bleak_client_read_gatt_descriptor_opts(bleak_client *client,
                                           const bleak_gatt_descriptor *desc,
                                           const bleak_read_options *opts,
                                           uint8_t *buf, size_t cap,
                                           size_t *len);
/**
 * Write a descriptor (a Write Request).
 * @return operation id, or BLEAK_ERR_INVALID_ARG for the Client
 *         Characteristic Configuration descriptor (0x2902), as Bleak 3.0:
 *         subscriptions go through bleak_client_start_notify() and
 *         bleak_client_stop_notify(), which keep the backend's state
 *         right; BLEAK_ERR_TOO_LONG (more than 512 bytes); the common
 *         errors.
 */
int bleak_client_write_gatt_descriptor_async(bleak_client *client,
                                             const bleak_gatt_descriptor *desc,
                                             const uint8_t *data, size_t len,
                                             bleak_done_fn cb, void *user_data);
int bleak_client_write_gatt_descriptor(bleak_client *client,
                                       const bleak_gatt_descriptor *desc,
                                       const uint8_t *data, size_t len);

/* ---- pairing ----
 *
 * A read or write that the peer refuses for want of security (ATT
 * Insufficient Authentication, Encryption or Encryption Key Size) secures
 * the link on the hci backend, as BlueZ does: with the bond's key, else by
 * pairing (the pairing callback is asked what it needs); then it is sent
 * once more. It completes with its own result, or with why the link could
 * not be secured: the pairing's error, or BLEAK_ERR_AUTH when a bonded
 * peer refused our key (it lost the bond, or is another device): nothing
 * pairs again but bleak_client_pair().
 */

/** Pair (and bond) with the peer. Completion errors: BLEAK_ERR_AUTH
 * (rejected or failed), BLEAK_ERR_SMP(reason). 0 when already paired (on
 * the hci backend: the link encrypted with a key the pairing options
 * accept; with mitm, a key from Just Works is paired again). */
int bleak_client_pair_async(bleak_client *client, bleak_done_fn cb,
                            void *user_data);
int bleak_client_pair(bleak_client *client);

/** Remove the pairing (and the device from the backend's memory; this
 * disconnects, as in Bleak). */
int bleak_client_unpair_async(bleak_client *client, bleak_done_fn cb,
                              void *user_data);
int bleak_client_unpair(bleak_client *client);

/**
 * Answer the pending pairing request: @p accept, and for
 * BLEAK_PAIRING_REQUEST_PASSKEY the @p passkey (0..999999).
 * @return 0, BLEAK_ERR_STATE (no request pending), BLEAK_ERR_INVALID_ARG.
 */
int bleak_client_pairing_reply(bleak_client *client, bool accept,
                               uint32_t passkey);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_CLIENT_H */
