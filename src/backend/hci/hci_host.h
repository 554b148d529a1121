/* SPDX-License-Identifier: MIT */
/*
 * The HCI side of our LE host (Core Vol 4 Part E), sans-I/O: packets and
 * time in (bk_hci_feed, bk_hci_tick, and every call that may send a
 * command, since sending one starts its timeout), H4 bytes out
 * (ops->write), events out (the other ops), and the next deadline
 * (bk_hci_deadline).
 *
 * - Init: Reset, Read BD_ADDR, event masks, LE buffer size (or the shared
 *   ACL buffers when the controller has no LE ones), LE features.
 * - Commands wait for the controller's Num_HCI_Command_Packets credit;
 *   each completes once (Command Complete or Command Status; an error
 *   status becomes BLEAK_ERR_HCI(code)); one the controller never answers
 *   fails after BK_HCI_CMD_TIMEOUT_MS with BLEAK_ERR_TIMEOUT and the
 *   controller counts as lost (ops->lost).
 * - ACL data waits for buffer credits (Number Of Completed Packets);
 *   credits a disconnected link held come back with it.
 * - L2CAP reassembly per link; whole PDUs of the fixed channels go up
 *   through ops->l2cap without a copy or an allocation (but SMP's between
 *   an Encryption Change and its key size: held, then sent up after
 *   ops->encryption, in order).
 */
#ifndef BLEAK_HCI_HOST_H
#define BLEAK_HCI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/hci_event.h"
#include "backend/hci/l2cap.h"
#include "core/queue.h"

#define BK_HCI_MAX_LINKS 8
#define BK_HCI_CMD_TIMEOUT_MS 10000

enum bk_hci_opcode {
  BK_HCI_OP_DISCONNECT = 0x0406,
  BK_HCI_OP_SET_EVENT_MASK = 0x0c01,
  BK_HCI_OP_RESET = 0x0c03,
  BK_HCI_OP_READ_LOCAL_VERSION = 0x1001,
  BK_HCI_OP_READ_BUFFER_SIZE = 0x1005,
  BK_HCI_OP_READ_BD_ADDR = 0x1009,
  BK_HCI_OP_LE_SET_EVENT_MASK = 0x2001,
  BK_HCI_OP_LE_READ_BUFFER_SIZE = 0x2002,
  BK_HCI_OP_LE_READ_LOCAL_FEATURES = 0x2003,
  BK_HCI_OP_LE_SET_SCAN_PARAMS = 0x200b,
  BK_HCI_OP_LE_SET_SCAN_ENABLE = 0x200c,
  BK_HCI_OP_LE_CREATE_CONN = 0x200d,
  BK_HCI_OP_LE_CREATE_CONN_CANCEL = 0x200e,
  BK_HCI_OP_LE_CONN_UPDATE = 0x2013,
  BK_HCI_OP_LE_START_ENCRYPTION = 0x2019,
  BK_HCI_OP_READ_ENCRYPTION_KEY_SIZE = 0x1408,
  BK_HCI_OP_LE_SET_DATA_LENGTH = 0x2022,
  BK_HCI_OP_LE_SET_PHY = 0x2032,
  BK_HCI_OP_LE_SET_EXT_SCAN_PARAMS = 0x2041,
  BK_HCI_OP_LE_SET_EXT_SCAN_ENABLE = 0x2042,
  BK_HCI_OP_LE_EXT_CREATE_CONN = 0x2043,
};

/* LE features (Vol 6 Part B 4.6) we look at. */
#define BK_HCI_LE_FEAT_DATA_LENGTH (1u << 5)
#define BK_HCI_LE_FEAT_2M_PHY (1u << 8)
#define BK_HCI_LE_FEAT_EXT_ADV (1u << 12)

/* A command's outcome: 0 or BLEAK_ERR_HCI(status), BLEAK_ERR_TIMEOUT,
 * BLEAK_ERR_IO (controller gone); @p ret / @p len: Command Complete's
 * return parameters after the status byte (NULL/0 otherwise). */
typedef void (*bk_hci_cmd_fn)(void *user, int status, const uint8_t *ret, size_t len);

typedef struct bk_hci_ops {
  /* H4 bytes for the controller, in order (a whole packet per call). */
  void (*write)(void *owner, const uint8_t *h4, size_t len);
  /* Init finished: 0, or why the controller is unusable. */
  void (*ready)(void *owner, int status);
  void (*adv_report)(void *owner, const bk_hci_adv_report *r);
  /* LE Connection Complete (as central): status 0 or BLEAK_ERR_HCI(code)
   * (0x02 after a cancel); @p peer little-endian. */
  void (*connected)(void *owner, int status, uint16_t handle, uint8_t peer_type,
                    const uint8_t peer[6]);
  void (*disconnected)(void *owner, uint16_t handle, uint8_t reason);
  /* A whole L2CAP PDU of a link (valid during the call). */
  void (*l2cap)(void *owner, uint16_t handle, uint16_t cid, const uint8_t *pdu, size_t len);
  /* ACL buffers freed: queued writes went out (for pacing by credits). */
  void (*acl_sent)(void *owner);
  /* The controller failed (hardware error, a command never answered). */
  void (*lost)(void *owner, int err);
  /* A link's encryption changed (Encryption Change, Key Refresh Complete,
   * or bk_hci_le_start_encryption refused): @p status 0 or
   * BLEAK_ERR_HCI(code) (0x06 PIN or Key Missing: the peer has no such
   * key); @p key_size the encryption key's size in octets (read from the
   * controller), 0 when the link is not encrypted or the controller does
   * not say (BlueZ 5.66's emulated controllers do not know the command:
   * the owner then goes by what the pairing negotiated). Optional. */
  void (*encryption)(void *owner, uint16_t handle, int status, uint8_t key_size);
} bk_hci_ops;

typedef struct bk_hci_cmd bk_hci_cmd;
typedef struct bk_hci_acl bk_hci_acl;

/* Room for the SMP PDUs of a link held while its key size is read (each
 * with a length byte): the peer's five key PDUs take 75. */
#define BK_HCI_SMP_HELD 160

typedef struct bk_hci_link {
  bool used;
  uint16_t handle;
  unsigned in_flight; /* ACL packets the controller holds for it */
  bool reading_key_size; /* Read Encryption Key Size sent for it */
  bool starting_encryption; /* LE Enable Encryption sent, no status yet */
  bk_l2cap_rx rx;
  /* SMP PDUs that came after the Encryption Change, while its key size is
   * read: the peer sends its keys as soon as the link is encrypted, and
   * they may come before the answer; SMP takes keys only once it has been
   * told of the encryption. They go up right after that report. */
  uint8_t smp_held[BK_HCI_SMP_HELD];
  size_t smp_held_len;
} bk_hci_link;

typedef struct bk_hci {
  const bk_hci_ops *ops;
  void *owner;
  bool ready, lost;
  int init_step;
  uint8_t bdaddr[6]; /* little-endian */
  uint64_t le_features;
  uint8_t hci_version;
  /* Extended scanning and connecting (the controller has Extended
   * Advertising; once used, legacy commands may be disallowed, so it is
   * one or the other for the controller's life). BLEAK_HCI_LEGACY=1
   * forces legacy. */
  bool extended;
  /* commands */
  unsigned ncmd; /* credits */
  bk_queue cmds;       /* of bk_hci_cmd, waiting for a credit */
  bk_hci_cmd *cmd_sent; /* awaiting its answer */
  uint64_t cmd_deadline;
  uint64_t now; /* the latest time an entry point was given */
  /* ACL */
  uint16_t acl_mtu;
  unsigned acl_max, acl_credits;
  bk_queue acl; /* of bk_hci_acl, waiting for buffer credits */
  bk_hci_link links[BK_HCI_MAX_LINKS];
  unsigned long dropped; /* malformed or unexpected packets */
} bk_hci;

void bk_hci_init(bk_hci *h, const bk_hci_ops *ops, void *owner);
/* Begin the init sequence (ops->ready follows). */
int bk_hci_start(bk_hci *h, uint64_t now);
/* Free queued commands (their callbacks get BLEAK_ERR_IO) and ACL data. */
void bk_hci_close(bk_hci *h);

/* One packet from the controller (as the H4 framer delivers it). */
void bk_hci_feed(bk_hci *h, uint8_t type, const uint8_t *pkt, size_t len, uint64_t now);

uint64_t bk_hci_deadline(const bk_hci *h);
void bk_hci_tick(bk_hci *h, uint64_t now);

/* Queue a command (@p params copied, at most 255 bytes). @p cb may be NULL.
 * @p now (the caller's clock, ms) starts the command's timeout when it goes
 * out at once: every entry point that may send a command takes the time,
 * so that no deadline is counted from a clock last seen long ago.
 * @return 0, BLEAK_ERR_NO_MEMORY, BLEAK_ERR_INVALID_ARG, BLEAK_ERR_IO (lost). */
int bk_hci_command(bk_hci *h, uint16_t opcode, const uint8_t *params, size_t len,
                   bk_hci_cmd_fn cb, void *user, uint64_t now);
/* Forget the callbacks of every queued or sent command of @p user (the
 * commands still go out: the controller's state must follow). */
void bk_hci_forget(bk_hci *h, void *user);

/* Scanning on or off; @p active: scan requests for scan responses.
 * Legacy or extended commands, as the controller allows. */
int bk_hci_le_scan(bk_hci *h, bool enable, bool active, bk_hci_cmd_fn cb, void *user,
                   uint64_t now);
/* LE Create Connection to @p peer (little-endian) of @p peer_type.
 * ops->connected reports the outcome. */
int bk_hci_le_connect(bk_hci *h, uint8_t peer_type, const uint8_t peer[6], bk_hci_cmd_fn cb,
                      void *user, uint64_t now);
int bk_hci_le_connect_cancel(bk_hci *h, uint64_t now);
int bk_hci_disconnect(bk_hci *h, uint16_t handle, uint8_t reason, uint64_t now);
/* Encrypt a link (as central) with a key: the LTK with its EDIV and Rand
 * (both 0 for LE Secure Connections), or an STK while legacy pairing.
 * ops->encryption reports the outcome. @p rand, @p ltk little-endian, as
 * in SMP. @return 0, BLEAK_ERR_NOT_CONNECTED (no such link), and
 * bk_hci_command's errors. */
int bk_hci_le_start_encryption(bk_hci *h, uint16_t handle, const uint8_t rand[8], uint16_t ediv,
                               const uint8_t ltk[16], uint64_t now);

/* Ask for what makes a new link faster where the controller has it: LE
 * Data Length (251 octets) and the 2M PHY. Fire and forget: a controller
 * that refuses leaves the link as it is. */
void bk_hci_le_tune_link(bk_hci *h, uint16_t handle, uint64_t now);
/* LE Connection Update of a link: intervals in 1.25 ms units, latency in
 * connection events, supervision timeout in 10 ms units (the controller
 * checks the ranges); the answer does not matter to us. */
int bk_hci_le_conn_update(bk_hci *h, uint16_t handle, uint16_t interval_min,
                          uint16_t interval_max, uint16_t latency, uint16_t timeout, uint64_t now);

/* Send an L2CAP PDU on a link: fragmented to the controller's ACL size,
 * queued behind its buffer credits (no deadline: ACL data has no timeout
 * of ours, so no time is needed). @return 0, BLEAK_ERR_NOT_CONNECTED,
 * BLEAK_ERR_NO_MEMORY, BLEAK_ERR_TOO_LONG. */
int bk_hci_send_l2cap(bk_hci *h, uint16_t handle, uint16_t cid, const uint8_t *pdu, size_t len);
/* ACL packets waiting for credits. */
size_t bk_hci_acl_backlog(const bk_hci *h);

#endif
