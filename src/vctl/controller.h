/* SPDX-License-Identifier: MIT */
/*
 * The virtual LE controller of bleak-vctl: the controller a central's host
 * sees (over H4), with the virtual peripherals (peripheral.h) in range on
 * a simulated air. Sans-I/O: H4 bytes and time in (vctl_controller_input,
 * vctl_controller_tick), H4 bytes out through the output callback, the
 * next deadline out (vctl_controller_deadline). It reads no clock and
 * owns no fd; bleak-vctl (tools/bleak-vctl) does the I/O.
 *
 * What it speaks (Core Vol 4 Part E): the init a host sends (ours, and
 * the Linux kernel's over /dev/vhci: Reset, the Read Local ..., buffer
 * sizes, event masks, accept and resolving lists, data length and PHY
 * defaults), legacy and extended scanning (advertising reports at each
 * peripheral's interval, scan responses when active), LE (Extended)
 * Create Connection and its cancel, Disconnect, LE Set Data Length, LE
 * Read PHY / Set PHY, LE Connection Update, remote features and version.
 * Every other command is answered with Command Complete, status 0x01
 * (Unknown HCI Command); a command whose length is wrong for it with
 * status 0x12 (Invalid HCI Command Parameters): never silence.
 *
 * Links: one per peripheral. ACL data from the host is reassembled per
 * link (L2CAP); CID 4 goes to the peripheral's ATT server (att_server.h),
 * CID 5 (LE signalling) is answered here (parameter updates accepted, the
 * rest refused), CID 6 (SMP) answered with Pairing Not Supported. Buffer
 * credits (Number Of Completed Packets) come back per the link model
 * (link_model.h).
 *
 * Threads: none; one controller is used by one thread at a time.
 */
#ifndef BLEAK_VCTL_CONTROLLER_H
#define BLEAK_VCTL_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vctl/link_model.h"
#include "vctl/peripheral.h"

typedef struct vctl_controller_config {
  uint8_t bdaddr[6];    /* the controller's public address, little-endian */
  uint16_t acl_buffers; /* LE ACL buffers (1..255), default 8 */
  uint16_t acl_size;    /* of acl_size bytes each (27..1024), default 251 */
  bool extended;        /* claims Extended Advertising (extended scanning and
                         * connecting); default true */
  uint16_t att_mtu;     /* the largest ATT MTU the servers accept, default 517 */
  uint16_t scan_first_ms; /* the first advertising reports this long after a
                           * scan starts (then a millisecond apart), default 1;
                           * the Linux kernel over /dev/vhci misses reports
                           * that come at once (bleak-vctl --vhci: 100) */
  vctl_link_params link;
  uint64_t seed;        /* of LE Rand's numbers */
} vctl_controller_config;

void vctl_controller_config_init(vctl_controller_config *cfg);

/* H4 bytes for the host: one whole packet (type byte first) per call,
 * valid during the call. */
typedef void (*vctl_output_fn)(void *user, const uint8_t *h4, size_t len);

typedef struct vctl_controller vctl_controller;

/* A controller with @p n peripherals in range (borrowed: they must
 * outlive it; the list itself is copied). @p cfg is copied (NULL:
 * defaults). NULL when out of memory or @p cfg is out of range. */
vctl_controller *vctl_controller_new(const vctl_controller_config *cfg,
                                     vctl_peripheral *const *peripherals, size_t n,
                                     vctl_output_fn out, void *user);
/* Frees it and every link's ATT server; sends nothing. NULL-safe. */
void vctl_controller_free(vctl_controller *ctl);

/* Bytes from the host's H4 stream (any split) at @p now_ms. */
void vctl_controller_input(vctl_controller *ctl, const uint8_t *bytes, size_t len,
                           uint64_t now_ms);
/* The earliest time vctl_controller_tick wants to run; UINT64_MAX: none. */
uint64_t vctl_controller_deadline(const vctl_controller *ctl);
void vctl_controller_tick(vctl_controller *ctl, uint64_t now_ms);

/* Back-pressure from the transport: while blocked, the peripherals' ATT
 * servers are told there is no room (notification streams wait); when it
 * ends they are told there is. Commands and events are never held. */
void vctl_controller_set_blocked(vctl_controller *ctl, bool blocked, uint64_t now_ms);

/* Faults of the controller itself, for a control socket (docs/vctl.md,
 * "The control socket"). Each sends what it sends at once (through the
 * output callback) and may move the deadline. */
/* The HCI Hardware Error event (0x10) with @p code; nothing else changes. */
void vctl_controller_hardware_error(vctl_controller *ctl, uint8_t code, uint64_t now_ms);
/* A crash and reboot: every link freed WITHOUT a Disconnection Complete,
 * scanning and initiating stopped, masks and lists as after power-on (as
 * HCI Reset leaves them), then Hardware Error 0x01. The H4 stream's own
 * framing is the transport's and stays. */
void vctl_controller_lose_state(vctl_controller *ctl, uint64_t now_ms);
/* Drop the link to peripheral @p periph (its index) as the peripheral
 * would: Disconnection Complete with @p reason (e.g. 0x13, 0x08). 1: a
 * link was dropped; 0: it had none; -1: no such peripheral. */
int vctl_controller_disconnect_peripheral(vctl_controller *ctl, size_t periph, uint8_t reason,
                                          uint64_t now_ms);

/* Counters, for tests and the tool's log. */
typedef struct vctl_controller_stats {
  unsigned long commands, unknown_commands, bad_commands;
  unsigned long acl_in, acl_out, acl_dropped;
  unsigned links; /* now */
} vctl_controller_stats;
void vctl_controller_stats_get(const vctl_controller *ctl, vctl_controller_stats *out);

#endif
