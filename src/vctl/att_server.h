/* SPDX-License-Identifier: MIT */
/*
 * The ATT server of one connection to a virtual peripheral: sans-I/O.
 * ATT PDUs (CID 4) and time in; ATT PDUs out through io->send, the next
 * deadline out through vctl_att_conn_deadline. Serves every ATT request a
 * GATT client sends (MTU exchange, Find Information, Find By Type Value,
 * Read By Type, Read, Read Blob, Read Multiple (and Variable), Read By
 * Group Type, Write, Write Command, Signed Write (refused), Prepare and
 * Execute Write, Handle Value Confirmation) on the peripheral's database,
 * with the database's permissions (encryption, authentication) checked
 * against the link's security, and runs the peripheral's behaviours
 * (notification and indication streams, echo, value changes).
 *
 * Hostile input: any PDU of any length is answered per the spec (Error
 * Response, or dropped for commands), never crashes; fuzzed by
 * tests/fuzz/fuzz_att_server.c.
 *
 * Connections of one peripheral share its values, and some things reach
 * all of them (a shared value notified, Service Changed, the fixture's
 * control 05): a call on one connection may call another's io->send, and
 * may move another's deadline, so the controller reads every connection's
 * deadline again after any call. After io->disconnect a connection takes
 * nothing more in and sends nothing; its deadline is UINT64_MAX.
 */
#ifndef BLEAK_VCTL_ATT_SERVER_H
#define BLEAK_VCTL_ATT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peripheral.h"

typedef struct vctl_att_io {
  /* One ATT PDU out (len <= the connection's current ATT MTU). Returns
   * false when the controller has no room now: a response is then kept and
   * offered again at the next vctl_att_conn_writable; a stream's
   * notification waits. Called only from inside the vctl_att_conn_*
   * functions below. */
  bool (*send)(void *ctx, const uint8_t *pdu, size_t len);
  /* A behaviour or a fault asks the controller to drop the link (reason:
   * an HCI error code, e.g. 0x13). The connection stays valid until the
   * controller frees it. */
  void (*disconnect)(void *ctx, uint8_t reason);
  void *ctx;
} vctl_att_io;

typedef struct vctl_att_conn vctl_att_conn;

/* A new connection's server; max_mtu is the largest ATT MTU it accepts
 * (23..517). The peripheral is borrowed and keeps its values across
 * connections (a write stays written). NULL when out of memory. */
vctl_att_conn *vctl_att_conn_new(vctl_peripheral *p, uint16_t max_mtu, const vctl_att_io *io);
void vctl_att_conn_free(vctl_att_conn *c);

/* One PDU received on CID 4 at now_ms. */
void vctl_att_conn_input(vctl_att_conn *c, const uint8_t *pdu, size_t len, uint64_t now_ms);
/* The controller has room again (an ACL buffer came back). */
void vctl_att_conn_writable(vctl_att_conn *c, uint64_t now_ms);
/* The earliest time vctl_att_conn_tick wants to run; UINT64_MAX: none. */
uint64_t vctl_att_conn_deadline(const vctl_att_conn *c);
void vctl_att_conn_tick(vctl_att_conn *c, uint64_t now_ms);
/* The link's security changed (after LE encryption). */
void vctl_att_conn_set_security(vctl_att_conn *c, bool encrypted, bool authenticated,
                                uint8_t key_size);

/* Faults on demand (issue 14), for tests of what a client does when the
 * server misbehaves. Added beside the first contract; all off when zero. */
typedef struct vctl_att_faults {
  uint16_t error_handle; /* Read, Read Blob, Write and Prepare Write of this */
  uint8_t error_code;    /* handle are answered with this ATT error (both set) */
  bool silent;           /* nothing goes out any more: the client's ATT timeout */
  uint32_t delay_ms;     /* what goes out waits this long (in order) */
  uint32_t drop_after;   /* the Nth PDU received drops the link instead (0x13) */
  uint16_t max_mtu;      /* the MTU exchange offers at most this (>= 23) */
  uint8_t drop_opcode;   /* the next PDU of this ATT opcode drops the link (0x13) */
  uint8_t malformed_len; /* the next request's answer is malformed[] instead, */
  uint8_t malformed[32]; /* once (then malformed_len is 0 again) */
} vctl_att_faults;

/* Replace the connection's faults (NULL: none). The PDU count of
 * drop_after starts again from 0. */
void vctl_att_conn_set_faults(vctl_att_conn *c, const vctl_att_faults *f);
/* The faults of every connection of @p p, now and to come (NULL: none):
 * vctl_att_conn_set_faults on each, and what vctl_att_conn_new starts
 * with. */
void vctl_peripheral_set_faults(vctl_peripheral *p, const vctl_att_faults *f);
const vctl_att_faults *vctl_peripheral_faults(const vctl_peripheral *p);
/* Service Changed with a new database: @p p takes the GATT database and
 * behaviours of @p from (which keeps @p p's old ones, to be freed), and
 * every connection subscribed to Service Changed is told 0x0001-0xffff.
 * The connections' subscriptions stay. 0, or -1 (out of memory: nothing
 * changed). */
int vctl_peripheral_replace_db(vctl_peripheral *p, vctl_peripheral *from);
/* Send @p pdu as it is (1..MTU bytes; longer is cut to the MTU): a
 * malformed response or notification, for the client's parser. Queued like
 * any answer when the controller has no room. */
void vctl_att_conn_send_raw(vctl_att_conn *c, const uint8_t *pdu, size_t len, uint64_t now_ms);

#endif
