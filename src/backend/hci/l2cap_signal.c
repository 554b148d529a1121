/* SPDX-License-Identifier: MIT */
/* The LE signalling channel: see l2cap_signal.h. */
#include "backend/hci/l2cap_signal.h"

#include <stdbool.h>
#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

#define HEADER 4 /* code, identifier, length (2) */

/* An answer of @p code to command @p id with @p dlen data bytes (already
 * written at out + HEADER). @return its whole length. */
static int answer(uint8_t *out, uint8_t code, uint8_t id, size_t dlen) {
  out[0] = code;
  out[1] = id;
  bk_put_le16(out + 2, (uint16_t)dlen);
  return (int)(HEADER + dlen);
}

static int reject(uint8_t *out, uint8_t id, uint16_t reason) {
  bk_put_le16(out + HEADER, reason);
  return answer(out, BK_L2CAP_SIG_COMMAND_REJECT, id, 2);
}

/* Ranges of 4.20, and Vol 6 Part B 4.5.2: the supervision timeout must
 * outlast (1 + latency) intervals twice over, else the link would drop
 * while the peripheral sleeps as allowed. In units: timeout * 10 ms >
 * (1 + latency) * interval_max * 1.25 ms * 2, i.e. timeout * 4 >
 * (1 + latency) * interval_max. */
static bool params_ok(const bk_l2cap_sig_conn_params *p) {
  return p->interval_min >= 6 && p->interval_max <= 3200 &&
         p->interval_min <= p->interval_max && p->latency <= 499 && p->timeout >= 10 &&
         p->timeout <= 3200 &&
         (uint32_t)p->timeout * 4 > (1u + p->latency) * (uint32_t)p->interval_max;
}

static int conn_param_update(const uint8_t *d, uint8_t id, uint8_t *out,
                             bk_l2cap_sig_event *ev) {
  bk_l2cap_sig_conn_params p = {bk_get_le16(d), bk_get_le16(d + 2), bk_get_le16(d + 4),
                                bk_get_le16(d + 6)};
  bool ok = params_ok(&p);
  if (ok) {
    ev->kind = BK_L2CAP_SIG_EV_CONN_PARAMS;
    ev->conn_params = p;
  }
  bk_put_le16(out + HEADER, ok ? BK_L2CAP_SIG_PARAMS_ACCEPTED : BK_L2CAP_SIG_PARAMS_REJECTED);
  return answer(out, BK_L2CAP_SIG_CONN_PARAM_UPDATE_RSP, id, 2);
}

/* LE Credit Based Connection Response, refused: destination CID, MTU, MPS
 * and credits are 0 (ignored when refused), then the result. */
static int refuse_le_credit(uint8_t id, uint8_t *out) {
  memset(out + HEADER, 0, 8);
  bk_put_le16(out + HEADER + 8, BK_L2CAP_SIG_SPSM_NOT_SUPPORTED);
  return answer(out, BK_L2CAP_SIG_LE_CREDIT_CONN_RSP, id, 10);
}

/* Credit Based Connection Response, all refused: MTU, MPS, credits 0, the
 * result, then a destination CID of 0 for each of the @p n asked for. */
static int refuse_credit(uint8_t id, size_t n, uint8_t *out) {
  memset(out + HEADER, 0, 8 + 2 * n);
  bk_put_le16(out + HEADER + 6, BK_L2CAP_SIG_SPSM_NOT_SUPPORTED);
  return answer(out, BK_L2CAP_SIG_CREDIT_CONN_RSP, id, 8 + 2 * n);
}

static bool is_response(uint8_t code) {
  switch (code) {
  case BK_L2CAP_SIG_COMMAND_REJECT:
  case BK_L2CAP_SIG_CONNECTION_RSP:
  case BK_L2CAP_SIG_CONFIGURATION_RSP:
  case BK_L2CAP_SIG_DISCONNECTION_RSP:
  case BK_L2CAP_SIG_ECHO_RSP:
  case BK_L2CAP_SIG_INFORMATION_RSP:
  case BK_L2CAP_SIG_CREATE_CHANNEL_RSP:
  case BK_L2CAP_SIG_MOVE_CHANNEL_RSP:
  case BK_L2CAP_SIG_MOVE_CONFIRMATION_RSP:
  case BK_L2CAP_SIG_CONN_PARAM_UPDATE_RSP:
  case BK_L2CAP_SIG_LE_CREDIT_CONN_RSP:
  case BK_L2CAP_SIG_CREDIT_CONN_RSP:
  case BK_L2CAP_SIG_CREDIT_RECONF_RSP:
    return true;
  default:
    return false;
  }
}

int bk_l2cap_sig_recv(const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
                      bk_l2cap_sig_event *ev) {
  if ((!frame && len) || !out || !ev)
    return BLEAK_ERR_INVALID_ARG;
  ev->kind = BK_L2CAP_SIG_EV_NONE;
  if (cap < BK_L2CAP_SIG_MAX_ANSWER)
    return BLEAK_ERR_BUFFER_TOO_SMALL;
  if (len < HEADER)
    return bk_fail(BLEAK_ERR_PROTOCOL, "signalling frame of %zu bytes: no whole header", len);
  uint8_t code = frame[0], id = frame[1];
  size_t dlen = bk_get_le16(frame + 2);
  const uint8_t *d = frame + HEADER;
  if (id == 0)
    return bk_fail(BLEAK_ERR_PROTOCOL, "signalling command 0x%02x with identifier 0", code);
  if (len > BK_L2CAP_SIG_MTU) {
    if (is_response(code))
      return 0; /* never answered, not even when too long */
    bk_put_le16(out + HEADER + 2, BK_L2CAP_SIG_MTU);
    bk_put_le16(out + HEADER, BK_L2CAP_SIG_REJECT_MTU_EXCEEDED);
    return answer(out, BK_L2CAP_SIG_COMMAND_REJECT, id, 4);
  }
  if (dlen != len - HEADER)
    return bk_fail(BLEAK_ERR_PROTOCOL, "signalling command 0x%02x says %zu bytes, has %zu",
                   code, dlen, len - HEADER);
  if (is_response(code))
    return 0; /* we sent no request (and a reject is never answered) */
  switch (code) {
  case BK_L2CAP_SIG_CONN_PARAM_UPDATE_REQ:
    if (dlen != 8)
      break;
    return conn_param_update(d, id, out, ev);
  case BK_L2CAP_SIG_LE_CREDIT_CONN_REQ: /* LE_PSM, SCID, MTU, MPS, credits */
    if (dlen != 10)
      break;
    return refuse_le_credit(id, out);
  case BK_L2CAP_SIG_CREDIT_CONN_REQ: /* SPSM, MTU, MPS, credits, 1..5 SCIDs */
    if (dlen < 10 || dlen > 18 || dlen % 2)
      break;
    return refuse_credit(id, (dlen - 8) / 2, out);
  case BK_L2CAP_SIG_CREDIT_RECONF_REQ: /* MTU, MPS, 1..5 DCIDs */
    if (dlen < 6 || dlen > 14 || dlen % 2)
      break;
    bk_put_le16(out + HEADER, BK_L2CAP_SIG_RECONF_INVALID_DCID);
    return answer(out, BK_L2CAP_SIG_CREDIT_RECONF_RSP, id, 2);
  case BK_L2CAP_SIG_DISCONNECTION_REQ: /* DCID (ours), SCID (theirs) */
    if (dlen != 4)
      break;
    bk_put_le16(out + HEADER, BK_L2CAP_SIG_REJECT_INVALID_CID);
    memcpy(out + HEADER + 2, d, 4); /* local (their DCID), remote (SCID) */
    return answer(out, BK_L2CAP_SIG_COMMAND_REJECT, id, 6);
  case BK_L2CAP_SIG_FLOW_CONTROL_CREDIT_IND: /* CID, credits */
    if (dlen != 4)
      break;
    return 0; /* an indication has no answer, and no channel of ours gains */
  default:
    break; /* BR/EDR only, or unknown */
  }
  return reject(out, id, BK_L2CAP_SIG_REJECT_NOT_UNDERSTOOD);
}
