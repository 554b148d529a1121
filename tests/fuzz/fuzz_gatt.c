/* SPDX-License-Identifier: MIT */
/* Fuzz target: the GATT client procedures (src/backend/hci/gatt_client.c)
 * on the ATT bearer, fed hostile server answers in every procedure state.
 * Input: byte 0 picks the procedure, byte 1 the MTU; then records
 * [len, PDU...] injected one after another as the server's PDUs. Each
 * procedure must complete exactly once (at the latest when the bearer
 * closes at the end), and never leak (ASan/valgrind). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/att_bearer.h"
#include "backend/hci/gatt_client.h"
#include "bleak/gatt.h"
#include "bleak/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int completions;

static int fake_send(void *owner, const uint8_t *pdu, size_t len) {
  (void)owner;
  if (len == 0 || len > BK_ATT_MAX_MTU)
    abort();
  (void)pdu;
  return 0;
}
static void fake_value(void *o, uint16_t h, const uint8_t *v, size_t l, bool ind) {
  (void)o;
  (void)h;
  (void)v;
  (void)l;
  (void)ind;
}
static void fake_timeout(void *o) { (void)o; }
static const bk_att_ops ops = {fake_send, fake_value, fake_timeout};

static void on_disc(void *u, int st, bleak_gatt_services *s, unsigned n) {
  (void)u;
  (void)n;
  completions++;
  if (st == 0) {
    if (!s)
      abort();
    bleak_gatt_services_unref(s);
  } else if (s) {
    abort();
  }
}
static void on_value(void *u, int st, const uint8_t *v, size_t len) {
  (void)u;
  completions++;
  if (st == 0 && len > BK_GATT_MAX_VALUE + BK_ATT_MAX_MTU)
    abort();
  if (len && !v)
    abort();
}
static void on_done(void *u, int st) {
  (void)u;
  (void)st;
  completions++;
}
static void on_list(void *u, int st, size_t n, const uint16_t *h, const uint16_t *e,
                    const bleak_uuid *uu) {
  (void)u;
  (void)st;
  (void)uu;
  completions++;
  for (size_t i = 0; i < n; i++)
    if (e[i] < h[i] && h[i] != 0) /* included/primary ranges are checked */
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  if (size < 2)
    return 0;
  static bk_att att;
  bk_att_init(&att, &ops, NULL, BK_ATT_MAX_MTU);
  att.mtu = (uint16_t)(23 + data[1] * 2); /* as if exchanged */
  completions = 0;
  uint8_t value[600];
  memset(value, 0x5a, sizeof value);
  uint16_t handles[3] = {3, 5, 7}, found = 0;
  bleak_uuid u = bleak_uuid_from_u16(0x180f);
  int r;
  switch (data[0] % 8) {
  case 0: r = bk_gattc_discover(&att, on_disc, NULL, 0, NULL); break;
  case 1: r = bk_gattc_read(&att, 3, on_value, NULL, 0, NULL); break;
  case 2: r = bk_gattc_write(&att, 3, value, 512, false, on_done, NULL, 0, NULL); break;
  case 3: r = bk_gattc_write(&att, 3, value, 4, true, on_done, NULL, 0, NULL); break;
  case 4: r = bk_gattc_read_by_uuid(&att, 1, 0xffff, &u, &found, on_value, NULL, 0, NULL); break;
  case 5: r = bk_gattc_discover_primary_by_uuid(&att, &u, on_list, NULL, 0, NULL); break;
  case 6: r = bk_gattc_find_included(&att, 1, 0xffff, on_list, NULL, 0, NULL); break;
  default:
    r = bk_gattc_read_multiple(&att, handles, 3, data[0] & 8, on_value, NULL, 0, NULL);
    break;
  }
  if (r != 0)
    abort(); /* every start is valid here */
  size_t pos = 2;
  while (pos < size && completions == 0) {
    size_t n = data[pos++];
    if (n > size - pos)
      n = size - pos;
    bk_att_recv(&att, data + pos, n, 0);
    pos += n;
  }
  bk_att_close(&att, -8);
  if (completions != 1)
    abort();
  return 0;
}
