/* SPDX-License-Identifier: MIT */
/* ATT PDU parser for the client side: see att_pdu.h. */
#include "backend/hci/att_pdu.h"

#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int bad(uint8_t op, const char *why, size_t len) {
  return bk_fail(BLEAK_ERR_PROTOCOL, "ATT 0x%02x of %zu bytes: %s", op, len, why);
}

/* A list of entries of @p entry bytes after a header of @p hdr bytes. */
static int list(bk_att_pdu *out, const uint8_t *pdu, size_t len, size_t hdr, size_t entry) {
  if (entry == 0 || len <= hdr || (len - hdr) % entry)
    return bad(pdu[0], "entries do not frame", len);
  out->u.list.data = pdu + hdr;
  out->u.list.entry_len = entry;
  out->u.list.n = (len - hdr) / entry;
  return 0;
}

int bk_att_parse(const uint8_t *pdu, size_t len, bk_att_pdu *out) {
  if (!pdu || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bk_att_parse: NULL argument");
  memset(out, 0, sizeof *out);
  if (len < 1)
    return bk_fail(BLEAK_ERR_PROTOCOL, "empty ATT PDU");
  uint8_t op = pdu[0];
  out->opcode = op;
  switch (op) {
  case BK_ATT_ERROR_RSP:
    if (len != 5)
      return bad(op, "an error response has 5 bytes", len);
    out->u.error.request = pdu[1];
    out->u.error.handle = le16(pdu + 2);
    out->u.error.code = pdu[4];
    return 0;
  case BK_ATT_MTU_RSP:
    if (len != 3)
      return bad(op, "an MTU response has 3 bytes", len);
    out->u.mtu.mtu = le16(pdu + 1);
    return out->u.mtu.mtu < 23 ? bad(op, "server MTU below 23", len) : 0;
  case BK_ATT_FIND_INFO_RSP:
    if (len < 2 || (pdu[1] != 1 && pdu[1] != 2))
      return bad(op, "format is neither 1 (16-bit) nor 2 (128-bit)", len);
    return list(out, pdu, len, 2, pdu[1] == 1 ? 4 : 18);
  case BK_ATT_FIND_BY_TYPE_RSP:
    return list(out, pdu, len, 1, 4);
  case BK_ATT_READ_BY_TYPE_RSP:
    if (len < 2 || pdu[1] < 2)
      return bad(op, "entry length below 2", len);
    return list(out, pdu, len, 2, pdu[1]);
  case BK_ATT_READ_BY_GROUP_RSP:
    if (len < 2 || (pdu[1] != 6 && pdu[1] != 20))
      return bad(op, "group entries are 6 or 20 bytes", len);
    return list(out, pdu, len, 2, pdu[1]);
  case BK_ATT_READ_RSP:
  case BK_ATT_READ_BLOB_RSP:
  case BK_ATT_READ_MULT_RSP:
    out->u.raw.data = pdu + 1;
    out->u.raw.len = len - 1;
    return 0;
  case BK_ATT_READ_MULT_VAR_RSP:
  case BK_ATT_MULT_NOTIFICATION: {
    out->u.raw.data = pdu + 1;
    out->u.raw.len = len - 1;
    /* Walk once: every tuple must frame (but a cut last value). */
    size_t pos = 0;
    uint16_t h;
    const uint8_t *v;
    size_t vl;
    int r;
    while ((r = bk_att_tuple_next(out, &pos, &h, &v, &vl)) == 1)
      ;
    return r;
  }
  case BK_ATT_WRITE_RSP:
  case BK_ATT_EXEC_WRITE_RSP:
    return len == 1 ? 0 : bad(op, "a write response has 1 byte", len);
  case BK_ATT_PREP_WRITE_RSP:
    if (len < 5)
      return bad(op, "a prepare write response has at least 5 bytes", len);
    out->u.value.handle = le16(pdu + 1);
    out->u.value.offset = le16(pdu + 3);
    out->u.value.value = pdu + 5;
    out->u.value.len = len - 5;
    return 0;
  case BK_ATT_NOTIFICATION:
  case BK_ATT_INDICATION:
    if (len < 3)
      return bad(op, "a handle value PDU has at least 3 bytes", len);
    out->u.value.handle = le16(pdu + 1);
    out->u.value.value = pdu + 3;
    out->u.value.len = len - 3;
    return 0;
  default:
    return BLEAK_ERR_NOT_SUPPORTED;
  }
}

void bk_att_info_at(const bk_att_pdu *p, size_t i, uint16_t *handle, bleak_uuid *uuid) {
  const uint8_t *e = p->u.list.data + i * p->u.list.entry_len;
  *handle = le16(e);
  bleak_uuid_from_le_bytes(e + 2, p->u.list.entry_len - 2, uuid);
}

void bk_att_range_at(const bk_att_pdu *p, size_t i, uint16_t *start, uint16_t *end) {
  const uint8_t *e = p->u.list.data + i * 4;
  *start = le16(e);
  *end = le16(e + 2);
}

void bk_att_typed_at(const bk_att_pdu *p, size_t i, uint16_t *handle, const uint8_t **value,
                     size_t *len) {
  const uint8_t *e = p->u.list.data + i * p->u.list.entry_len;
  *handle = le16(e);
  *value = e + 2;
  *len = p->u.list.entry_len - 2;
}

int bk_att_group_at(const bk_att_pdu *p, size_t i, uint16_t *start, uint16_t *end,
                    bleak_uuid *uuid) {
  const uint8_t *e = p->u.list.data + i * p->u.list.entry_len;
  *start = le16(e);
  *end = le16(e + 2);
  return bleak_uuid_from_le_bytes(e + 4, p->u.list.entry_len - 4, uuid) < 0
             ? bk_fail(BLEAK_ERR_PROTOCOL, "group UUID of %zu bytes", p->u.list.entry_len - 4)
             : 0;
}

int bk_att_tuple_next(const bk_att_pdu *p, size_t *pos, uint16_t *handle, const uint8_t **value,
                      size_t *len) {
  const uint8_t *d = p->u.raw.data;
  size_t n = p->u.raw.len;
  if (*pos >= n)
    return 0;
  bool with_handle = p->opcode == BK_ATT_MULT_NOTIFICATION;
  size_t hdr = with_handle ? 4 : 2;
  if (n - *pos < hdr)
    return bk_fail(BLEAK_ERR_PROTOCOL, "ATT tuple header cut at %zu of %zu", *pos, n);
  const uint8_t *t = d + *pos;
  *handle = with_handle ? le16(t) : 0;
  size_t vlen = le16(t + hdr - 2);
  size_t left = n - *pos - hdr;
  if (vlen > left) {
    if (with_handle)
      return bk_fail(BLEAK_ERR_PROTOCOL, "notification value of %zu bytes, %zu left", vlen, left);
    vlen = left; /* Read Multiple Variable: the last value may be cut to the MTU */
  }
  *value = t + hdr;
  *len = vlen;
  *pos += hdr + vlen;
  return 1;
}
