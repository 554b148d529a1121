/* SPDX-License-Identifier: MIT */
/* LE L2CAP basic mode over ACL: see l2cap.h. */
#include "backend/hci/l2cap.h"

#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

#define LOG_MOD "l2cap"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int bk_acl_parse(const uint8_t *pkt, size_t len, uint16_t *handle, uint8_t *pb,
                 const uint8_t **data, size_t *data_len) {
  if (!pkt || len < 4)
    return bk_fail(BLEAK_ERR_PROTOCOL, "ACL packet of %zu bytes", len);
  uint16_t hf = le16(pkt);
  size_t dlen = le16(pkt + 2);
  if (dlen != len - 4)
    return bk_fail(BLEAK_ERR_PROTOCOL, "ACL packet says %zu bytes, has %zu", dlen, len - 4);
  *handle = hf & 0x0fff;
  *pb = (uint8_t)((hf >> 12) & 0x3);
  *data = pkt + 4;
  *data_len = dlen;
  return 0;
}

void bk_l2cap_rx_init(bk_l2cap_rx *rx, size_t max_pdu) {
  memset(rx, 0, sizeof *rx);
  rx->max_pdu = max_pdu && max_pdu <= BK_L2CAP_MAX_PDU ? max_pdu : BK_L2CAP_MAX_PDU;
}

static int drop(bk_l2cap_rx *rx, const char *why) {
  rx->dropped++;
  BK_DEBUG(LOG_MOD, "dropped: %s", why);
  return bk_fail(BLEAK_ERR_PROTOCOL, "L2CAP: %s", why);
}

int bk_l2cap_rx_feed(bk_l2cap_rx *rx, uint8_t pb, const uint8_t *data, size_t len,
                     uint16_t *cid, const uint8_t **pdu, size_t *pdu_len) {
  int result = 0;
  if (pb == BK_ACL_PB_START || pb == BK_ACL_PB_START_NO_FLUSH) {
    if (rx->need || rx->skipping)
      (void)drop(rx, "a new PDU started before the last one was complete");
    rx->need = rx->have = 0;
    rx->skipping = false;
    if (len < 4 && len > 0) {
      /* The basic header itself is split: rare, but legal. Keep it. */
      memcpy(rx->buf, data, len);
      rx->have = len;
      rx->need = 4; /* for now: the header */
      return result;
    }
    if (len == 0)
      return result;
    rx->need = 4 + (size_t)le16(data);
  } else if (pb == BK_ACL_PB_CONTINUE) {
    if (rx->skipping) {
      rx->have += len;
      if (rx->have >= rx->need)
        rx->need = rx->have = 0, rx->skipping = false;
      return 0;
    }
    if (!rx->need)
      return drop(rx, "a continuation fragment with no start");
  } else {
    return drop(rx, "an ACL boundary flag that is not used on LE");
  }
  /* Append, watching both the announced size and our bound. */
  if (rx->have < 4 && rx->have + len >= 4 && rx->need == 4) {
    /* The header completes in this fragment: learn the size. */
    uint8_t hdr[4];
    memcpy(hdr, rx->buf, rx->have);
    memcpy(hdr + rx->have, data, 4 - rx->have);
    rx->need = 4 + (size_t)le16(hdr);
  }
  if (rx->need > rx->max_pdu) {
    rx->skipping = true;
    size_t need = rx->need;
    rx->have += len;
    if (rx->have >= need)
      rx->need = rx->have = 0, rx->skipping = false;
    return drop(rx, "a PDU longer than the link accepts");
  }
  if (rx->have + len > rx->need) {
    rx->need = rx->have = 0;
    return drop(rx, "more bytes than the PDU announced");
  }
  memcpy(rx->buf + rx->have, data, len);
  rx->have += len;
  if (rx->have < rx->need)
    return result;
  *cid = le16(rx->buf + 2);
  *pdu = rx->buf + 4;
  *pdu_len = rx->need - 4;
  rx->need = rx->have = 0;
  return 1;
}

int bk_l2cap_fragment(uint16_t handle, uint16_t cid, const uint8_t *payload, size_t len,
                      size_t acl_mtu, size_t *offset, uint8_t *out, size_t cap) {
  if (!offset || !out || (!payload && len) || acl_mtu == 0 || len > 0xffff || handle > 0x0eff)
    return BLEAK_ERR_INVALID_ARG;
  size_t total = 4 + len; /* basic header + payload */
  if (*offset >= total)
    return 0;
  size_t chunk = total - *offset < acl_mtu ? total - *offset : acl_mtu;
  if (cap < 4 + chunk)
    return BLEAK_ERR_BUFFER_TOO_SMALL;
  uint8_t pb = *offset == 0 ? BK_ACL_PB_START_NO_FLUSH : BK_ACL_PB_CONTINUE;
  uint16_t hf = (uint16_t)(handle | pb << 12);
  out[0] = (uint8_t)hf;
  out[1] = (uint8_t)(hf >> 8);
  out[2] = (uint8_t)chunk;
  out[3] = (uint8_t)(chunk >> 8);
  uint8_t hdr[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)cid, (uint8_t)(cid >> 8)};
  for (size_t i = 0; i < chunk; i++) {
    size_t pos = *offset + i;
    out[4 + i] = pos < 4 ? hdr[pos] : payload[pos - 4];
  }
  *offset += chunk;
  return (int)(4 + chunk);
}
