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
 * unit tests (tests/unit/test_hci_backend.c) and the notification
 * microbenchmark (bench/micro_notify.c).
 */
#ifndef BLEAK_TEST_FAKE_CONTROLLER_H
#define BLEAK_TEST_FAKE_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/hci/l2cap.h"
#include "bleak/loop.h"
#include "transport/h4.h"

/* The peer it advertises and connects as. */
#define FAKE_PEER "11:22:33:44:55:66"

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
  /* The host's last PDUs on LE signalling and SMP, and the parameters of
   * its last LE Connection Update. */
  uint8_t sig_rx[32], smp_rx[8], conn_update[14];
  size_t sig_rx_len, smp_rx_len, conn_update_len;
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

#endif
