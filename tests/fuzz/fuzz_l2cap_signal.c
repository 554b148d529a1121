/* SPDX-License-Identifier: MIT */
/* Fuzz target: one C-frame of the LE signalling channel
 * (src/backend/hci/l2cap_signal.c), and the same bytes as an SMP PDU
 * (src/backend/hci/smp.c, the other fixed channel answered without a
 * peer's state). Every answer must fit the buffer and MTUsig, carry the
 * command's identifier, frame exactly (its length field), be a Command
 * Reject or the response of the command's own code, and never answer a
 * response; accepted parameters must lie in the spec's ranges. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/l2cap_signal.h"
#include "backend/hci/smp.h"
#include "bleak/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void check_signal(const uint8_t *data, size_t size) {
  /* Room past the promised size, filled: a write beyond it shows. */
  uint8_t out[BK_L2CAP_SIG_MAX_ANSWER + 8];
  memset(out, 0xa5, sizeof out);
  bk_l2cap_sig_event ev;
  int r = bk_l2cap_sig_recv(data, size, out, BK_L2CAP_SIG_MAX_ANSWER, &ev);
  for (size_t i = BK_L2CAP_SIG_MAX_ANSWER; i < sizeof out; i++)
    if (out[i] != 0xa5)
      abort();
  if (r <= 0) {
    if (ev.kind != BK_L2CAP_SIG_EV_NONE)
      abort();
    return;
  }
  size_t n = (size_t)r;
  if (n < 4 || n > BK_L2CAP_SIG_MTU || size < 4 || le16(out + 2) != n - 4)
    abort();
  if (out[1] != data[1] || data[1] == 0)
    abort();
  uint8_t code = data[0];
  bool is_reject = out[0] == BK_L2CAP_SIG_COMMAND_REJECT;
  /* a response of the command's own code: code + 1 */
  if (!is_reject && out[0] != (uint8_t)(code + 1))
    abort();
  if (code == BK_L2CAP_SIG_COMMAND_REJECT)
    abort(); /* no reject loops */
  if (ev.kind == BK_L2CAP_SIG_EV_CONN_PARAMS) {
    const bk_l2cap_sig_conn_params *p = &ev.conn_params;
    if (code != BK_L2CAP_SIG_CONN_PARAM_UPDATE_REQ ||
        out[0] != BK_L2CAP_SIG_CONN_PARAM_UPDATE_RSP ||
        le16(out + 4) != BK_L2CAP_SIG_PARAMS_ACCEPTED)
      abort();
    if (p->interval_min < 6 || p->interval_max > 3200 || p->interval_min > p->interval_max ||
        p->latency > 499 || p->timeout < 10 || p->timeout > 3200 ||
        (uint32_t)p->timeout * 4 <= (1u + p->latency) * p->interval_max)
      abort();
  }
}

static void check_smp(const uint8_t *data, size_t size) {
  uint8_t out[BK_SMP_MAX_ANSWER + 8];
  memset(out, 0xa5, sizeof out);
  int r = bk_smp_refuse(data, size, out, BK_SMP_MAX_ANSWER);
  for (size_t i = BK_SMP_MAX_ANSWER; i < sizeof out; i++)
    if (out[i] != 0xa5)
      abort();
  bool asks = size && (data[0] == BK_SMP_PAIRING_REQUEST || data[0] == BK_SMP_SECURITY_REQUEST);
  if (r != (asks ? 2 : 0))
    abort();
  if (r == 2 && (out[0] != BK_SMP_PAIRING_FAILED ||
                 (out[1] != BK_SMP_PAIRING_NOT_SUPPORTED && out[1] != BK_SMP_INVALID_PARAMETERS)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  check_signal(data, size);
  check_smp(data, size);
  return 0;
}
