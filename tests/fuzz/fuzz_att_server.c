/* SPDX-License-Identifier: MIT */
/* Fuzz target: the virtual peripheral's ATT server (src/vctl/att_server.c)
 * and its behaviours, on the guest fixture's database, driven by a script
 * of events so that state (subscriptions, prepare queues, bursts, a full
 * controller, a second connection, time) builds up:
 *   byte 0: the controller's largest MTU (23, 64, 247 or 517 by its low bits)
 *   then records: TYPE LEN DATA[LEN]
 *     TYPE % 8 == 0: a PDU in (DATA) on the current connection
 *                 1: the controller has room again (writable)
 *                 2: the controller's room toggles (full / not full)
 *                 3: LEN milliseconds pass; timers run
 *                 4: the link's security: LEN bit 0 encrypted, 1 authenticated
 *                 5: switch to the other connection (opened if need be)
 *                 6: close the other connection
 *                 7: a PDU in of LEN * 4 bytes (DATA repeated): long writes
 *                 8: faults from DATA (error handle, code, silent, delay,
 *                    drop after, MTU: one byte each but the handle)
 *                 9: DATA sent as a raw PDU
 * Whatever comes, every PDU out is 1..MTU bytes, no deadline stays due
 * after the ticks that ran it, and nothing leaks. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/log.h"
#include "vctl/att_server.h"
#include "vctl/peripheral.h"

#include "fixture_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_io {
  bool full;
  uint16_t max_mtu;
  unsigned sent;
} fuzz_io;

static bool fz_send(void *ctx, const uint8_t *pdu, size_t len) {
  fuzz_io *io = ctx;
  if (!pdu || len < 1 || len > io->max_mtu)
    abort();
  if (io->full)
    return false;
  io->sent++;
  return true;
}

static void fz_disconnect(void *ctx, uint8_t reason) {
  (void)ctx;
  if (reason == 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  if (size < 1)
    return 0;
  static const uint16_t mtus[] = {23, 64, 247, 517};
  vctl_peripheral **list = NULL;
  size_t n = 0;
  char err[256];
  if (vctl_peripherals_load_string(fixture_text(), "fixture", &list, &n, err, sizeof err))
    abort();
  fuzz_io io = {.max_mtu = mtus[data[0] & 3]};
  const vctl_att_io ops = {fz_send, fz_disconnect, &io};
  vctl_att_conn *conns[2] = {vctl_att_conn_new(list[0], io.max_mtu, &ops), NULL};
  int cur = 0;
  uint64_t now = 0;
  uint8_t pdu[1024];
  for (size_t i = 1; i + 1 < size;) {
    uint8_t type = data[i] % 10, len = data[i + 1];
    i += 2;
    size_t avail = size - i < len ? size - i : len;
    const uint8_t *d = data + i;
    i += avail;
    vctl_att_conn *c = conns[cur];
    switch (type) {
    case 0:
      if (c)
        vctl_att_conn_input(c, d, avail, now);
      break;
    case 1:
      if (c)
        vctl_att_conn_writable(c, now);
      break;
    case 2:
      io.full = !io.full;
      break;
    case 3:
      /* Time passes. A tick runs what is due: a deadline still due after
       * a few ticks at the same time would be a busy loop for the
       * controller (this database has no stream at link speed). */
      now += len;
      for (int k = 0; k < 2; k++)
        for (int guard = 0; conns[k] && vctl_att_conn_deadline(conns[k]) <= now; guard++) {
          if (guard == 8)
            abort();
          vctl_att_conn_tick(conns[k], now);
        }
      break;
    case 4:
      if (c)
        vctl_att_conn_set_security(c, len & 1, len & 2, 16);
      break;
    case 5:
      cur = !cur;
      if (!conns[cur])
        conns[cur] = vctl_att_conn_new(list[0], io.max_mtu, &ops);
      break;
    case 6:
      vctl_att_conn_free(conns[!cur]);
      conns[!cur] = NULL;
      break;
    case 8: {
      uint8_t fb[7] = {0};
      memcpy(fb, d, avail < sizeof fb ? avail : sizeof fb);
      vctl_att_faults f = {.error_handle = (uint16_t)(fb[0] | fb[1] << 8), .error_code = fb[2],
                           .silent = fb[3] & 1, .delay_ms = fb[4], .drop_after = fb[5],
                           .max_mtu = (uint16_t)(fb[6] * 2)};
      if (c)
        vctl_att_conn_set_faults(c, &f);
      break;
    }
    case 9:
      if (c)
        vctl_att_conn_send_raw(c, d, avail, now);
      break;
    default:
      if (c && avail) {
        size_t total = (size_t)len * 4 < sizeof pdu ? (size_t)len * 4 : sizeof pdu;
        for (size_t k = 0; k < total; k++)
          pdu[k] = d[k % avail];
        vctl_att_conn_input(c, pdu, total, now);
      }
      break;
    }
  }
  vctl_att_conn_free(conns[0]);
  vctl_att_conn_free(conns[1]);
  vctl_peripherals_free(list, n);
  return 0;
}
