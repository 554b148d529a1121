/* SPDX-License-Identifier: MIT */
/*
 * The Security Manager Protocol on the SMP channel (CID 0x0006, Core Vol 3
 * Part H 3), sans-I/O. Pairing is a later issue; until then a peer that
 * asks for it is told no at once (rather than left waiting 30 s for an
 * SMP timeout): bk_smp_refuse().
 */
#ifndef BLEAK_HCI_SMP_H
#define BLEAK_HCI_SMP_H

#include <stddef.h>
#include <stdint.h>

/* Command codes (3.3). */
enum bk_smp_code {
  BK_SMP_PAIRING_REQUEST = 0x01,
  BK_SMP_PAIRING_RESPONSE = 0x02,
  BK_SMP_PAIRING_CONFIRM = 0x03,
  BK_SMP_PAIRING_RANDOM = 0x04,
  BK_SMP_PAIRING_FAILED = 0x05,
  BK_SMP_ENCRYPTION_INFORMATION = 0x06,
  BK_SMP_CENTRAL_IDENTIFICATION = 0x07,
  BK_SMP_IDENTITY_INFORMATION = 0x08,
  BK_SMP_IDENTITY_ADDRESS_INFORMATION = 0x09,
  BK_SMP_SIGNING_INFORMATION = 0x0a,
  BK_SMP_SECURITY_REQUEST = 0x0b,
  BK_SMP_PAIRING_PUBLIC_KEY = 0x0c,
  BK_SMP_PAIRING_DHKEY_CHECK = 0x0d,
  BK_SMP_PAIRING_KEYPRESS_NOTIFICATION = 0x0e,
};

/* Pairing Failed reasons (3.5.5). */
enum bk_smp_reason {
  BK_SMP_PASSKEY_ENTRY_FAILED = 0x01,
  BK_SMP_OOB_NOT_AVAILABLE = 0x02,
  BK_SMP_AUTHENTICATION_REQUIREMENTS = 0x03,
  BK_SMP_CONFIRM_VALUE_FAILED = 0x04,
  BK_SMP_PAIRING_NOT_SUPPORTED = 0x05,
  BK_SMP_ENCRYPTION_KEY_SIZE = 0x06,
  BK_SMP_COMMAND_NOT_SUPPORTED = 0x07,
  BK_SMP_UNSPECIFIED_REASON = 0x08,
  BK_SMP_REPEATED_ATTEMPTS = 0x09,
  BK_SMP_INVALID_PARAMETERS = 0x0a,
  BK_SMP_DHKEY_CHECK_FAILED = 0x0b,
  BK_SMP_NUMERIC_COMPARISON_FAILED = 0x0c,
  BK_SMP_BREDR_PAIRING_IN_PROGRESS = 0x0d,
  BK_SMP_CROSS_TRANSPORT_KEY_NOT_ALLOWED = 0x0e,
  BK_SMP_KEY_REJECTED = 0x0f,
};

/* The longest answer bk_smp_refuse() gives: Pairing Failed. */
#define BK_SMP_MAX_ANSWER 2

/*
 * One SMP PDU received: a Pairing Request or a Security Request is answered
 * with Pairing Failed, "pairing not supported" (or "invalid parameters"
 * when its length is wrong, 3.5.5); anything else is ignored (no pairing
 * runs that it could belong to). The answer goes to @p out (@p cap bytes,
 * at least BK_SMP_MAX_ANSWER).
 * @return the answer's length, 0 (no answer), BLEAK_ERR_BUFFER_TOO_SMALL,
 *         BLEAK_ERR_INVALID_ARG.
 */
int bk_smp_refuse(const uint8_t *pdu, size_t len, uint8_t *out, size_t cap);

#endif
