/* SPDX-License-Identifier: MIT */
/*
 * The LE signalling channel (CID 0x0005, Core Vol 3 Part A 4), sans-I/O:
 * one received C-frame in; the answer's bytes and an event out.
 *
 * We are a central that opens no channels of its own and sends no
 * signalling requests, so the layer keeps no state: every answer follows
 * from the frame alone.
 * - Connection Parameter Update Request: accepted when the values are in
 *   the ranges of 4.20 and consistent (the supervision timeout outlasts the
 *   latency), the event then asks the host to apply them; else rejected.
 * - Connection requests (LE credit based, credit based): refused, the
 *   SPSM is not supported; Credit Based Reconfigure: its channels are not
 *   ours. Disconnection Request: Command Reject, invalid CID.
 * - Responses, Command Reject and Flow Control Credit: nothing (we asked
 *   for nothing, and we have no channel to credit).
 * - Commands of BR/EDR only and unknown codes: Command Reject, "command
 *   not understood"; so is a known command whose length is wrong for it.
 * - Frames that are not one whole command are dropped: on LE a C-frame
 *   carries exactly one command, so a header shorter than 4 bytes or a
 *   length field that disagrees with the frame means the frame is broken
 *   (its identifier cannot be trusted either); identifier 0 is never
 *   valid. A frame longer than our MTUsig gets Command Reject "signalling
 *   MTU exceeded".
 */
#ifndef BLEAK_HCI_L2CAP_SIGNAL_H
#define BLEAK_HCI_L2CAP_SIGNAL_H

#include <stddef.h>
#include <stdint.h>

/* Command codes (Vol 3 Part A 4, table 4.2). */
enum bk_l2cap_sig_code {
  BK_L2CAP_SIG_COMMAND_REJECT = 0x01,
  BK_L2CAP_SIG_CONNECTION_REQ = 0x02,         /* BR/EDR only */
  BK_L2CAP_SIG_CONNECTION_RSP = 0x03,         /* BR/EDR only */
  BK_L2CAP_SIG_CONFIGURATION_REQ = 0x04,      /* BR/EDR only */
  BK_L2CAP_SIG_CONFIGURATION_RSP = 0x05,      /* BR/EDR only */
  BK_L2CAP_SIG_DISCONNECTION_REQ = 0x06,
  BK_L2CAP_SIG_DISCONNECTION_RSP = 0x07,
  BK_L2CAP_SIG_ECHO_REQ = 0x08,               /* BR/EDR only */
  BK_L2CAP_SIG_ECHO_RSP = 0x09,               /* BR/EDR only */
  BK_L2CAP_SIG_INFORMATION_REQ = 0x0a,        /* BR/EDR only */
  BK_L2CAP_SIG_INFORMATION_RSP = 0x0b,        /* BR/EDR only */
  BK_L2CAP_SIG_CREATE_CHANNEL_REQ = 0x0c,     /* AMP, withdrawn */
  BK_L2CAP_SIG_CREATE_CHANNEL_RSP = 0x0d,     /* AMP, withdrawn */
  BK_L2CAP_SIG_MOVE_CHANNEL_REQ = 0x0e,       /* AMP, withdrawn */
  BK_L2CAP_SIG_MOVE_CHANNEL_RSP = 0x0f,       /* AMP, withdrawn */
  BK_L2CAP_SIG_MOVE_CONFIRMATION_REQ = 0x10,  /* AMP, withdrawn */
  BK_L2CAP_SIG_MOVE_CONFIRMATION_RSP = 0x11,  /* AMP, withdrawn */
  BK_L2CAP_SIG_CONN_PARAM_UPDATE_REQ = 0x12,  /* LE only */
  BK_L2CAP_SIG_CONN_PARAM_UPDATE_RSP = 0x13,  /* LE only */
  BK_L2CAP_SIG_LE_CREDIT_CONN_REQ = 0x14,     /* LE only */
  BK_L2CAP_SIG_LE_CREDIT_CONN_RSP = 0x15,     /* LE only */
  BK_L2CAP_SIG_FLOW_CONTROL_CREDIT_IND = 0x16,
  BK_L2CAP_SIG_CREDIT_CONN_REQ = 0x17,        /* enhanced (EATT uses it) */
  BK_L2CAP_SIG_CREDIT_CONN_RSP = 0x18,
  BK_L2CAP_SIG_CREDIT_RECONF_REQ = 0x19,
  BK_L2CAP_SIG_CREDIT_RECONF_RSP = 0x1a,
};

/* Command Reject reasons (4.1). */
enum bk_l2cap_sig_reject_reason {
  BK_L2CAP_SIG_REJECT_NOT_UNDERSTOOD = 0x0000,
  BK_L2CAP_SIG_REJECT_MTU_EXCEEDED = 0x0001, /* data: our MTUsig */
  BK_L2CAP_SIG_REJECT_INVALID_CID = 0x0002,  /* data: local CID, remote CID */
};

/* Result codes of the answers we give. */
enum bk_l2cap_sig_result {
  BK_L2CAP_SIG_PARAMS_ACCEPTED = 0x0000,    /* Connection Parameter Update */
  BK_L2CAP_SIG_PARAMS_REJECTED = 0x0001,
  BK_L2CAP_SIG_SPSM_NOT_SUPPORTED = 0x0002, /* both credit based connections */
  BK_L2CAP_SIG_RECONF_INVALID_DCID = 0x0003,
};

/* The signalling MTU of LE (MTUsig: 23, the minimum) is all we accept. */
#define BK_L2CAP_SIG_MTU 23
/* Room the caller gives for an answer (the largest: a refused Credit
 * Based Connection of five channels, 22 bytes). */
#define BK_L2CAP_SIG_MAX_ANSWER BK_L2CAP_SIG_MTU

/* Connection parameters a peripheral asks for, as on the air. */
typedef struct bk_l2cap_sig_conn_params {
  uint16_t interval_min, interval_max; /* 1.25 ms units, 6..3200 */
  uint16_t latency;                    /* connection events, 0..499 */
  uint16_t timeout;                    /* supervision, 10 ms units, 10..3200 */
} bk_l2cap_sig_conn_params;

typedef enum bk_l2cap_sig_event_kind {
  BK_L2CAP_SIG_EV_NONE,
  /* Accepted parameters: the host applies them (HCI LE Connection
   * Update), as the answer tells the peer it will. */
  BK_L2CAP_SIG_EV_CONN_PARAMS,
} bk_l2cap_sig_event_kind;

typedef struct bk_l2cap_sig_event {
  bk_l2cap_sig_event_kind kind;
  bk_l2cap_sig_conn_params conn_params; /* EV_CONN_PARAMS */
} bk_l2cap_sig_event;

/*
 * One C-frame received on the LE signalling channel (@p frame: the L2CAP
 * payload, @p len bytes). The answer, if any, goes to @p out (@p cap bytes,
 * at least BK_L2CAP_SIG_MAX_ANSWER), to be sent back on the same channel;
 * *ev says what else follows (EV_NONE unless set).
 * @return the answer's length, 0 when nothing is answered, or (nothing
 *         answered) BLEAK_ERR_PROTOCOL when the frame was dropped as
 *         broken (detail set), BLEAK_ERR_BUFFER_TOO_SMALL,
 *         BLEAK_ERR_INVALID_ARG.
 */
int bk_l2cap_sig_recv(const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
                      bk_l2cap_sig_event *ev);

#endif
