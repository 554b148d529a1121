/* SPDX-License-Identifier: MIT */
/* The HCI host layer, replayed: the init sequence, command flow control by
 * Num_HCI_Command_Packets, ACL flow control by controller credits (and
 * credits a dropped link held coming back), L2CAP PDUs routed per link,
 * a controller that never answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "backend/hci/hci_host.h"
#include "bleak/error.h"
#include "bleak/log.h"
#include "hex.h"
#include "transport/h4.h"

typedef struct rig {
  bk_hci h;
  uint8_t out[64][300];
  size_t out_len[64], n_out, checked;
  int ready, ready_status;
  int connected, conn_status;
  uint16_t conn_handle;
  int disconnected;
  int l2cap;
  uint16_t l2cap_cid;
  size_t l2cap_len;
  int lost, lost_err;
  int adv;
  int encryptions, enc_status;
  uint16_t enc_handle;
  uint8_t enc_key_size;
  /* the order of the reports: each callback's turn */
  int turn, l2cap_turn, enc_turn;
  uint8_t l2cap_first; /* the last PDU's first byte */
} rig;

static rig R;

static void w(void *o, const uint8_t *b, size_t n) {
  rig *r = o;
  assert_true(r->n_out < 64 && n <= 300);
  memcpy(r->out[r->n_out], b, n);
  r->out_len[r->n_out++] = n;
}
static void ready(void *o, int st) {
  ((rig *)o)->ready++;
  ((rig *)o)->ready_status = st;
}
static void adv(void *o, const bk_hci_adv_report *r) {
  (void)r;
  ((rig *)o)->adv++;
}
static void conn(void *o, int st, uint16_t h, uint8_t t, const uint8_t p[6]) {
  (void)t;
  (void)p;
  ((rig *)o)->connected++;
  ((rig *)o)->conn_status = st;
  ((rig *)o)->conn_handle = h;
}
static void disc(void *o, uint16_t h, uint8_t reason) {
  (void)h;
  (void)reason;
  ((rig *)o)->disconnected++;
}
static void l2(void *o, uint16_t h, uint16_t cid, const uint8_t *p, size_t n) {
  (void)h;
  rig *r = o;
  r->l2cap++;
  r->l2cap_cid = cid;
  r->l2cap_len = n;
  r->l2cap_first = n ? p[0] : 0;
  r->l2cap_turn = ++r->turn;
}
static void sent(void *o) { (void)o; }
static void lost(void *o, int err) {
  ((rig *)o)->lost++;
  ((rig *)o)->lost_err = err;
}
static void enc(void *o, uint16_t h, int st, uint8_t ks) {
  rig *r = o;
  r->encryptions++;
  r->enc_handle = h;
  r->enc_status = st;
  r->enc_key_size = ks;
  r->enc_turn = ++r->turn;
}
static const bk_hci_ops ops = {w, ready, adv, conn, disc, l2, sent, lost, enc};

#define EXPECT(hex) expect_out(hex, __LINE__)
static void expect_out(const char *hex, int line) {
  uint8_t want[300];
  size_t n = test_unhex(hex, want, sizeof want);
  if (R.checked >= R.n_out)
    fail_msg("line %d: nothing sent, expected %s", line, hex);
  if (R.out_len[R.checked] != n || memcmp(R.out[R.checked], want, n) != 0) {
    char got[700] = "";
    for (size_t i = 0; i < R.out_len[R.checked] && i < 300; i++)
      sprintf(got + 2 * i, "%02x", R.out[R.checked][i]);
    fail_msg("line %d: sent %s, expected %s", line, got, hex);
  }
  R.checked++;
}

/* An event or ACL packet from the controller (H4 type byte first). */
static void IN(const char *hex) {
  uint8_t b[300];
  size_t n = test_unhex(hex, b, sizeof b);
  bk_hci_feed(&R.h, b[0], b + 1, n - 1, 1000);
}

static int setup(void **state) {
  (void)state;
  memset(&R, 0, sizeof R);
  bk_hci_init(&R.h, &ops, &R);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  assert_int_equal(R.checked, R.n_out);
  bk_hci_close(&R.h);
  return 0;
}

/* Init with LE buffers: 3 buffers of 27 bytes; LE features as given. */
static void init_controller_with(const char *features);
static void init_controller(void) { init_controller_with("2000000000000000"); }

static void init_controller_with(const char *features) {
  bk_hci_start(&R.h, 1000);
  EXPECT("01 030c 00");
  IN("04 0e 04 01 030c 00");
  EXPECT("01 0110 00");
  IN("04 0e 0c 01 0110 00 09 0000 09 0200 0000");
  EXPECT("01 0910 00");
  IN("04 0e 0a 01 0910 00 665544332211");
  EXPECT("01 010c 08 9080000000800020");
  IN("04 0e 04 01 010c 00");
  EXPECT("01 0120 08 5f18000000000000");
  IN("04 0e 04 01 0120 00");
  EXPECT("01 0220 00");
  IN("04 0e 07 01 0220 00 1b00 03");
  EXPECT("01 0320 00");
  assert_int_equal(R.ready, 0);
  char ev[64];
  snprintf(ev, sizeof ev, "04 0e 0c 01 0320 00 %s", features);
  IN(ev);
  assert_int_equal(R.ready, 1);
  assert_int_equal(R.ready_status, 0);
  assert_int_equal(R.h.acl_mtu, 27);
  assert_int_equal(R.h.acl_max, 3);
  assert_int_equal(R.h.bdaddr[0], 0x66);
}

static void test_init(void **state) {
  (void)state;
  init_controller();
}

/* No LE buffers: the shared ACL ones are read instead. */
static void test_init_shared_buffers(void **state) {
  (void)state;
  bk_hci_start(&R.h, 1000);
  EXPECT("01 030c 00");
  IN("04 0e 04 01 030c 00");
  EXPECT("01 0110 00");
  IN("04 0e 04 01 0110 01"); /* Unknown command: optional */
  EXPECT("01 0910 00");
  IN("04 0e 0a 01 0910 00 665544332211");
  EXPECT("01 010c 08 9080000000800020");
  IN("04 0e 04 01 010c 00");
  EXPECT("01 0120 08 5f18000000000000");
  IN("04 0e 04 01 0120 00");
  EXPECT("01 0220 00");
  IN("04 0e 07 01 0220 00 0000 00");
  EXPECT("01 0510 00");
  IN("04 0e 0b 01 0510 00 fd03 40 0800 0000");
  EXPECT("01 0320 00");
  IN("04 0e 0c 01 0320 00 0000000000000000");
  assert_int_equal(R.ready_status, 0);
  assert_int_equal(R.h.acl_mtu, 1021);
  assert_int_equal(R.h.acl_max, 8);
}

/* A controller that fails Reset is unusable. */
static void test_init_reset_fails(void **state) {
  (void)state;
  bk_hci_start(&R.h, 1000);
  EXPECT("01 030c 00");
  IN("04 0e 04 01 030c 03"); /* Hardware Failure */
  assert_int_equal(R.ready, 1);
  assert_int_equal(R.ready_status, BLEAK_ERR_HCI(0x03));
}

/* Commands wait for the credit the controller gives back. */
static void test_command_credits(void **state) {
  (void)state;
  init_controller();
  assert_int_equal(bk_hci_le_scan(&R.h, true, true, NULL, NULL, 1000), 0);
  EXPECT("01 0b20 07 01 3000 3000 00 00");
  assert_int_equal(R.n_out, R.checked); /* enable waits */
  IN("04 0e 04 00 0b20 00");            /* answered, but no credit */
  assert_int_equal(R.n_out, R.checked);
  IN("04 0e 03 01 0000"); /* a NOP gives the credit */
  EXPECT("01 0c20 02 01 00");
  IN("04 0e 04 01 0c20 00");
}

static void connect_link(void) {
  static const uint8_t peer[6] = {1, 2, 3, 4, 5, 6};
  assert_int_equal(bk_hci_le_connect(&R.h, 0, peer, NULL, NULL, 1000), 0);
  EXPECT("01 0d20 19 6000 6000 00 00 010203040506 00 0600 1800 0000 f401 0000 0000");
  IN("04 0f 04 00 01 0d20");
  IN("04 3e 13 01 00 4000 00 00 010203040506 1800 0000 f401 00");
  assert_int_equal(R.connected, 1);
  assert_int_equal(R.conn_status, 0);
  assert_int_equal(R.conn_handle, 0x40);
}

/* ACL: 3 credits; the 4th fragment waits for Number Of Completed Packets;
 * a disconnection gives back the credits its link held. */
static void test_acl_credits(void **state) {
  (void)state;
  init_controller();
  connect_link();
  uint8_t pdu[60];
  memset(pdu, 0xab, sizeof pdu);
  /* 64 bytes with the header: 3 fragments of 27, 27, 10. */
  assert_int_equal(bk_hci_send_l2cap(&R.h, 0x40, 4, pdu, sizeof pdu), 0);
  assert_int_equal(bk_hci_send_l2cap(&R.h, 0x40, 4, pdu, 2), 0);
  assert_int_equal(R.n_out - R.checked, 3);
  R.checked = R.n_out; /* contents: test_l2cap checks fragmentation */
  assert_int_equal(bk_hci_acl_backlog(&R.h), 1);
  IN("04 13 05 01 4000 0100");
  assert_int_equal(R.n_out - R.checked, 1);
  EXPECT("02 4000 0600 0200 0400 abab");
  assert_int_equal(bk_hci_acl_backlog(&R.h), 0);
  assert_int_equal(R.h.acl_credits, 0);
  /* The link goes: its 3 packets in flight come back as credits. */
  IN("04 05 04 00 4000 13");
  assert_int_equal(R.disconnected, 1);
  assert_int_equal(R.h.acl_credits, 3);
  assert_int_equal(bk_hci_send_l2cap(&R.h, 0x40, 4, pdu, 2), BLEAK_ERR_NOT_CONNECTED);
}

/* Completed-packet counts that lie (more than in flight, unknown handles)
 * do not inflate the credits. */
static void test_completed_lies(void **state) {
  (void)state;
  init_controller();
  connect_link();
  uint8_t pdu[2] = {1, 2};
  assert_int_equal(bk_hci_send_l2cap(&R.h, 0x40, 4, pdu, 2), 0);
  R.checked = R.n_out;
  IN("04 13 09 02 4000 0900 0100 0500");
  assert_int_equal(R.h.acl_credits, 3);
}

/* Incoming ACL: reassembled and routed with its channel. */
static void test_acl_in(void **state) {
  (void)state;
  init_controller();
  connect_link();
  IN("02 4020 0700 0300 0400 0b 0102");
  assert_int_equal(R.l2cap, 1);
  assert_int_equal(R.l2cap_cid, 4);
  assert_int_equal(R.l2cap_len, 3);
  IN("02 4120 0500 0100 0400 0b"); /* unknown handle: dropped */
  assert_int_equal(R.l2cap, 1);
}

/* A command never answered: after 10 s the controller counts as lost,
 * and the command's callback hears the timeout. */
static int cmd_status = 1;
static void cmd_cb(void *u, int st, const uint8_t *r, size_t n) {
  (void)u;
  (void)r;
  (void)n;
  cmd_status = st;
}
static void test_command_timeout(void **state) {
  (void)state;
  init_controller();
  assert_int_equal(bk_hci_command(&R.h, 0x0c14, NULL, 0, cmd_cb, NULL, 1000), 0);
  EXPECT("01 140c 00");
  assert_int_equal(bk_hci_deadline(&R.h), 1000 + BK_HCI_CMD_TIMEOUT_MS);
  bk_hci_tick(&R.h, 1000 + BK_HCI_CMD_TIMEOUT_MS - 1);
  assert_int_equal(R.lost, 0);
  bk_hci_tick(&R.h, 1000 + BK_HCI_CMD_TIMEOUT_MS);
  assert_int_equal(R.lost, 1);
  assert_int_equal(cmd_status, BLEAK_ERR_TIMEOUT);
  assert_int_equal(bk_hci_command(&R.h, 0x0c14, NULL, 0, NULL, NULL, 1000), BLEAK_ERR_IO);
}

/* A command given after a long quiet spell (no packets, no ticks) times
 * out from when it went, not from the last time the host saw: the time
 * comes with the call. */
static void test_command_deadline_from_now(void **state) {
  (void)state;
  init_controller(); /* last packet at 1000 */
  assert_int_equal(bk_hci_disconnect(&R.h, 0x40, 0x13, 61000), 0);
  EXPECT("01 0604 03 4000 13");
  assert_int_equal(bk_hci_deadline(&R.h), 61000 + BK_HCI_CMD_TIMEOUT_MS);
  bk_hci_tick(&R.h, 61001);
  assert_int_equal(R.lost, 0);
  /* A caller's clock a little behind the last one seen moves nothing. */
  IN("04 0f 04 00 01 0604");
  assert_int_equal(bk_hci_command(&R.h, 0x0c14, NULL, 0, NULL, NULL, 60000), 0);
  EXPECT("01 140c 00");
  assert_int_equal(bk_hci_deadline(&R.h), 61001 + BK_HCI_CMD_TIMEOUT_MS);
}

/* A controller with Extended Advertising: extended scan and create
 * connection commands (legacy ones may be disallowed once extended ones
 * were used). */
static void test_extended(void **state) {
  (void)state;
  init_controller_with("0010000000000000");
  assert_true(R.h.extended);
  assert_int_equal(bk_hci_le_scan(&R.h, true, false, NULL, NULL, 1000), 0);
  EXPECT("01 4120 08 00 00 01 00 3000 3000");
  IN("04 0e 04 01 4120 00");
  EXPECT("01 4220 06 01 00 0000 0000");
  IN("04 0e 04 01 4220 00");
  static const uint8_t peer[6] = {1, 2, 3, 4, 5, 6};
  assert_int_equal(bk_hci_le_connect(&R.h, 1, peer, NULL, NULL, 1000), 0);
  EXPECT("01 4320 1a 00 00 01 010203040506 01 6000 6000 0600 1800 0000 f401 0000 0000");
  IN("04 0f 04 00 01 4320");
  /* An Enhanced Connection Complete ends it as well as a legacy one. */
  IN("04 3e 1f 0a 00 4000 00 01 010203040506 000000000000 000000000000 1800 0000 f401 00");
  assert_int_equal(R.connected, 1);
  assert_int_equal(R.conn_handle, 0x40);
}

/* A link where we are peripheral is not ours: dropped at once. */
static void test_peripheral_link_dropped(void **state) {
  (void)state;
  init_controller();
  IN("04 3e 13 01 00 4100 01 00 010203040506 1800 0000 f401 00");
  assert_int_equal(R.connected, 0);
  EXPECT("01 0604 03 4100 13");
}


/* A new link is tuned where the controller can: LE Data Length (251
 * octets, 2120 us), then the 2M PHY both ways, one command at a time. */
static void test_tune_link(void **state) {
  (void)state;
  init_controller_with("2001000000000000"); /* Data Length and 2M PHY */
  bk_hci_le_tune_link(&R.h, 0x0040, 2000);
  EXPECT("01 2220 06 4000 fb00 4808");
  IN("04 0e 06 01 2220 00 4000");
  EXPECT("01 3220 07 4000 00 02 02 0000");
  IN("04 0f 04 00 01 3220");
}

/* Neither feature: nothing is asked. */
static void test_tune_link_without_features(void **state) {
  (void)state;
  init_controller_with("0000000000000000");
  bk_hci_le_tune_link(&R.h, 0x0040, 2000);
  assert_int_equal(R.n_out, R.checked);
}


/* A link up as central (handle 0x0040). */
static void link_up(void) {
  init_controller();
  static const uint8_t peer[6] = {1, 2, 3, 4, 5, 6};
  assert_int_equal(bk_hci_le_connect(&R.h, 0, peer, NULL, NULL, 1000), 0);
  R.checked = R.n_out; /* the create connection: tested elsewhere */
  IN("04 0f 04 00 01 0d20");
  IN("04 3e 13 01 00 4000 00 00 060504030201 1800 0000 4800 00");
  assert_int_equal(R.connected, 1);
  assert_int_equal(R.conn_status, 0);
}

/* Encrypt with a key: LE Enable Encryption, then Encryption Change, then
 * the key's size read and reported once. */
static void test_start_encryption(void **state) {
  (void)state;
  link_up();
  static const uint8_t rnd[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  static const uint8_t ltk[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
  assert_int_equal(bk_hci_le_start_encryption(&R.h, 0x40, rnd, 0x1234, ltk, 2000), 0);
  EXPECT("01 1920 1c 4000 0102030405060708 3412 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  IN("04 0f 04 00 01 1920");
  assert_int_equal(R.encryptions, 0);
  IN("04 08 04 00 4000 01");
  EXPECT("01 0814 02 4000");
  assert_int_equal(R.encryptions, 0);
  IN("04 0e 07 01 0814 00 4000 10");
  assert_int_equal(R.encryptions, 1);
  assert_int_equal(R.enc_status, 0);
  assert_int_equal(R.enc_handle, 0x40);
  assert_int_equal(R.enc_key_size, 16);
  /* A key refresh reports again. */
  IN("04 30 03 00 4000");
  EXPECT("01 0814 02 4000");
  IN("04 0e 07 01 0814 00 4000 07");
  assert_int_equal(R.encryptions, 2);
  assert_int_equal(R.enc_key_size, 7);
  /* No such link: refused at once. */
  assert_int_equal(bk_hci_le_start_encryption(&R.h, 0x41, rnd, 0, ltk, 2000),
                   BLEAK_ERR_NOT_CONNECTED);
}

/* The peer's SMP PDUs (its keys) that come between the Encryption Change
 * and the answer to Read Encryption Key Size go up after the encryption
 * is reported, in order; ATT is not held; before the Encryption Change
 * and after the report, SMP goes up at once. */
static void test_smp_held_while_key_size_read(void **state) {
  (void)state;
  link_up();
  static const uint8_t z8[8], z16[16];
  IN("02 4020 0600 0200 0600 0b01"); /* Security Request, in the clear */
  assert_int_equal(R.l2cap, 1);
  assert_int_equal(bk_hci_le_start_encryption(&R.h, 0x40, z8, 0, z16, 2000), 0);
  R.checked = R.n_out;
  IN("04 0f 04 00 01 1920");
  IN("04 08 04 00 4000 01");
  EXPECT("01 0814 02 4000");
  /* Identity Information, Identity Address Information; an ATT PDU */
  IN("02 4020 1500 1100 0600 08 b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
  IN("02 4020 0c00 0800 0600 09 00 212223242526");
  IN("02 4020 0700 0300 0400 1b 0300");
  assert_int_equal(R.l2cap, 2);
  assert_int_equal(R.l2cap_cid, 4);
  assert_int_equal(R.encryptions, 0);
  IN("04 0e 07 01 0814 00 4000 10");
  assert_int_equal(R.encryptions, 1);
  assert_int_equal(R.enc_key_size, 16);
  assert_int_equal(R.l2cap, 4);
  assert_int_equal(R.l2cap_cid, 6);
  assert_int_equal(R.l2cap_len, 8);
  assert_int_equal(R.l2cap_first, 0x09); /* the last of the two */
  assert_int_equal(R.enc_turn, R.l2cap_turn - 2); /* the report, then both */
  int all = R.l2cap;
  IN("02 4020 1500 1100 0600 0a c0c1c2c3c4c5c6c7c8c9cacbcccdcecf");
  assert_int_equal(R.l2cap, all + 1);
  assert_int_equal(R.h.links[0].smp_held_len, 0);
}

/* The peer has no such key (PIN or Key Missing), or the controller
 * refuses the command: one report with the error, no key size. */
static void test_encryption_refused(void **state) {
  (void)state;
  link_up();
  static const uint8_t z8[8], z16[16];
  assert_int_equal(bk_hci_le_start_encryption(&R.h, 0x40, z8, 0, z16, 2000), 0);
  R.checked = R.n_out;
  IN("04 0f 04 00 01 1920");
  IN("04 08 04 06 4000 00");
  assert_int_equal(R.encryptions, 1);
  assert_int_equal(R.enc_status, BLEAK_ERR_HCI(0x06));
  assert_int_equal(R.enc_key_size, 0);
  assert_int_equal(bk_hci_le_start_encryption(&R.h, 0x40, z8, 0, z16, 2000), 0);
  R.checked = R.n_out;
  IN("04 0f 04 0c 01 1920"); /* Command Disallowed */
  assert_int_equal(R.encryptions, 2);
  assert_int_equal(R.enc_status, BLEAK_ERR_HCI(0x0c));
  /* An event for a link we do not have: nothing. */
  IN("04 08 04 00 4500 01");
  assert_int_equal(R.encryptions, 2);
  assert_int_equal(R.n_out, R.checked);
}

/* A controller that does not know Read Encryption Key Size (BlueZ 5.66's
 * emulated ones answer Unknown HCI Command): the link is encrypted all the
 * same, reported with the size unknown (0), not as a failure. */
static void test_key_size_unknown(void **state) {
  (void)state;
  link_up();
  static const uint8_t z8[8], z16[16];
  assert_int_equal(bk_hci_le_start_encryption(&R.h, 0x40, z8, 0, z16, 2000), 0);
  R.checked = R.n_out;
  IN("04 0f 04 00 01 1920");
  IN("04 08 04 00 4000 01");
  EXPECT("01 0814 02 4000");
  assert_int_equal(R.encryptions, 0);
  IN("04 0f 04 01 01 0814"); /* Command Status: Unknown HCI Command */
  assert_int_equal(R.encryptions, 1);
  assert_int_equal(R.enc_status, 0);
  assert_int_equal(R.enc_key_size, 0);
}

int main(void) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_init),
      T(test_init_shared_buffers),
      T(test_init_reset_fails),
      T(test_command_credits),
      T(test_acl_credits),
      T(test_completed_lies),
      T(test_acl_in),
      T(test_command_timeout),
      T(test_command_deadline_from_now),
      T(test_peripheral_link_dropped),
      T(test_extended),
      T(test_tune_link),
      T(test_start_encryption),
      T(test_encryption_refused),
      T(test_key_size_unknown),
      T(test_smp_held_while_key_size_read),
      T(test_tune_link_without_features),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
