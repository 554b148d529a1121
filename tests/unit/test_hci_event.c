/* SPDX-License-Identifier: MIT */
/* HCI event parsing: each event the host uses, and the malformed shapes
 * (length byte lies, counted entries that do not fit, short parameters). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backend/hci/hci_event.h"
#include "bleak/error.h"

#define PARSE(ev, bytes) bk_hci_event_parse((const uint8_t *)(bytes), sizeof(bytes) - 1, (ev))

static void test_command_events(void **state) {
  (void)state;
  bk_hci_event ev;
  assert_int_equal(PARSE(&ev, "\x0e\x04\x01\x03\x0c\x00"), 0);
  assert_int_equal(ev.code, BK_HCI_EV_CMD_COMPLETE);
  assert_int_equal(ev.u.cmd_complete.opcode, 0x0c03);
  assert_int_equal(ev.u.cmd_complete.ncmd, 1);
  assert_int_equal(ev.u.cmd_complete.ret_len, 1);
  assert_int_equal(ev.u.cmd_complete.ret[0], 0);
  assert_int_equal(PARSE(&ev, "\x0f\x04\x0c\x01\x0d\x20"), 0);
  assert_int_equal(ev.u.cmd_status.status, 0x0c);
  assert_int_equal(ev.u.cmd_status.opcode, 0x200d);
  assert_int_equal(PARSE(&ev, "\x05\x04\x00\x40\x00\x13"), 0);
  assert_int_equal(ev.u.disconn.handle, 0x40);
  assert_int_equal(ev.u.disconn.reason, 0x13);
}

static void test_le_connection(void **state) {
  (void)state;
  bk_hci_event ev;
  assert_int_equal(PARSE(&ev, "\x3e\x13\x01\x00\x40\x00\x00\x00\x01\x01\x00\x01\xaa\x00"
                              "\x18\x00\x00\x00\x48\x00\x00"), 0);
  assert_int_equal(ev.subevent, BK_HCI_LE_CONN_COMPLETE);
  assert_int_equal(ev.u.le_conn.handle, 0x40);
  assert_int_equal(ev.u.le_conn.interval, 0x18);
  assert_int_equal(ev.u.le_conn.supervision_timeout, 0x48);
  assert_memory_equal(ev.u.le_conn.peer, "\x01\x01\x00\x01\xaa\x00", 6);
  /* The enhanced form: two more addresses before the interval. */
  uint8_t enh[2 + 31] = {0x3e, 31, BK_HCI_LE_ENH_CONN_COMPLETE, 0x00, 0x41, 0x00};
  enh[2 + 24] = 0x28; /* interval at parameter offset 24 */
  assert_int_equal(bk_hci_event_parse(enh, sizeof enh, &ev), 0);
  assert_int_equal(ev.u.le_conn.handle, 0x41);
  assert_int_equal(ev.u.le_conn.interval, 0x28);
  /* One byte short. */
  assert_int_equal(PARSE(&ev, "\x3e\x12\x01\x00\x40\x00\x00\x00\x01\x01\x00\x01\xaa\x00"
                              "\x18\x00\x00\x00\x48\x00"), BLEAK_ERR_PROTOCOL);
}

static void test_advertising_reports(void **state) {
  (void)state;
  bk_hci_event ev;
  static const char two[] =
      "\x3e\x19\x02\x02"
      "\x00\x00\x01\x00\x01\x01\xaa\x00\x03\x02\x01\x06\xc4"   /* ADV_IND, 3 data bytes, -60 */
      "\x04\x00\x02\x00\x01\x01\xaa\x00\x00\x7f";              /* SCAN_RSP, no data */
  assert_int_equal(bk_hci_event_parse((const uint8_t *)two, sizeof two - 1, &ev), 0);
  assert_int_equal(ev.u.adv.n, 2);
  size_t pos = 0;
  bk_hci_adv_report r;
  assert_int_equal(bk_hci_adv_next(&ev, &pos, &r), 1);
  assert_int_equal(r.event_type, 0);
  assert_int_equal(r.data_len, 3);
  assert_int_equal(r.rssi, -60);
  assert_memory_equal(r.addr, "\x01\x00\x01\x01\xaa\x00", 6);
  assert_int_equal(bk_hci_adv_next(&ev, &pos, &r), 1);
  assert_int_equal(r.event_type, 4);
  assert_int_equal(r.data_len, 0);
  assert_int_equal(r.rssi, 127);
  assert_int_equal(bk_hci_adv_next(&ev, &pos, &r), 0);
  /* The count says two, the bytes hold one. */
  static const char lies[] = "\x3e\x0e\x02\x02\x00\x00\x01\x00\x01\x01\xaa\x00\x00\x7f\x00\x00";
  assert_int_equal(bk_hci_event_parse((const uint8_t *)lies, sizeof lies - 1, &ev), BLEAK_ERR_PROTOCOL);
  /* A data length past the end. */
  static const char past[] = "\x3e\x0c\x02\x01\x00\x00\x01\x00\x01\x01\xaa\x00\xff\x7f";
  assert_int_equal(bk_hci_event_parse((const uint8_t *)past, sizeof past - 1, &ev), BLEAK_ERR_PROTOCOL);
  /* An extended report: 24 fixed bytes, then data. */
  uint8_t ext[2 + 2 + 24 + 2] = {0x3e, 28, BK_HCI_LE_EXT_ADV_REPORT, 1, 0x13, 0x00};
  ext[4 + 12] = 0x05; /* tx power 5 */
  ext[4 + 13] = 0xc0; /* rssi -64 */
  ext[4 + 23] = 2;
  ext[4 + 24] = 0xaa;
  ext[4 + 25] = 0xbb;
  assert_int_equal(bk_hci_event_parse(ext, sizeof ext, &ev), 0);
  pos = 0;
  assert_int_equal(bk_hci_adv_next(&ev, &pos, &r), 1);
  assert_int_equal(r.event_type, 0x13);
  assert_int_equal(r.tx_power, 5);
  assert_int_equal(r.rssi, -64);
  assert_int_equal(r.data_len, 2);
  assert_int_equal(r.data[1], 0xbb);
}

static void test_completed_packets(void **state) {
  (void)state;
  bk_hci_event ev;
  assert_int_equal(PARSE(&ev, "\x13\x09\x02\x40\x00\x02\x00\x41\x00\x01\x00"), 0);
  uint16_t h, c;
  bk_hci_completed_at(&ev, 1, &h, &c);
  assert_int_equal(h, 0x41);
  assert_int_equal(c, 1);
  assert_int_equal(PARSE(&ev, "\x13\x05\x02\x40\x00\x02\x00"), BLEAK_ERR_PROTOCOL);
}

/* Encryption Change and Encryption Key Refresh Complete: one shape. */
static void test_encryption_events(void **state) {
  (void)state;
  bk_hci_event ev;
  assert_int_equal(PARSE(&ev, "\x08\x04\x00\x40\x00\x01"), 0);
  assert_int_equal(ev.u.encrypt.status, 0);
  assert_int_equal(ev.u.encrypt.handle, 0x40);
  assert_int_equal(ev.u.encrypt.enabled, 1);
  assert_int_equal(PARSE(&ev, "\x30\x03\x06\x41\xf0"), 0); /* flags masked off */
  assert_int_equal(ev.code, BK_HCI_EV_ENCRYPT_KEY_REFRESH);
  assert_int_equal(ev.u.encrypt.status, 6);
  assert_int_equal(ev.u.encrypt.handle, 0x41);
  assert_int_equal(ev.u.encrypt.enabled, 1);
  assert_int_equal(PARSE(&ev, "\x30\x02\x00\x40"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&ev, "\x08\x03\x00\x40\x00"), BLEAK_ERR_PROTOCOL);
}

static void test_framing_lies(void **state) {
  (void)state;
  bk_hci_event ev;
  assert_int_equal(PARSE(&ev, "\x0e\x05\x01\x03\x0c\x00"), BLEAK_ERR_PROTOCOL); /* says 5, has 4 */
  assert_int_equal(PARSE(&ev, "\x0e"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&ev, "\x0e\x02\x01\x03"), BLEAK_ERR_PROTOCOL); /* too short */
  assert_int_equal(PARSE(&ev, "\x3e\x00"), BLEAK_ERR_PROTOCOL);
  assert_int_equal(PARSE(&ev, "\x3e\x01\x7f"), BLEAK_ERR_NOT_SUPPORTED);
  assert_int_equal(ev.subevent, 0x7f);
  assert_int_equal(PARSE(&ev, "\x57\x00"), BLEAK_ERR_NOT_SUPPORTED);
  assert_int_equal(bk_hci_event_parse(NULL, 2, &ev), BLEAK_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_command_events),
      cmocka_unit_test(test_le_connection),
      cmocka_unit_test(test_advertising_reports),
      cmocka_unit_test(test_completed_packets),
      cmocka_unit_test(test_encryption_events),
      cmocka_unit_test(test_framing_lies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
