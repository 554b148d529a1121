/* SPDX-License-Identifier: MIT */
/*
 * A fake LE controller with a tiny GATT server behind it, served on a unix
 * socket in the caller's bleak_loop: the hci backend connects to it as to
 * any H4 transport. It speaks just enough HCI (init, scan with one named
 * advertiser, connect, disconnect, buffer credits) and ATT (a Battery
 * Service: 0x0001-0x0004, Battery Level at 0x0003 (read, write without
 * response, notify), its CCCD
 * at 0x0004; a GATT Service 0x0005-0x0007 with the Database Hash at
 * 0x0007) to drive the backend end to end without a radio. For the
 * unit tests (tests/unit/test_hci_backend.c, test_hci_pairing.c) and the
 * notification microbenchmark (bench/micro_notify.c).
 *
 * Security, off by default (smp_enabled false, protect FAKE_OPEN: the
 * fake then refuses nothing and answers no SMP):
 *  - an SMP responder (smp_peer.c) on CID 6, set up by the test through
 *    peer's settings (io_cap, auth_req, max_key_size, method, passkey);
 *    a new pairing keeps them and starts its own run of the rest;
 *  - LE Enable Encryption: Command Status, then Encryption Change, status
 *    0 when the key is the one the peer expects (the STK or LTK of the
 *    pairing that just reached that point, with EDIV and Rand 0; or its
 *    bond: bond.ltk with bond.ediv and bond.rand), else 0x06 (PIN or Key
 *    Missing); after a pairing's encryption the peer distributes its keys
 *    (once the host has read the key size, as the air's timing has it;
 *    keys_early: right after the Encryption Change) and keeps the bond;
 *  - Read Encryption Key Size: the key's size, or key_size when set;
 *  - the Battery Level's reads (0x0003) answered Insufficient Encryption
 *    (FAKE_NEED_ENCRYPTION) or Insufficient Authentication
 *    (FAKE_NEED_AUTHENTICATION) while the link is not (encrypted, with a
 *    key from an authenticated pairing).
 */
#ifndef BLEAK_TEST_FAKE_CONTROLLER_H
#define BLEAK_TEST_FAKE_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/l2cap.h"
#include "bleak/loop.h"
#include "bleak/scanner.h"
#include "smp_peer.h"
#include "transport/h4.h"

/* The peer it advertises and connects as. */
#define FAKE_PEER "11:22:33:44:55:66"
/* The host's address (Read BD_ADDR), and the name of the bond file the
 * hci backend keeps for the pair. */
#define FAKE_HOST "06:05:04:03:02:01"
#define FAKE_BOND_FILE "060504030201-public_112233445566-public.bond"

/* What the Battery Level's reads need (fake_controller.protect). */
typedef enum fake_protect {
  FAKE_OPEN,
  FAKE_NEED_ENCRYPTION,     /* else ATT Insufficient Encryption (0x0f) */
  FAKE_NEED_AUTHENTICATION, /* else ATT Insufficient Authentication (0x05) */
} fake_protect;

/* A key the peer accepts for the link's encryption. */
typedef struct fake_key {
  bool valid;
  uint8_t ltk[16];
  uint16_t ediv;
  uint8_t rand[8];
  uint8_t size;       /* its octets (what Read Encryption Key Size says) */
  bool authenticated; /* from a pairing with MITM protection */
} fake_key;

typedef struct fake_controller {
  bleak_loop *loop;
  int lfd, fd;
  bleak_source *lsrc, *src;
  bk_h4 h4;
  bk_l2cap_rx rx;
  bool linked, silent_reads;
  int reads_seen; /* reads of the Battery Level */
  int writes_seen; /* one-byte writes without response to it, their bytes: */
  uint8_t written[64];
  uint16_t mtu; /* its ATT MTU answer (default 64) */
  uint8_t hash_version; /* the Database Hash: 16 bytes of this */
  int discovery_requests; /* Read By Group Type, Read By Type 0x2803, Find Information */
  int fail_connects;      /* so many LE Create Connection end with 0x3E first */
  int connects;           /* LE Create Connection commands seen */
  bool split_name;        /* advertise without the name; it comes in a scan response */
  bool privacy;           /* advertise as rpa (random) rather than FAKE_PEER */
  uint8_t rpa[6];         /* little-endian, as HCI carries it */
  /* The host's last PDUs on LE signalling and SMP, and the parameters of
   * its last LE Connection Update. */
  uint8_t sig_rx[32], smp_rx[8], conn_update[14];
  size_t sig_rx_len, smp_rx_len, conn_update_len;
  /* ---- security (see above; the test sets the first group) ---- */
  bool smp_enabled;     /* the SMP responder answers */
  smp_peer peer;        /* its settings, then its state in a pairing */
  fake_protect protect; /* of the Battery Level's reads */
  uint8_t key_size;     /* Read Encryption Key Size says this (0: the key's) */
  bool keys_early;      /* the peer's keys right after the Encryption Change */
  bool passkey_wait;    /* the peer's user types the passkey the host shows:
                         * its confirm waits for fake_controller_type_passkey */
  uint8_t security_request; /* AuthReq of a Security Request sent as the
                             * link comes up (0: none) */
  fake_key bond;        /* the key it keeps for the host (a pairing sets it) */
  /* What happened. */
  int pairing_requests; /* Pairing Requests seen */
  int smp_seen;         /* SMP PDUs seen */
  int encryptions;      /* LE Enable Encryption commands seen */
  int encryption_failures; /* of them answered 0x06 */
  int protected_refusals;  /* reads refused for want of security */
  uint8_t enc_ltk[16], enc_rand[8]; /* the last LE Enable Encryption's */
  uint16_t enc_ediv;
  bool encrypted, authenticated; /* the link's state */
  uint8_t link_key_size;
  /* internal: the pairing's key (STK or SC LTK) once phase 2 is done, a
   * confirm held for the passkey, keys to send after the key size read */
  fake_key pair_key;
  bool passkey_typed, keys_pending;
  uint8_t held[17];
  size_t held_len;
  int pairings;
  bleak_source *later_timer;
  uint8_t later[64];
  size_t later_len;
  char path[108];
  char transport[128]; /* "unix:PATH", for the options */
  /* bytes queued for the host, written as the socket takes them */
  uint8_t *out;
  size_t out_len, out_cap, out_off;
} fake_controller;

/* > 0 while the fake's own callbacks run (its allocations are not the
 * library's: the allocation-failure test leaves them alone). */
extern int fake_controller_busy;

/* Listen on a fresh unix socket in /tmp. Returns 0 or -1 (errno). */
int fake_controller_start(fake_controller *f, bleak_loop *loop);
/* The controller goes away: the host's socket sees end of file. */
void fake_controller_unplug(fake_controller *f);
void fake_controller_stop(fake_controller *f);

/* Queue a Handle Value Notification of @p len bytes on the link (for
 * streams: queued, written as the socket drains). */
void fake_controller_notify(fake_controller *f, uint16_t handle, const uint8_t *v, size_t len);
/* Send an L2CAP PDU on fixed channel @p cid of the link. */
void fake_controller_send_l2cap(fake_controller *f, uint16_t cid, const uint8_t *pdu,
                                size_t len);
/* Bytes still queued for the host. */
size_t fake_controller_pending(const fake_controller *f);

/* Scanner options for the hci backend on this fake, in @p loop. */
void fake_controller_scanner_options(const fake_controller *f, bleak_loop *loop,
                                     bleak_scanner_options *so);

/* Stop, then listen again (a new socket) on @p loop: the same peer after
 * the host's process restarted. What the test set (security included, and
 * the bond the peer keeps) stays; the counters and the link's state go.
 * Returns 0 or -1. */
int fake_controller_restart(fake_controller *f, bleak_loop *loop);
/* The peer sends a Security Request with @p auth_req on the link. */
void fake_controller_security_request(fake_controller *f, uint8_t auth_req);
/* The peer's user types @p passkey (the one the host shows): a confirm
 * held for it goes on (see passkey_wait). */
void fake_controller_type_passkey(fake_controller *f, uint32_t passkey);

#endif
