/* SPDX-License-Identifier: MIT */
/* ATT PDUs a GATT client receives (Core Vol 3 Part F 3.4), parsed and
 * checked, sans-I/O. Lists (Find Information, Find By Type Value, Read By
 * Type, Read By Group Type, Read Multiple Variable, Multiple Handle Value
 * Notification) stay in the PDU; their entries are read with the functions
 * below, after bk_att_parse() has checked that they frame exactly. What
 * the entries mean (handles in order and in range) is the GATT client's
 * business. */
#ifndef BLEAK_HCI_ATT_PDU_H
#define BLEAK_HCI_ATT_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/uuid.h"

enum bk_att_opcode {
  BK_ATT_ERROR_RSP = 0x01,
  BK_ATT_MTU_REQ = 0x02,
  BK_ATT_MTU_RSP = 0x03,
  BK_ATT_FIND_INFO_REQ = 0x04,
  BK_ATT_FIND_INFO_RSP = 0x05,
  BK_ATT_FIND_BY_TYPE_REQ = 0x06,
  BK_ATT_FIND_BY_TYPE_RSP = 0x07,
  BK_ATT_READ_BY_TYPE_REQ = 0x08,
  BK_ATT_READ_BY_TYPE_RSP = 0x09,
  BK_ATT_READ_REQ = 0x0a,
  BK_ATT_READ_RSP = 0x0b,
  BK_ATT_READ_BLOB_REQ = 0x0c,
  BK_ATT_READ_BLOB_RSP = 0x0d,
  BK_ATT_READ_MULT_REQ = 0x0e,
  BK_ATT_READ_MULT_RSP = 0x0f,
  BK_ATT_READ_BY_GROUP_REQ = 0x10,
  BK_ATT_READ_BY_GROUP_RSP = 0x11,
  BK_ATT_WRITE_REQ = 0x12,
  BK_ATT_WRITE_RSP = 0x13,
  BK_ATT_PREP_WRITE_REQ = 0x16,
  BK_ATT_PREP_WRITE_RSP = 0x17,
  BK_ATT_EXEC_WRITE_REQ = 0x18,
  BK_ATT_EXEC_WRITE_RSP = 0x19,
  BK_ATT_NOTIFICATION = 0x1b,
  BK_ATT_INDICATION = 0x1d,
  BK_ATT_CONFIRMATION = 0x1e,
  BK_ATT_READ_MULT_VAR_REQ = 0x20,
  BK_ATT_READ_MULT_VAR_RSP = 0x21,
  BK_ATT_MULT_NOTIFICATION = 0x23,
  BK_ATT_WRITE_CMD = 0x52,
};

typedef struct bk_att_pdu {
  uint8_t opcode;
  union {
    struct {
      uint8_t request, code;
      uint16_t handle;
    } error;
    struct {
      uint16_t mtu;
    } mtu;
    struct { /* Find Information, Find By Type Value, Read By (Group) Type */
      const uint8_t *data;
      size_t entry_len, n;
    } list;
    struct { /* Read, Read Blob, Read Multiple, Read Multiple Variable,
              * Multiple Handle Value Notification: the raw bytes */
      const uint8_t *data;
      size_t len;
    } raw;
    struct { /* Notification, Indication, Prepare Write Response */
      uint16_t handle, offset; /* offset: Prepare Write only */
      const uint8_t *value;
      size_t len;
    } value;
  } u;
} bk_att_pdu;

/*
 * Parse a PDU the server sent. @return 0; BLEAK_ERR_PROTOCOL for a length
 * the opcode does not allow or a list that does not frame (Find
 * Information with a format other than 1 or 2, Read By Type entries of
 * length 0 or 1, entries that do not divide the PDU, an empty list, an
 * MTU below 23); BLEAK_ERR_NOT_SUPPORTED for an opcode a client does not
 * expect (a request: answer Request Not Supported); INVALID_ARG for NULL.
 */
int bk_att_parse(const uint8_t *pdu, size_t len, bk_att_pdu *out);

/* Find Information entry @p i: handle and UUID. */
void bk_att_info_at(const bk_att_pdu *p, size_t i, uint16_t *handle, bleak_uuid *uuid);
/* Find By Type Value entry @p i: found handle and group end. */
void bk_att_range_at(const bk_att_pdu *p, size_t i, uint16_t *start, uint16_t *end);
/* Read By Type entry @p i: handle and value (entry_len - 2 bytes). */
void bk_att_typed_at(const bk_att_pdu *p, size_t i, uint16_t *handle, const uint8_t **value,
                     size_t *len);
/* Read By Group Type entry @p i: start, end, and the group's UUID (2 or
 * 16 bytes); returns BLEAK_ERR_PROTOCOL when the value is not a UUID. */
int bk_att_group_at(const bk_att_pdu *p, size_t i, uint16_t *start, uint16_t *end,
                    bleak_uuid *uuid);

/* Read Multiple Variable Response / Multiple Handle Value Notification:
 * walk the (handle,) length, value tuples; *pos starts at 0. @return 1
 * with one, 0 at the end, BLEAK_ERR_PROTOCOL when a length runs past the
 * end (the last value of a Read Multiple Variable Response may be cut to
 * the MTU: then it is returned as far as it goes). */
int bk_att_tuple_next(const bk_att_pdu *p, size_t *pos, uint16_t *handle, const uint8_t **value,
                      size_t *len);

#endif
