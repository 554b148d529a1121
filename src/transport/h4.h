/* SPDX-License-Identifier: MIT */
/* H4 (UART transport, Core Vol 4 Part A): one packet type byte, then the
 * packet. This is the framer, sans-I/O: bytes in from any stream (tty,
 * unix or TCP socket), whole packets out to a callback; and the encoder for
 * the other way. The transports (to come) own the fds. */
#ifndef BLEAK_TRANSPORT_H4_H
#define BLEAK_TRANSPORT_H4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bk_h4_type {
  BK_H4_COMMAND = 0x01,
  BK_H4_ACL = 0x02,
  BK_H4_SCO = 0x03,
  BK_H4_EVENT = 0x04,
  BK_H4_ISO = 0x05,
};

/* The largest ACL payload accepted (the controller's buffer size is at
 * most this in practice; LE data length tops out at 251). */
#define BK_H4_MAX_ACL 1024
/* Header + the largest payload of any type we accept. */
#define BK_H4_MAX_PACKET (4 + BK_H4_MAX_ACL)

/* A whole packet: @p type, then @p len bytes (header included, type byte
 * not). Valid during the call only. */
typedef void (*bk_h4_packet_fn)(void *user, uint8_t type, const uint8_t *pkt, size_t len);

typedef struct bk_h4 {
  bk_h4_packet_fn cb;
  void *user;
  uint8_t type;   /* 0 while waiting for a type byte */
  size_t have;    /* bytes of the current packet so far */
  size_t need;    /* bytes of it we know we need (header, then whole) */
  unsigned long dropped; /* bytes skipped to find a packet start again */
  uint8_t buf[BK_H4_MAX_PACKET];
} bk_h4;

void bk_h4_init(bk_h4 *h, bk_h4_packet_fn cb, void *user);

/*
 * Feed bytes as they come (any split). Each complete packet is passed to
 * the callback. A byte that is not a packet type we take (command, ACL,
 * event; SCO and ISO are read and dropped whole) is skipped and counted in
 * `dropped`; a packet that announces more than we accept is skipped whole.
 * @return the number of packets delivered.
 */
size_t bk_h4_feed(bk_h4 *h, const uint8_t *data, size_t len);

/* Encode a packet: the type byte then @p len bytes of @p pkt into @p out.
 * @return bytes written, or BLEAK_ERR_BUFFER_TOO_SMALL. */
int bk_h4_encode(uint8_t type, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

#endif
