/* SPDX-License-Identifier: MIT */
/* Fuzz target: ATT PDUs a server may send (src/backend/hci/att_pdu.c).
 * Whatever the parser accepts, every accessor of its kind must stay inside
 * the PDU. The GATT client's procedure states get their own target once
 * they exist (fuzz_gatt). */
#include <stdint.h>
#include <stdlib.h>

#include "backend/hci/att_pdu.h"
#include "bleak/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size) {
  if (len && (p < base || p + len > base + size))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  bk_att_pdu p;
  if (bk_att_parse(data, size, &p) != 0)
    return 0;
  uint16_t a, b;
  bleak_uuid u;
  const uint8_t *v;
  size_t len, pos = 0;
  switch (p.opcode) {
  case BK_ATT_FIND_INFO_RSP:
    if (p.u.list.n == 0)
      abort();
    for (size_t i = 0; i < p.u.list.n; i++)
      bk_att_info_at(&p, i, &a, &u);
    inside(p.u.list.data, p.u.list.n * p.u.list.entry_len, data, size);
    break;
  case BK_ATT_FIND_BY_TYPE_RSP:
    for (size_t i = 0; i < p.u.list.n; i++)
      bk_att_range_at(&p, i, &a, &b);
    inside(p.u.list.data, p.u.list.n * p.u.list.entry_len, data, size);
    break;
  case BK_ATT_READ_BY_TYPE_RSP:
    for (size_t i = 0; i < p.u.list.n; i++) {
      bk_att_typed_at(&p, i, &a, &v, &len);
      inside(v, len, data, size);
    }
    break;
  case BK_ATT_READ_BY_GROUP_RSP:
    for (size_t i = 0; i < p.u.list.n; i++)
      (void)bk_att_group_at(&p, i, &a, &b, &u);
    inside(p.u.list.data, p.u.list.n * p.u.list.entry_len, data, size);
    break;
  case BK_ATT_READ_MULT_VAR_RSP:
  case BK_ATT_MULT_NOTIFICATION:
    while (bk_att_tuple_next(&p, &pos, &a, &v, &len) == 1) {
      inside(v, len, data, size);
      if (pos > p.u.raw.len)
        abort();
    }
    break;
  case BK_ATT_NOTIFICATION:
  case BK_ATT_INDICATION:
  case BK_ATT_PREP_WRITE_RSP:
    inside(p.u.value.value, p.u.value.len, data, size);
    break;
  case BK_ATT_READ_RSP:
  case BK_ATT_READ_BLOB_RSP:
  case BK_ATT_READ_MULT_RSP:
    inside(p.u.raw.data, p.u.raw.len, data, size);
    break;
  default:
    break;
  }
  return 0;
}
