/* SPDX-License-Identifier: MIT */
/* Error messages and names, and the per-thread detail message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

/* Names of the ATT error codes, Core spec Vol 3 Part F 3.4.1.1 (0x80-0x9f
 * are application errors, 0xe0-0xff common profile errors). */
static const char *att_error_message(uint8_t code) {
  switch (code) {
  case BLEAK_ATT_INVALID_HANDLE: return "ATT: Invalid Handle";
  case BLEAK_ATT_READ_NOT_PERMITTED: return "ATT: Read Not Permitted";
  case BLEAK_ATT_WRITE_NOT_PERMITTED: return "ATT: Write Not Permitted";
  case BLEAK_ATT_INVALID_PDU: return "ATT: Invalid PDU";
  case BLEAK_ATT_INSUFFICIENT_AUTHENTICATION: return "ATT: Insufficient Authentication";
  case BLEAK_ATT_REQUEST_NOT_SUPPORTED: return "ATT: Request Not Supported";
  case BLEAK_ATT_INVALID_OFFSET: return "ATT: Invalid Offset";
  case BLEAK_ATT_INSUFFICIENT_AUTHORIZATION: return "ATT: Insufficient Authorization";
  case BLEAK_ATT_PREPARE_QUEUE_FULL: return "ATT: Prepare Queue Full";
  case BLEAK_ATT_ATTRIBUTE_NOT_FOUND: return "ATT: Attribute Not Found";
  case BLEAK_ATT_ATTRIBUTE_NOT_LONG: return "ATT: Attribute Not Long";
  case BLEAK_ATT_INSUFFICIENT_KEY_SIZE: return "ATT: Insufficient Encryption Key Size";
  case BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH: return "ATT: Invalid Attribute Value Length";
  case BLEAK_ATT_UNLIKELY: return "ATT: Unlikely Error";
  case BLEAK_ATT_INSUFFICIENT_ENCRYPTION: return "ATT: Insufficient Encryption";
  case BLEAK_ATT_UNSUPPORTED_GROUP_TYPE: return "ATT: Unsupported Group Type";
  case BLEAK_ATT_INSUFFICIENT_RESOURCES: return "ATT: Insufficient Resources";
  case BLEAK_ATT_DATABASE_OUT_OF_SYNC: return "ATT: Database Out Of Sync";
  case BLEAK_ATT_VALUE_NOT_ALLOWED: return "ATT: Value Not Allowed";
  case 0xfc: return "ATT: Write Request Rejected";
  case 0xfd: return "ATT: Client Characteristic Configuration Descriptor Improperly Configured";
  case 0xfe: return "ATT: Procedure Already in Progress";
  case 0xff: return "ATT: Out of Range";
  default: break;
  }
  if (code >= 0x80 && code <= 0x9f)
    return "ATT: Application Error";
  if (code >= 0xe0)
    return "ATT: Common Profile and Service Error";
  return "ATT: Reserved Error Code";
}

/* The HCI status codes a central meets most (Core spec Vol 1 Part F). */
static const char *hci_error_message(uint8_t code) {
  switch (code) {
  case 0x02: return "HCI: Unknown Connection Identifier";
  case 0x04: return "HCI: Page Timeout";
  case 0x05: return "HCI: Authentication Failure";
  case 0x06: return "HCI: PIN or Key Missing";
  case 0x07: return "HCI: Memory Capacity Exceeded";
  case 0x08: return "HCI: Connection Timeout";
  case 0x09: return "HCI: Connection Limit Exceeded";
  case 0x0c: return "HCI: Command Disallowed";
  case 0x0d: return "HCI: Connection Rejected due to Limited Resources";
  case 0x12: return "HCI: Invalid HCI Command Parameters";
  case 0x13: return "HCI: Remote User Terminated Connection";
  case 0x14: return "HCI: Remote Device Terminated Connection due to Low Resources";
  case 0x15: return "HCI: Remote Device Terminated Connection due to Power Off";
  case 0x16: return "HCI: Connection Terminated By Local Host";
  case 0x1a: return "HCI: Unsupported Remote Feature";
  case 0x1f: return "HCI: Unspecified Error";
  case 0x22: return "HCI: LL Response Timeout";
  case 0x28: return "HCI: Instant Passed";
  case 0x3b: return "HCI: Unacceptable Connection Parameters";
  case 0x3d: return "HCI: Connection Terminated due to MIC Failure";
  case 0x3e: return "HCI: Connection Failed to be Established";
  default: return "HCI: error status";
  }
}

/* SMP Pairing Failed reasons (Core spec Vol 3 Part H 3.5.5). */
static const char *smp_error_message(uint8_t code) {
  switch (code) {
  case 0x01: return "SMP: Passkey Entry Failed";
  case 0x02: return "SMP: OOB Not Available";
  case 0x03: return "SMP: Authentication Requirements";
  case 0x04: return "SMP: Confirm Value Failed";
  case 0x05: return "SMP: Pairing Not Supported";
  case 0x06: return "SMP: Encryption Key Size";
  case 0x07: return "SMP: Command Not Supported";
  case 0x08: return "SMP: Unspecified Reason";
  case 0x09: return "SMP: Repeated Attempts";
  case 0x0a: return "SMP: Invalid Parameters";
  case 0x0b: return "SMP: DHKey Check Failed";
  case 0x0c: return "SMP: Numeric Comparison Failed";
  case 0x0d: return "SMP: BR/EDR pairing in progress";
  case 0x0e: return "SMP: Cross-transport Key Derivation/Generation Not Allowed";
  case 0x0f: return "SMP: Key Rejected";
  default: return "SMP: pairing failed";
  }
}

/* Which protocol range @p err lies in (its base), and its code; 0 if none. */
static int protocol_range(int err, uint8_t *code) {
  /* The ranges are small: this also keeps -INT_MIN from being computed. */
  if (err >= 0 || err < -(BLEAK_ERR_SMP_BASE + 0xff))
    return 0;
  int v = -err;
  static const int bases[] = {BLEAK_ERR_ATT_BASE, BLEAK_ERR_HCI_BASE,
                              BLEAK_ERR_SMP_BASE};
  for (size_t i = 0; i < BK_ARRAY_SIZE(bases); i++) {
    if (v > bases[i] && v <= bases[i] + 0xff) {
      *code = (uint8_t)(v - bases[i]);
      return bases[i];
    }
  }
  return 0;
}

const char *bleak_strerror(int err) {
  if (err >= 0)
    return "success";
  switch (err) {
#define BLEAK_ERR_MSG_(name, val, msg)                                         \
  case val:                                                                    \
    return msg;
    BLEAK_ERRNO_MAP(BLEAK_ERR_MSG_)
#undef BLEAK_ERR_MSG_
  default:
    break;
  }
  uint8_t code = 0;
  switch (protocol_range(err, &code)) {
  case BLEAK_ERR_ATT_BASE: return att_error_message(code);
  case BLEAK_ERR_HCI_BASE: return hci_error_message(code);
  case BLEAK_ERR_SMP_BASE: return smp_error_message(code);
  default: return "unknown error";
  }
}

const char *bleak_err_name(int err) {
  static _Thread_local char buf[32];
  if (err == BLEAK_OK)
    return "BLEAK_OK";
  switch (err) {
#define BLEAK_ERR_NAME_(name, val, msg)                                        \
  case val:                                                                    \
    return "BLEAK_ERR_" #name;
    BLEAK_ERRNO_MAP(BLEAK_ERR_NAME_)
#undef BLEAK_ERR_NAME_
  default:
    break;
  }
  uint8_t code = 0;
  const char *range = NULL;
  switch (protocol_range(err, &code)) {
  case BLEAK_ERR_ATT_BASE: range = "ATT"; break;
  case BLEAK_ERR_HCI_BASE: range = "HCI"; break;
  case BLEAK_ERR_SMP_BASE: range = "SMP"; break;
  default: return "BLEAK_ERR_UNKNOWN";
  }
  snprintf(buf, sizeof buf, "BLEAK_ERR_%s(0x%02x)", range, code);
  return buf;
}

bool bleak_error_is_att(int err) {
  uint8_t code;
  return protocol_range(err, &code) == BLEAK_ERR_ATT_BASE;
}

uint8_t bleak_error_att_code(int err) {
  uint8_t code = 0;
  return protocol_range(err, &code) == BLEAK_ERR_ATT_BASE ? code : 0;
}

bool bleak_error_is_hci(int err) {
  uint8_t code;
  return protocol_range(err, &code) == BLEAK_ERR_HCI_BASE;
}

bool bleak_error_is_smp(int err) {
  uint8_t code;
  return protocol_range(err, &code) == BLEAK_ERR_SMP_BASE;
}

bool bleak_error_is_not_available(int err) {
  return err <= BLEAK_ERR_NO_ADAPTER && err >= BLEAK_ERR_PERMISSION;
}

static _Thread_local char detail[256];

const char *bleak_error_detail(void) { return detail; }

void bk_clear_detail(void) { detail[0] = '\0'; }

int bk_fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return err;
}
