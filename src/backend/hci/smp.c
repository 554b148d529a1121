/* SPDX-License-Identifier: MIT */
/* The Security Manager Protocol: see smp.h. */
#include "backend/hci/smp.h"

#include "bleak/error.h"

/* Pairing Request: code, IO capability, OOB flag, AuthReq, maximum key
 * size, initiator and responder key distribution (3.5.1). Security
 * Request: code, AuthReq (3.6.7). */
#define PAIRING_REQUEST_LEN 7
#define SECURITY_REQUEST_LEN 2

int bk_smp_refuse(const uint8_t *pdu, size_t len, uint8_t *out, size_t cap) {
  if ((!pdu && len) || !out)
    return BLEAK_ERR_INVALID_ARG;
  if (cap < BK_SMP_MAX_ANSWER)
    return BLEAK_ERR_BUFFER_TOO_SMALL;
  if (len == 0)
    return 0;
  size_t want;
  if (pdu[0] == BK_SMP_PAIRING_REQUEST)
    want = PAIRING_REQUEST_LEN;
  else if (pdu[0] == BK_SMP_SECURITY_REQUEST)
    want = SECURITY_REQUEST_LEN;
  else
    return 0;
  out[0] = BK_SMP_PAIRING_FAILED;
  out[1] = len == want ? BK_SMP_PAIRING_NOT_SUPPORTED : BK_SMP_INVALID_PARAMETERS;
  return 2;
}
