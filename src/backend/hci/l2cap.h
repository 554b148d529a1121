/* SPDX-License-Identifier: MIT */
/* LE L2CAP over ACL (Core Vol 3 Part A), sans-I/O: ACL packet headers,
 * reassembly of basic-mode PDUs on the fixed channels (ATT, LE signalling,
 * SMP) bounded by the largest PDU the link accepts, and fragmentation of
 * outgoing PDUs to the controller's ACL buffer size. */
#ifndef BLEAK_HCI_L2CAP_H
#define BLEAK_HCI_L2CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bk_l2cap_cid {
  BK_L2CAP_CID_ATT = 0x0004,
  BK_L2CAP_CID_LE_SIGNALING = 0x0005,
  BK_L2CAP_CID_SMP = 0x0006,
};

/* ACL packet boundary flags (2 bits). */
enum bk_acl_pb {
  BK_ACL_PB_START_NO_FLUSH = 0x0, /* host to controller: a PDU's first fragment */
  BK_ACL_PB_CONTINUE = 0x1,
  BK_ACL_PB_START = 0x2,          /* controller to host: a PDU's first fragment */
};

/* The largest PDU reassembled: ATT MTU 517 + the 4-byte basic header. */
#define BK_L2CAP_MAX_PDU (517 + 4)

/* An ACL data packet: handle (12 bits), boundary flag, payload.
 * @return 0, or BLEAK_ERR_PROTOCOL when the length field disagrees. */
int bk_acl_parse(const uint8_t *pkt, size_t len, uint16_t *handle, uint8_t *pb,
                 const uint8_t **data, size_t *data_len);

/* Reassembly state of one link. */
typedef struct bk_l2cap_rx {
  size_t max_pdu;   /* header + payload, at most BK_L2CAP_MAX_PDU */
  size_t have;      /* bytes of the PDU so far */
  size_t need;      /* its whole size, header included; 0: idle */
  bool skipping;    /* dropping the rest of an oversized PDU */
  unsigned long dropped; /* PDUs (or stray fragments) dropped */
  uint8_t buf[BK_L2CAP_MAX_PDU];
} bk_l2cap_rx;

void bk_l2cap_rx_init(bk_l2cap_rx *rx, size_t max_pdu);

/*
 * Feed one ACL payload with its boundary flag.
 * @return 1 with a whole PDU: *cid and *pdu / *pdu_len (the payload after
 *         the basic header, valid until the next feed); 0 when more
 *         fragments are needed; BLEAK_ERR_PROTOCOL when this fragment
 *         was dropped: a continuation with no start, a PDU longer than
 *         max_pdu (skipped whole, its continuations silently), more bytes
 *         than announced. A start while a PDU was incomplete drops the old
 *         one (counted in `dropped`, logged) and goes on with the new one.
 */
int bk_l2cap_rx_feed(bk_l2cap_rx *rx, uint8_t pb, const uint8_t *data, size_t len,
                     uint16_t *cid, const uint8_t **pdu, size_t *pdu_len);

/*
 * Fragment an outgoing PDU (@p cid, @p payload) into ACL packets of at
 * most @p acl_mtu payload bytes for @p handle. Call with *offset = 0, then
 * again while it returns > 0: each call writes one ACL packet (header
 * included) into @p out and returns its size; 0 when done;
 * BLEAK_ERR_BUFFER_TOO_SMALL / BLEAK_ERR_INVALID_ARG.
 */
int bk_l2cap_fragment(uint16_t handle, uint16_t cid, const uint8_t *payload, size_t len,
                      size_t acl_mtu, size_t *offset, uint8_t *out, size_t cap);

#endif
