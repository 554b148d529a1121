/* SPDX-License-Identifier: MIT */
/* Fuzz target: ACL packets through the L2CAP reassembler
 * (src/backend/hci/l2cap.c). The input is a sequence of records
 * [len_lo len_hi bytes...], each one ACL packet as the controller would
 * deliver it; the first byte picks the reassembly bound. Every PDU handed
 * out must lie inside the reassembly buffer and within the bound; every
 * whole PDU is fragmented again and must come back identical. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/l2cap.h"
#include "bleak/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refragment(uint16_t cid, const uint8_t *pdu, size_t len, size_t acl_mtu) {
  static bk_l2cap_rx back;
  uint8_t pkt[4 + BK_L2CAP_MAX_PDU];
  size_t off = 0;
  int n;
  bk_l2cap_rx_init(&back, BK_L2CAP_MAX_PDU);
  int got = 0;
  while ((n = bk_l2cap_fragment(0x0040, cid, pdu, len, acl_mtu, &off, pkt, sizeof pkt)) > 0) {
    uint16_t h;
    uint8_t pb;
    const uint8_t *d, *out;
    size_t dl, out_len;
    uint16_t out_cid;
    if (bk_acl_parse(pkt, (size_t)n, &h, &pb, &d, &dl) != 0 || h != 0x0040)
      abort();
    /* The receiving side sees START where the host sent START_NO_FLUSH. */
    int r = bk_l2cap_rx_feed(&back, pb == BK_ACL_PB_START_NO_FLUSH ? BK_ACL_PB_START : pb, d, dl,
                             &out_cid, &out, &out_len);
    if (r < 0)
      abort();
    if (r == 1) {
      if (out_cid != cid || out_len != len || memcmp(out, pdu, len) != 0)
        abort();
      got = 1;
    }
  }
  if (n < 0 || !got)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bk_l2cap_rx rx;
  bleak_log_set_level(BLEAK_LOG_NONE);
  if (size < 1)
    return 0;
  size_t max_pdu = 27 + (size_t)data[0] * 2;
  if (max_pdu > BK_L2CAP_MAX_PDU)
    max_pdu = BK_L2CAP_MAX_PDU;
  bk_l2cap_rx_init(&rx, max_pdu);
  size_t pos = 1;
  while (pos + 2 <= size) {
    size_t n = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
    pos += 2;
    if (n > size - pos)
      n = size - pos;
    uint16_t handle, cid;
    uint8_t pb;
    const uint8_t *payload, *pdu;
    size_t plen, pdu_len;
    if (bk_acl_parse(data + pos, n, &handle, &pb, &payload, &plen) == 0) {
      if (payload < data + pos || payload + plen > data + pos + n)
        abort();
      int r = bk_l2cap_rx_feed(&rx, pb, payload, plen, &cid, &pdu, &pdu_len);
      if (r == 1) {
        if (pdu < rx.buf || pdu + pdu_len > rx.buf + sizeof rx.buf || pdu_len + 4 > max_pdu)
          abort();
        refragment(cid, pdu, pdu_len, 27 + (n % 230));
      }
    }
    pos += n;
  }
  return 0;
}
