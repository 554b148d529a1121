/* SPDX-License-Identifier: MIT */
/* HCI events (Core Vol 4 Part E 7.7) the LE host needs, parsed and checked,
 * sans-I/O: one event packet in (code, length, parameters, as the H4
 * framer delivers it), a struct out. Variable parts (command return
 * parameters, advertising reports, completed-packet counts) stay in the
 * packet and are walked with the iterators below, which check every length
 * again. Nothing is allocated. */
#ifndef BLEAK_HCI_EVENT_H
#define BLEAK_HCI_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bk_hci_event_code {
  BK_HCI_EV_DISCONN_COMPLETE = 0x05,
  BK_HCI_EV_ENCRYPT_CHANGE = 0x08,
  BK_HCI_EV_CMD_COMPLETE = 0x0e,
  BK_HCI_EV_CMD_STATUS = 0x0f,
  BK_HCI_EV_HARDWARE_ERROR = 0x10,
  BK_HCI_EV_NUM_COMPLETED_PACKETS = 0x13,
  BK_HCI_EV_ENCRYPT_KEY_REFRESH = 0x30,
  BK_HCI_EV_LE_META = 0x3e,
};

enum bk_hci_le_subevent {
  BK_HCI_LE_CONN_COMPLETE = 0x01,
  BK_HCI_LE_ADV_REPORT = 0x02,
  BK_HCI_LE_CONN_UPDATE_COMPLETE = 0x03,
  BK_HCI_LE_DATA_LENGTH_CHANGE = 0x07,
  BK_HCI_LE_ENH_CONN_COMPLETE = 0x0a,
  BK_HCI_LE_PHY_UPDATE_COMPLETE = 0x0c,
  BK_HCI_LE_EXT_ADV_REPORT = 0x0d,
};

typedef struct bk_hci_event {
  uint8_t code;
  uint8_t subevent; /* LE meta events: the subevent code, else 0 */
  union {
    struct {
      uint8_t ncmd;
      uint16_t opcode;
      const uint8_t *ret; /* return parameters (status first, usually) */
      size_t ret_len;
    } cmd_complete;
    struct {
      uint8_t status, ncmd;
      uint16_t opcode;
    } cmd_status;
    struct {
      uint8_t status, reason;
      uint16_t handle;
    } disconn;
    struct { /* Encryption Change; Key Refresh Complete (enabled 1) */
      uint8_t status, enabled;
      uint16_t handle;
    } encrypt;
    struct {
      uint8_t code;
    } hw_error;
    struct {
      uint8_t n; /* handle/count pairs at `pairs` */
      const uint8_t *pairs;
    } completed;
    struct { /* LE (Enhanced) Connection Complete */
      uint8_t status, role, peer_type;
      uint16_t handle, interval, latency, supervision_timeout;
      uint8_t peer[6]; /* little-endian, as on the wire */
    } le_conn;
    struct {
      uint8_t status;
      uint16_t handle, interval, latency, supervision_timeout;
    } le_conn_update;
    struct {
      uint16_t handle, tx_octets, tx_time, rx_octets, rx_time;
    } le_data_length;
    struct {
      uint8_t status, tx_phy, rx_phy;
      uint16_t handle;
    } le_phy;
    struct { /* legacy or extended reports: walk with bk_hci_adv_next */
      uint8_t n;
      bool extended;
      const uint8_t *reports;
      size_t len;
    } adv;
  } u;
} bk_hci_event;

/*
 * Parse one event packet (@p pkt: code, length, parameters).
 * @return 0; BLEAK_ERR_PROTOCOL when the length byte disagrees with
 *         @p len, or the parameters are too short for the event, or (for
 *         advertising reports and completed packets) the counted entries
 *         do not fit; BLEAK_ERR_NOT_SUPPORTED for an event (or LE
 *         subevent) this parser does not decode (code and subevent are
 *         set); BLEAK_ERR_INVALID_ARG for NULL.
 */
int bk_hci_event_parse(const uint8_t *pkt, size_t len, bk_hci_event *out);

/* Entry @p i (< completed.n) of Number Of Completed Packets. */
void bk_hci_completed_at(const bk_hci_event *ev, size_t i, uint16_t *handle, uint16_t *count);

/* One advertising report, legacy or extended. */
typedef struct bk_hci_adv_report {
  uint16_t event_type; /* legacy: 0 ADV_IND .. 4 SCAN_RSP; extended: bits */
  uint8_t addr_type;
  uint8_t addr[6]; /* little-endian */
  int8_t rssi;     /* 127: not available */
  int8_t tx_power; /* extended only; 127: not available */
  bool extended;   /* from an LE Extended Advertising Report */
  const uint8_t *data;
  size_t data_len;
} bk_hci_adv_report;

/* Whether a report is a scan response, and whether it advertises
 * something a scan request gets a scan response to. */
bool bk_hci_adv_is_scan_rsp(const bk_hci_adv_report *r);
bool bk_hci_adv_is_scannable(const bk_hci_adv_report *r);

/* Walk the reports of an advertising report event: *pos starts at 0.
 * @return 1 with a report, 0 at the end, BLEAK_ERR_PROTOCOL (never after
 * bk_hci_event_parse() accepted the event: it walks them once). */
int bk_hci_adv_next(const bk_hci_event *ev, size_t *pos, bk_hci_adv_report *out);

#endif
