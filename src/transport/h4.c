/* SPDX-License-Identifier: MIT */
/* H4 framer: see h4.h. The packet length comes from the header of each
 * type; nothing past BK_H4_MAX_PACKET is ever buffered. */
#include "transport/h4.h"

#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

#define LOG_MOD "h4"

void bk_h4_init(bk_h4 *h, bk_h4_packet_fn cb, void *user) {
  memset(h, 0, sizeof *h);
  h->cb = cb;
  h->user = user;
}

/* Header size of each type, 0 for a type we do not know. */
static size_t header_size(uint8_t type) {
  switch (type) {
  case BK_H4_COMMAND:
    return 3; /* opcode u16, length u8 */
  case BK_H4_ACL:
    return 4; /* handle+flags u16, length u16 */
  case BK_H4_SCO:
    return 3; /* handle u16, length u8 */
  case BK_H4_EVENT:
    return 2; /* code u8, length u8 */
  case BK_H4_ISO:
    return 4; /* handle+flags u16, length u16 (14 bits) */
  default:
    return 0;
  }
}

static size_t payload_size(uint8_t type, const uint8_t *hdr) {
  switch (type) {
  case BK_H4_COMMAND:
  case BK_H4_SCO:
    return hdr[2];
  case BK_H4_EVENT:
    return hdr[1];
  case BK_H4_ACL:
    return (size_t)(hdr[2] | hdr[3] << 8);
  case BK_H4_ISO:
    return (size_t)((hdr[2] | hdr[3] << 8) & 0x3fff);
  default:
    return 0;
  }
}

size_t bk_h4_feed(bk_h4 *h, const uint8_t *data, size_t len) {
  size_t delivered = 0;
  size_t i = 0;
  while (i < len) {
    if (!h->type) {
      uint8_t t = data[i++];
      if (!header_size(t)) {
        h->dropped++;
        continue;
      }
      h->type = t;
      h->have = 0;
      h->need = header_size(t);
      continue;
    }
    size_t take = h->need - h->have;
    if (take > len - i)
      take = len - i;
    /* Bytes of a packet too big to keep are counted, not stored. */
    if (h->need <= sizeof h->buf)
      memcpy(h->buf + h->have, data + i, take);
    h->have += take;
    i += take;
    if (h->have < h->need)
      continue;
    size_t hs = header_size(h->type);
    if (h->need == hs) { /* the header is complete: now the whole size */
      size_t total = hs + payload_size(h->type, h->buf);
      if (total > hs) {
        h->need = total;
        if (total > sizeof h->buf)
          BK_WARN(LOG_MOD, "packet type %u of %zu bytes is over %d: skipped", h->type, total,
                  BK_H4_MAX_PACKET);
        continue;
      }
    }
    if (h->need <= sizeof h->buf && h->type != BK_H4_SCO && h->type != BK_H4_ISO) {
      h->cb(h->user, h->type, h->buf, h->need);
      delivered++;
    }
    h->type = 0;
  }
  return delivered;
}

int bk_h4_encode(uint8_t type, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap) {
  if (!out || (!pkt && len) || cap < len + 1)
    return BLEAK_ERR_BUFFER_TOO_SMALL;
  out[0] = type;
  if (len)
    memcpy(out + 1, pkt, len);
  return (int)(len + 1);
}
