/* SPDX-License-Identifier: MIT */
/* HCI event parser: see hci_event.h. */
#include "backend/hci/hci_event.h"

#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

#define LEGACY_REPORT_FIXED 9    /* type, addr type, addr, data len; rssi after the data */
#define EXTENDED_REPORT_FIXED 24 /* up to and including data length */

static int too_short(const char *what, size_t have, size_t need) {
  return bk_fail(BLEAK_ERR_PROTOCOL, "HCI %s: %zu parameter bytes, needs %zu", what, have, need);
}

/* One report at p[0..len): its size, or 0 when it does not fit. */
static size_t report_size(bool extended, const uint8_t *p, size_t len) {
  if (extended) {
    if (len < EXTENDED_REPORT_FIXED)
      return 0;
    size_t total = EXTENDED_REPORT_FIXED + (size_t)p[23];
    return total <= len ? total : 0;
  }
  if (len < LEGACY_REPORT_FIXED)
    return 0;
  size_t total = LEGACY_REPORT_FIXED + (size_t)p[8] + 1; /* + rssi */
  return total <= len ? total : 0;
}

int bk_hci_adv_next(const bk_hci_event *ev, size_t *pos, bk_hci_adv_report *out) {
  if (*pos >= ev->u.adv.len)
    return 0;
  const uint8_t *p = ev->u.adv.reports + *pos;
  size_t left = ev->u.adv.len - *pos;
  size_t n = report_size(ev->u.adv.extended, p, left);
  if (!n)
    return bk_fail(BLEAK_ERR_PROTOCOL, "advertising report runs past the event");
  memset(out, 0, sizeof *out);
  out->extended = ev->u.adv.extended;
  if (ev->u.adv.extended) {
    out->event_type = le16(p);
    out->addr_type = p[2];
    memcpy(out->addr, p + 3, 6);
    out->tx_power = (int8_t)p[12];
    out->rssi = (int8_t)p[13];
    out->data = p + EXTENDED_REPORT_FIXED;
    out->data_len = p[23];
  } else {
    out->event_type = p[0];
    out->addr_type = p[1];
    memcpy(out->addr, p + 2, 6);
    out->data = p + LEGACY_REPORT_FIXED;
    out->data_len = p[8];
    out->rssi = (int8_t)p[LEGACY_REPORT_FIXED + p[8]];
    out->tx_power = 127;
  }
  *pos += n;
  return 1;
}

bool bk_hci_adv_is_scan_rsp(const bk_hci_adv_report *r) {
  return r->extended ? (r->event_type & 0x08) != 0 : r->event_type == 0x04;
}

bool bk_hci_adv_is_scannable(const bk_hci_adv_report *r) {
  if (r->extended) /* scannable, and not itself the response */
    return (r->event_type & 0x02) && !(r->event_type & 0x08);
  return r->event_type == 0x00 || r->event_type == 0x02; /* ADV_IND, ADV_SCAN_IND */
}

static int parse_adv(const uint8_t *prm, size_t plen, bool extended, bk_hci_event *out) {
  if (plen < 2)
    return too_short("advertising report", plen, 2);
  out->u.adv.n = prm[1];
  out->u.adv.extended = extended;
  out->u.adv.reports = prm + 2;
  out->u.adv.len = plen - 2;
  /* Walk once: the counted reports must fill the event exactly. */
  size_t pos = 0;
  bk_hci_adv_report r;
  for (unsigned i = 0; i < out->u.adv.n; i++)
    if (bk_hci_adv_next(out, &pos, &r) != 1)
      return bk_fail(BLEAK_ERR_PROTOCOL, "advertising report %u of %u does not fit", i + 1,
                     out->u.adv.n);
  if (pos != out->u.adv.len)
    return bk_fail(BLEAK_ERR_PROTOCOL, "advertising report event: %zu bytes left over",
                   out->u.adv.len - pos);
  return 0;
}

static int parse_le(const uint8_t *prm, size_t plen, bk_hci_event *out) {
  if (plen < 1)
    return too_short("LE meta", plen, 1);
  out->subevent = prm[0];
  switch (prm[0]) {
  case BK_HCI_LE_CONN_COMPLETE:
  case BK_HCI_LE_ENH_CONN_COMPLETE: {
    bool enh = prm[0] == BK_HCI_LE_ENH_CONN_COMPLETE;
    size_t need = enh ? 31 : 19;
    if (plen < need)
      return too_short("LE connection complete", plen, need);
    size_t o = enh ? 12 : 0; /* the enhanced form adds two 6-byte addresses */
    out->u.le_conn.status = prm[1];
    out->u.le_conn.handle = le16(prm + 2) & 0x0fff;
    out->u.le_conn.role = prm[4];
    out->u.le_conn.peer_type = prm[5];
    memcpy(out->u.le_conn.peer, prm + 6, 6);
    out->u.le_conn.interval = le16(prm + 12 + o);
    out->u.le_conn.latency = le16(prm + 14 + o);
    out->u.le_conn.supervision_timeout = le16(prm + 16 + o);
    return 0;
  }
  case BK_HCI_LE_ADV_REPORT:
    return parse_adv(prm, plen, false, out);
  case BK_HCI_LE_EXT_ADV_REPORT:
    return parse_adv(prm, plen, true, out);
  case BK_HCI_LE_CONN_UPDATE_COMPLETE:
    if (plen < 10)
      return too_short("LE connection update complete", plen, 10);
    out->u.le_conn_update.status = prm[1];
    out->u.le_conn_update.handle = le16(prm + 2) & 0x0fff;
    out->u.le_conn_update.interval = le16(prm + 4);
    out->u.le_conn_update.latency = le16(prm + 6);
    out->u.le_conn_update.supervision_timeout = le16(prm + 8);
    return 0;
  case BK_HCI_LE_DATA_LENGTH_CHANGE:
    if (plen < 11)
      return too_short("LE data length change", plen, 11);
    out->u.le_data_length.handle = le16(prm + 1) & 0x0fff;
    out->u.le_data_length.tx_octets = le16(prm + 3);
    out->u.le_data_length.tx_time = le16(prm + 5);
    out->u.le_data_length.rx_octets = le16(prm + 7);
    out->u.le_data_length.rx_time = le16(prm + 9);
    return 0;
  case BK_HCI_LE_PHY_UPDATE_COMPLETE:
    if (plen < 6)
      return too_short("LE PHY update complete", plen, 6);
    out->u.le_phy.status = prm[1];
    out->u.le_phy.handle = le16(prm + 2) & 0x0fff;
    out->u.le_phy.tx_phy = prm[4];
    out->u.le_phy.rx_phy = prm[5];
    return 0;
  default:
    return BLEAK_ERR_NOT_SUPPORTED;
  }
}

int bk_hci_event_parse(const uint8_t *pkt, size_t len, bk_hci_event *out) {
  if (!pkt || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bk_hci_event_parse: NULL argument");
  memset(out, 0, sizeof *out);
  if (len < 2)
    return bk_fail(BLEAK_ERR_PROTOCOL, "HCI event of %zu bytes", len);
  out->code = pkt[0];
  size_t plen = pkt[1];
  if (plen != len - 2)
    return bk_fail(BLEAK_ERR_PROTOCOL, "HCI event 0x%02x says %zu parameter bytes, has %zu",
                   pkt[0], plen, len - 2);
  const uint8_t *prm = pkt + 2;
  switch (pkt[0]) {
  case BK_HCI_EV_CMD_COMPLETE:
    if (plen < 3)
      return too_short("command complete", plen, 3);
    out->u.cmd_complete.ncmd = prm[0];
    out->u.cmd_complete.opcode = le16(prm + 1);
    out->u.cmd_complete.ret = prm + 3;
    out->u.cmd_complete.ret_len = plen - 3;
    return 0;
  case BK_HCI_EV_CMD_STATUS:
    if (plen < 4)
      return too_short("command status", plen, 4);
    out->u.cmd_status.status = prm[0];
    out->u.cmd_status.ncmd = prm[1];
    out->u.cmd_status.opcode = le16(prm + 2);
    return 0;
  case BK_HCI_EV_DISCONN_COMPLETE:
    if (plen < 4)
      return too_short("disconnection complete", plen, 4);
    out->u.disconn.status = prm[0];
    out->u.disconn.handle = le16(prm + 1) & 0x0fff;
    out->u.disconn.reason = prm[3];
    return 0;
  case BK_HCI_EV_ENCRYPT_CHANGE:
    if (plen < 4)
      return too_short("encryption change", plen, 4);
    out->u.encrypt.status = prm[0];
    out->u.encrypt.handle = le16(prm + 1) & 0x0fff;
    out->u.encrypt.enabled = prm[3];
    return 0;
  case BK_HCI_EV_ENCRYPT_KEY_REFRESH:
    if (plen < 3)
      return too_short("encryption key refresh complete", plen, 3);
    out->u.encrypt.status = prm[0];
    out->u.encrypt.handle = le16(prm + 1) & 0x0fff;
    out->u.encrypt.enabled = 1; /* a refreshed key: still encrypted */
    return 0;
  case BK_HCI_EV_HARDWARE_ERROR:
    if (plen < 1)
      return too_short("hardware error", plen, 1);
    out->u.hw_error.code = prm[0];
    return 0;
  case BK_HCI_EV_NUM_COMPLETED_PACKETS:
    if (plen < 1)
      return too_short("number of completed packets", plen, 1);
    if (plen != 1 + 4 * (size_t)prm[0])
      return bk_fail(BLEAK_ERR_PROTOCOL, "completed packets: %u entries in %zu bytes", prm[0],
                     plen);
    out->u.completed.n = prm[0];
    out->u.completed.pairs = prm + 1;
    return 0;
  case BK_HCI_EV_LE_META:
    return parse_le(prm, plen, out);
  default:
    return BLEAK_ERR_NOT_SUPPORTED;
  }
}

void bk_hci_completed_at(const bk_hci_event *ev, size_t i, uint16_t *handle, uint16_t *count) {
  const uint8_t *p = ev->u.completed.pairs + 4 * i;
  *handle = le16(p) & 0x0fff;
  *count = le16(p + 2);
}
