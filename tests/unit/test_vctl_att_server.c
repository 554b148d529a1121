/* SPDX-License-Identifier: MIT */
/* The virtual peripheral's ATT server on the guest fixture's database
 * (tests/vm/fixture/database.json, handles as BlueZ lays them out: GAP
 * 0x0001-0x0005, GATT 0x0006-0x000f, Battery 0x0010-, ..., Nordic UART
 * 0x003c-0x0041): every request with good and bad input, answers checked
 * byte for byte; permissions against the link's security; the MTU;
 * Prepare and Execute Write; a controller without room. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vctl/att_conn_priv.h"
#include "vctl_harness.h"

#define CUSTOM_SVC "010000000000009e0d4c577e0000e5b1"
#define CUSTOM_C1 "010000000000009e0d4c577e0100e5b1"

static harness H;

H_FIXTURE_SETUP(H, 0)

/* Primary services, as a client discovers them at MTU 23. */
static void test_read_by_group_type(void **state) {
  (void)state;
  h_in(&H, "10 0100 ffff 0028");
  h_expect(&H, "11 06 0100 0500 0018 0600 0f00 0118 1000 1300 0f18");
  h_in(&H, "10 1400 ffff 0028");
  h_expect(&H, "11 06 1400 1900 0d18 1a00 1e00 0a18"); /* stops before the 128-bit one */
  h_in(&H, "10 1f00 ffff 0028");
  h_expect(&H, "11 14 1f00 3b00 " CUSTOM_SVC);
  h_in(&H, "10 3c00 ffff 0028");
  h_expect(&H, "11 14 3c00 4100 9ecadc240ee5a9e093f3a3b5 0100406e");
  h_in(&H, "10 4200 ffff 0028");
  h_expect(&H, "01 10 4200 0a");
  h_in(&H, "10 0100 ffff 0128"); /* no secondary services */
  h_expect(&H, "01 10 0100 0a");
  h_in(&H, "10 0100 ffff 0328"); /* not a grouping type */
  h_expect(&H, "01 10 0100 10");
  h_in(&H, "10 0000 ffff 0028");
  h_expect(&H, "01 10 0000 01");
  h_in(&H, "10 0500 0400 0028");
  h_expect(&H, "01 10 0500 01");
  h_in(&H, "10 0100 ffff 00"); /* neither 2 nor 16 bytes of type */
  h_expect(&H, "01 10 0000 04");
}

static void test_read_by_type(void **state) {
  (void)state;
  /* Characteristic declarations of Battery and Heart Rate. */
  h_in(&H, "08 1000 1300 0328");
  h_expect(&H, "09 07 1100 12 1200 192a");
  h_in(&H, "08 1400 1900 0328");
  h_expect(&H, "09 07 1500 10 1600 372a 1800 02 1900 382a");
  /* 128-bit ones: one 21-byte entry fits MTU 23. */
  h_in(&H, "08 2000 3b00 0328");
  h_expect(&H, "09 15 2000 02 2100 " CUSTOM_C1);
  h_in(&H, "08 0100 ffff 0328 00"); /* a type of 3 bytes */
  h_expect(&H, "01 08 0000 04");
  h_in(&H, "08 0000 ffff 0328");
  h_expect(&H, "01 08 0000 01");
}

/* Read Using Characteristic UUID. */
static void test_read_by_type_values(void **state) {
  (void)state;
  /* Both twins (c(10)) at once. */
  h_in(&H, "08 0100 ffff 010000000000009e0d4c577e0a00e5b1");
  h_expect(&H, "09 08 3700 7477696e2d31 3900 7477696e2d32");
  /* The first one found is not readable: its error, its handle. */
  h_in(&H, "08 0100 ffff 372a");
  h_expect(&H, "01 08 1600 02");
  h_in(&H, "08 0100 ffff 010000000000009e0d4c577e0b00e5b1");
  h_expect(&H, "01 08 3b00 0f");
  h_in(&H, "08 0100 ffff ffff");
  h_expect(&H, "01 08 0100 0a");
  h_in(&H, "08 0100 ffff 2a2b"); /* Database Hash: the database's */
  assert_int_equal(H.sent_len[H.read], 2 + 2 + 16);
  assert_memory_equal(H.sent[H.read], "\x09\x12\x0d\x00", 4);
  assert_memory_equal(H.sent[H.read] + 4, H.list[0]->db.hash, 16);
  uint8_t zero[16] = {0};
  assert_memory_not_equal(H.list[0]->db.hash, zero, 16);
  h_drain(&H);
}

static void test_find_information(void **state) {
  (void)state;
  h_in(&H, "04 0100 0500");
  h_expect(&H, "05 01 0100 0028 0200 0328 0300 002a 0400 0328 0500 012a");
  h_in(&H, "04 2100 2200"); /* stops where the UUID's size changes */
  h_expect(&H, "05 02 2100 " CUSTOM_C1);
  h_in(&H, "04 1600 1700");
  h_expect(&H, "05 01 1600 372a 1700 0229");
  h_in(&H, "04 4200 ffff");
  h_expect(&H, "01 04 4200 0a");
  h_in(&H, "04 0000 0100");
  h_expect(&H, "01 04 0000 01");
  h_in(&H, "04 0300 0200");
  h_expect(&H, "01 04 0300 01");
  h_in(&H, "04 0100");
  h_expect(&H, "01 04 0000 04");
}

static void test_find_by_type_value(void **state) {
  (void)state;
  h_in(&H, "06 0100 ffff 0028 0d18");
  h_expect(&H, "07 1400 1900");
  h_in(&H, "06 0100 ffff 0028 " CUSTOM_SVC);
  h_expect(&H, "07 1f00 3b00");
  h_in(&H, "06 2000 ffff 0028 0d18");
  h_expect(&H, "01 06 2000 0a");
  h_in(&H, "06 0100 ffff 0229 0000"); /* non-grouping: the end is the handle */
  h_expect(&H, "07 0900 0900 1300 1300 1700 1700 2c00 2c00 2f00 2f00");
  h_in(&H, "06 0100 0000 0028 0d18");
  h_expect(&H, "01 06 0100 01");
  h_in(&H, "06 0100 ffff 00");
  h_expect(&H, "01 06 0000 04");
}

static void test_read(void **state) {
  (void)state;
  h_in(&H, "0a 0300"); /* GAP Device Name: the local name */
  h_expect(&H, "0b 626c65616b2d6678");
  h_in(&H, "0a 0500");
  h_expect(&H, "0b 0000");
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 57");
  h_in(&H, "0a 2100");
  h_expect(&H, "0b 68656c6c6f20626c65616b2d63");
  h_in(&H, "0a 0200"); /* a declaration */
  h_expect(&H, "0b 02 0300 002a");
  h_in(&H, "0a 1600"); /* notify only */
  h_expect(&H, "01 0a 1600 02");
  h_in(&H, "0a 0800"); /* Service Changed: indicate only */
  h_expect(&H, "01 0a 0800 02");
  h_in(&H, "0a 9900");
  h_expect(&H, "01 0a 9900 01");
  h_in(&H, "0a 0000");
  h_expect(&H, "01 0a 0000 01");
  h_in(&H, "0a 03");
  h_expect(&H, "01 0a 0000 04");
  h_in(&H, "0a 030000");
  h_expect(&H, "01 0a 0000 04");
  /* A 512-byte value: MTU - 1 bytes, then blobs. */
  h_in(&H, "0a 3100");
  h_expect(&H, "0b 000102030405060708090a0b0c0d0e0f101112131415");
  h_in(&H, "0c 3100 1600");
  h_expect(&H, "0d 161718191a1b1c1d1e1f202122232425262728292a2b");
  h_in(&H, "0c 3100 fa01"); /* offset 506: the last 6 */
  h_expect(&H, "0d fafbfcfdfeff");
  h_in(&H, "0c 3100 0002");
  h_expect(&H, "0d");
  h_in(&H, "0c 3100 0102");
  h_expect(&H, "01 0c 3100 07");
  h_in(&H, "0c 0200 0000"); /* a declaration is not long */
  h_expect(&H, "01 0c 0200 0b");
  h_in(&H, "0c 1300 0000");
  h_expect(&H, "01 0c 1300 0b");
  h_in(&H, "0c 3100 00");
  h_expect(&H, "01 0c 0000 04");
}

static void test_read_multiple(void **state) {
  (void)state;
  h_in(&H, "0e 0300 1200");
  h_expect(&H, "0f 626c65616b2d6678 57");
  h_in(&H, "20 0300 1200");
  h_expect(&H, "21 0800 626c65616b2d6678 0100 57");
  h_in(&H, "0e 0300 9900");
  h_expect(&H, "01 0e 9900 01");
  h_in(&H, "20 1600 0300");
  h_expect(&H, "01 20 1600 02");
  h_in(&H, "0e 0300");
  h_expect(&H, "01 0e 0000 04");
  h_in(&H, "0e 0300 12");
  h_expect(&H, "01 0e 0000 04");
  /* Cut to MTU - 1: 22 bytes of the long value, and its length whole. */
  h_in(&H, "20 3100 1200");
  h_expect(&H, "21 0002 000102030405060708090a0b0c0d0e0f10111213");
  h_in(&H, "0e 1200 3100");
  h_expect(&H, "0f 57 000102030405060708090a0b0c0d0e0f1011121314");
}

static void test_mtu(void **state) {
  (void)state;
  h_in(&H, "02 0002");
  h_expect(&H, "03 0502");
  h_in(&H, "0a 3100"); /* MTU 512: 511 bytes */
  assert_int_equal(H.sent_len[H.read], 512);
  h_drain(&H);
  h_in(&H, "02 0500"); /* below 23 counts as 23 */
  h_expect(&H, "03 0502");
  h_in(&H, "0a 3100");
  assert_int_equal(H.sent_len[H.read], 23);
  h_drain(&H);
  h_in(&H, "02 00");
  h_expect(&H, "01 02 0000 04");
  /* A controller that takes 100 at most. */
  vctl_att_conn *c2 = h_conn(&H, 0, 100);
  h_in_at(&H, c2, "02 0502");
  h_expect(&H, "03 6400");
  h_in_at(&H, c2, "0a 3100");
  assert_int_equal(H.sent_len[H.read], 100);
  h_drain(&H);
  vctl_att_conn_free(c2);
}

static void test_write(void **state) {
  (void)state;
  h_in(&H, "12 2300 deadbeef");
  h_expect(&H, "13");
  h_in(&H, "0a 2300");
  h_expect(&H, "0b deadbeef");
  h_in(&H, "12 2300 50"); /* a shorter value replaces it */
  h_expect(&H, "13");
  h_in(&H, "0a 2300");
  h_expect(&H, "0b 50");
  h_in(&H, "12 2100 00"); /* read-only */
  h_expect(&H, "01 12 2100 03");
  h_in(&H, "12 0200 00"); /* a declaration */
  h_expect(&H, "01 12 0200 03");
  h_in(&H, "12 2500 00"); /* write without response only */
  h_expect(&H, "01 12 2500 03");
  h_in(&H, "12 9900 00");
  h_expect(&H, "01 12 9900 01");
  h_in(&H, "12 23");
  h_expect(&H, "01 12 0000 04");
  h_in(&H, "12 2300"); /* an empty value is a value */
  h_expect(&H, "13");
  /* Write Commands: never an answer; refused ones change nothing. */
  h_in(&H, "52 2300 77"); /* c(2) has no write-without-response */
  h_in(&H, "52 2100 77");
  h_in(&H, "52 99");
  h_in(&H, "d2 2300 77 000000000000000000000000"); /* signed: refused */
  h_none(&H);
  h_in(&H, "0a 2300");
  h_expect(&H, "0b");
  /* A descriptor: written, read back; the read-only one refuses. */
  h_in(&H, "12 3400 1234");
  h_expect(&H, "13");
  h_in(&H, "0a 3400");
  h_expect(&H, "0b 1234");
  h_in(&H, "0a 3500"); /* 23 bytes: MTU - 1 of them */
  h_expect(&H, "0b 626c65616b2d632064657363726970746f7220746573");
  h_in(&H, "12 3500 00");
  h_expect(&H, "01 12 3500 03");
}

static void test_write_too_long(void **state) {
  (void)state;
  h_in(&H, "02 0502");
  h_expect(&H, "03 0502");
  uint8_t pdu[3 + 513] = {0x12, 0x23, 0x00};
  vctl_att_conn_input(H.c, pdu, sizeof pdu, 0);
  h_expect(&H, "01 12 2300 0d");
  vctl_att_conn_input(H.c, pdu, sizeof pdu - 1, 0); /* 512: fits */
  h_expect(&H, "13");
}

static void test_cccd(void **state) {
  (void)state;
  vctl_att_conn *c2 = h_conn(&H, 0, 517);
  h_in(&H, "12 1300 0100");
  h_expect(&H, "13");
  h_in(&H, "0a 1300");
  h_expect(&H, "0b 0100");
  h_in_at(&H, c2, "0a 1300"); /* per connection */
  h_expect(&H, "0b 0000");
  h_in(&H, "12 1300 0200"); /* Battery Level does not indicate */
  h_expect(&H, "01 12 1300 fd");
  h_in(&H, "12 1300 01");
  h_expect(&H, "01 12 1300 0d");
  h_in(&H, "12 1300 010000");
  h_expect(&H, "01 12 1300 0d");
  h_in(&H, "12 1300 0000");
  h_expect(&H, "13");
  h_in(&H, "0a 1300");
  h_expect(&H, "0b 0000");
  vctl_att_conn_free(c2);
}

static void test_client_supported_features(void **state) {
  (void)state;
  h_in(&H, "0a 0b00");
  h_expect(&H, "0b 00");
  h_in(&H, "12 0b00 01");
  h_expect(&H, "13");
  h_in(&H, "0a 0b00");
  h_expect(&H, "0b 01");
  h_in(&H, "12 0b00 00"); /* a bit once set stays */
  h_expect(&H, "01 12 0b00 13");
  h_in(&H, "12 0b00 0101");
  h_expect(&H, "01 12 0b00 0d");
}

static void test_security(void **state) {
  (void)state;
  h_in(&H, "0a 3b00");
  h_expect(&H, "01 0a 3b00 0f");
  h_in(&H, "12 3b00 41");
  h_expect(&H, "01 12 3b00 0f");
  vctl_att_conn_set_security(H.c, true, false, 16);
  h_in(&H, "0a 3b00");
  h_expect(&H, "0b 736563726574");
  h_in(&H, "12 3b00 41");
  h_expect(&H, "13");
  vctl_att_conn_set_security(H.c, true, false, 6); /* a key too short */
  h_in(&H, "0a 3b00");
  h_expect(&H, "01 0a 3b00 0c");
  vctl_att_conn_set_security(H.c, false, false, 0);
  h_in(&H, "0a 3b00");
  h_expect(&H, "01 0a 3b00 0f");
}

static void test_authenticated(void **state) {
  (void)state;
  harness h;
  h_open_string(&h,
                "{\"services\": [{\"uuid\": \"1234\", \"characteristics\": ["
                "{\"uuid\": \"2a00\", \"properties\": [\"encrypt-authenticated-read\", "
                "\"encrypt-authenticated-write\"], \"value\": \"x\"}]}]}",
                517);
  h_in(&h, "0a 1200");
  h_expect(&h, "01 0a 1200 05");
  vctl_att_conn_set_security(h.c, true, false, 16);
  h_in(&h, "0a 1200");
  h_expect(&h, "01 0a 1200 05");
  h_in(&h, "12 1200 79");
  h_expect(&h, "01 12 1200 05");
  vctl_att_conn_set_security(h.c, true, true, 16);
  h_in(&h, "12 1200 79");
  h_expect(&h, "13");
  h_in(&h, "0a 1200");
  h_expect(&h, "0b 79");
  h_none(&h);
  h_close(&h);
}

static void test_prepare_execute(void **state) {
  (void)state;
  h_in(&H, "16 3100 0000 0102");
  h_expect(&H, "17 3100 0000 0102");
  h_in(&H, "16 3100 0200 0304");
  h_expect(&H, "17 3100 0200 0304");
  h_in(&H, "0a 3100"); /* nothing written before the execute */
  h_expect(&H, "0b 000102030405060708090a0b0c0d0e0f101112131415");
  h_in(&H, "18 01");
  h_expect(&H, "19");
  h_in(&H, "0a 3100");
  h_expect(&H, "0b 01020304");
  /* Cancelled: nothing changes. */
  h_in(&H, "16 3100 0000 ff");
  h_expect(&H, "17 3100 0000 ff");
  h_in(&H, "18 00");
  h_expect(&H, "19");
  h_in(&H, "0a 3100");
  h_expect(&H, "0b 01020304");
  /* Offsets past the value fail at the execute, all or nothing. */
  h_in(&H, "16 2300 0000 aa");
  h_expect(&H, "17 2300 0000 aa");
  h_in(&H, "16 3100 0900 aa");
  h_expect(&H, "17 3100 0900 aa");
  h_in(&H, "18 01");
  h_expect(&H, "01 18 3100 07");
  h_in(&H, "0a 2300");
  h_expect(&H, "0b 00");
  h_in(&H, "18 01"); /* the queue went with the error */
  h_expect(&H, "19");
  /* Past 512 bytes. */
  h_in(&H, "16 3100 ff01 0102");
  h_expect(&H, "17 3100 ff01 0102");
  h_in(&H, "18 01");
  h_expect(&H, "01 18 3100 07"); /* offset 511 > 4: invalid offset first */
  h_in(&H, "16 2100 0000 00");
  h_expect(&H, "01 16 2100 03");
  h_in(&H, "16 9900 0000 00");
  h_expect(&H, "01 16 9900 01");
  h_in(&H, "16 3100 00");
  h_expect(&H, "01 16 0000 04");
  h_in(&H, "18 02");
  h_expect(&H, "01 18 0000 04");
  h_in(&H, "18");
  h_expect(&H, "01 18 0000 04");
  /* The queue holds 128 writes. */
  for (int i = 0; i < 128; i++) {
    h_in(&H, "16 3100 0000 01");
    h_expect(&H, "17 3100 0000 01");
  }
  h_in(&H, "16 3100 0000 01");
  h_expect(&H, "01 16 3100 09");
  h_in(&H, "18 00");
  h_expect(&H, "19");
}

static void test_long_write_grows(void **state) {
  (void)state;
  /* c(8) written long: 512 bytes at MTU 23 in 18-byte pieces. */
  char pdu[64];
  for (int off = 0; off < 36; off += 18) {
    snprintf(pdu, sizeof pdu, "16 3100 %02x00 %s", off,
             "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1");
    h_in(&H, pdu);
    h_drain(&H);
  }
  h_in(&H, "18 01");
  h_expect(&H, "19");
  h_in(&H, "0c 3100 1200");
  h_expect(&H, "0d a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1");
  h_in(&H, "0c 3100 2400");
  h_expect(&H, "0d");
}

static void test_unknown_opcodes(void **state) {
  (void)state;
  h_in(&H, "30 0100");
  h_expect(&H, "01 30 0000 06");
  h_in(&H, "3f");
  h_expect(&H, "01 3f 0000 06");
  h_in(&H, "70 00"); /* a command nobody knows */
  h_in(&H, "0b 00"); /* a response, to a server */
  h_in(&H, "1b 1200 00");
  h_in(&H, "1e"); /* a confirmation nobody asked for */
  h_in(&H, "1e 00");
  h_none(&H);
  vctl_att_conn_input(H.c, NULL, 0, 0);
  vctl_att_conn_input(H.c, (const uint8_t *)"", 0, 0);
  h_none(&H);
}

static void test_no_room(void **state) {
  (void)state;
  H.full = true;
  h_in(&H, "0a 1200");
  h_in(&H, "0a 2100");
  assert_int_equal(H.n_sent, 0);
  vctl_att_conn_writable(H.c, 0); /* still full */
  assert_int_equal(H.n_sent, 0);
  H.full = false;
  vctl_att_conn_writable(H.c, 0);
  h_expect(&H, "0b 57");
  h_expect(&H, "0b 68656c6c6f20626c65616b2d63");
  h_in(&H, "0a 1200"); /* straight out again */
  h_expect(&H, "0b 57");
}

static void test_notification_cut_to_mtu(void **state) {
  (void)state;
  /* The UART echo of 30 bytes at MTU 23: 20 of them, upper-cased. */
  h_in(&H, "12 3f00 0100");
  h_expect(&H, "13");
  h_in(&H, "52 4100 6162636465666768696a6b6c6d6e6f707172737475767778797a31323334");
  h_expect(&H, "1b 3e00 4142434445464748494a4b4c4d4e4f5051525354");
}

static void test_faults(void **state) {
  (void)state;
  /* An error on a chosen handle. */
  vctl_att_faults f = {.error_handle = 0x12, .error_code = 0x80};
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "0a 1200");
  h_expect(&H, "01 0a 1200 80");
  h_in(&H, "12 1200 00");
  h_expect(&H, "01 12 1200 80");
  h_in(&H, "0a 2100");
  h_expect(&H, "0b 68656c6c6f20626c65616b2d63");
  /* Answers delayed, in order. */
  f = (vctl_att_faults){.delay_ms = 50};
  vctl_att_conn_set_faults(H.c, &f);
  H.now = 100;
  h_in(&H, "0a 1200");
  H.now = 120;
  h_in(&H, "0a 0300");
  h_none(&H);
  assert_int_equal(vctl_att_conn_deadline(H.c), 150);
  h_run_until(&H, H.c, 150);
  h_expect(&H, "0b 57");
  h_none(&H);
  h_run_until(&H, H.c, 170);
  h_expect(&H, "0b 626c65616b2d6678");
  /* Silent: nothing at all. */
  f = (vctl_att_faults){.silent = true};
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "0a 1200");
  h_none(&H);
  /* A small MTU offered. */
  f = (vctl_att_faults){.max_mtu = 30};
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "02 0002");
  h_expect(&H, "03 1e00");
  /* A raw PDU, malformed on purpose, cut to the MTU. */
  vctl_att_conn_send_raw(H.c, (const uint8_t *)"\x1b\x12", 2, H.now);
  h_expect(&H, "1b 12");
  /* The third PDU drops the link. */
  f = (vctl_att_faults){.drop_after = 3};
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "0a 1200");
  h_in(&H, "52 2300 00");
  h_expect(&H, "0b 57");
  assert_int_equal(H.disconnects, 0);
  h_in(&H, "0a 1200");
  assert_int_equal(H.disconnects, 1);
  assert_int_equal(H.reason, 0x13);
  h_none(&H);
  assert_int_equal(vctl_att_conn_deadline(H.c), UINT64_MAX);
  vctl_att_conn_set_faults(H.c, NULL);
  h_in(&H, "0a 1200"); /* gone for good */
}

/* The next PDU of one opcode drops the link, unanswered; others pass. */
static void test_fault_drop_opcode(void **state) {
  (void)state;
  vctl_att_faults f = {.drop_opcode = 0x12};
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 57");
  h_in(&H, "52 2300 00"); /* a Write Command is another opcode */
  assert_int_equal(H.disconnects, 0);
  h_in(&H, "12 2300 00");
  assert_int_equal(H.disconnects, 1);
  assert_int_equal(H.reason, 0x13);
  h_none(&H);
  h_in(&H, "0a 1200"); /* dead: nothing more */
  h_none(&H);
  assert_int_equal(H.disconnects, 1);
}

/* The client's confirmation can be the opcode too. */
static void test_fault_drop_confirm(void **state) {
  (void)state;
  h_in(&H, "12 0900 0200"); /* Service Changed indications on */
  h_expect(&H, "13");
  vctl_att_faults f = {.drop_opcode = 0x1e};
  vctl_att_conn_set_faults(H.c, &f);
  vctl_att_service_changed(H.list[0], 0x0001, 0xffff);
  h_expect(&H, "1d 0800 0100 ffff");
  assert_int_equal(H.disconnects, 0);
  h_in(&H, "1e");
  assert_int_equal(H.disconnects, 1);
}

/* One request answered with the fault's bytes, the next one as usual;
 * commands and confirmations do not use it up. */
static void test_fault_malformed_once(void **state) {
  (void)state;
  vctl_att_faults f = {.malformed_len = 3, .malformed = {0x0b, 0xde, 0xad}};
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "52 2300 00");
  h_none(&H);
  h_in(&H, "0a 1200");
  h_expect(&H, "0b dead");
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 57");
  /* Longer than the MTU: cut to it (23). */
  f.malformed_len = 32;
  memset(f.malformed, 0xee, sizeof f.malformed);
  vctl_att_conn_set_faults(H.c, &f);
  h_in(&H, "0a 1200");
  assert_int_equal(H.sent_len[H.read], 23);
  assert_int_equal(H.sent[H.read][22], 0xee);
  h_drain(&H);
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 57");
}

/* A peripheral's faults reach its open connections and the ones to come;
 * NULL clears both. */
static void test_peripheral_faults(void **state) {
  (void)state;
  const vctl_att_faults *now = vctl_peripheral_faults(H.list[0]);
  assert_non_null(now);
  assert_int_equal(now->error_code, 0);
  vctl_att_faults f = {.error_handle = 0x12, .error_code = 0x80, .max_mtu = 40};
  vctl_peripheral_set_faults(H.list[0], &f);
  assert_int_equal(vctl_peripheral_faults(H.list[0])->error_handle, 0x12);
  assert_int_equal(vctl_peripheral_faults(H.list[0])->max_mtu, 40);
  h_in(&H, "0a 1200");
  h_expect(&H, "01 0a 1200 80");
  vctl_att_conn *c2 = h_conn(&H, 0, 517);
  h_in_at(&H, c2, "0a 1200");
  h_expect(&H, "01 0a 1200 80");
  h_in_at(&H, c2, "02 0002");
  h_expect(&H, "03 2800");
  vctl_peripheral_set_faults(H.list[0], NULL);
  assert_int_equal(vctl_peripheral_faults(H.list[0])->error_code, 0);
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 57");
  h_in_at(&H, c2, "0a 1200");
  h_expect(&H, "0b 57");
  vctl_att_conn *c3 = h_conn(&H, 0, 517);
  h_in_at(&H, c3, "0a 1200");
  h_expect(&H, "0b 57");
  /* drop_after counts again from 0 on each connection. */
  f = (vctl_att_faults){.drop_after = 2};
  vctl_peripheral_set_faults(H.list[0], &f);
  h_in_at(&H, c3, "0a 1200");
  h_expect(&H, "0b 57");
  h_in_at(&H, c3, "0a 1200");
  assert_int_equal(H.disconnects, 1);
  vctl_att_conn_free(c2);
  vctl_att_conn_free(c3);
  vctl_peripheral_set_faults(H.list[0], NULL);
}

/* Service Changed with a new database: indicated to the subscribed
 * connection (not to the other), the new database served to both, the old
 * one handed back to be freed (ASan's leak check sees it go). */
static void test_replace_db(void **state) {
  (void)state;
  vctl_att_conn *other = h_conn(&H, 0, 517);
  h_in(&H, "12 0900 0200");
  h_expect(&H, "13");
  vctl_peripheral **next;
  size_t n;
  char err[256];
  static const char json[] =
      "{\"services\":[{\"uuid\":\"180f\",\"characteristics\":["
      "{\"uuid\":\"2a19\",\"properties\":[\"read\",\"notify\"],\"value_hex\":\"2a\"}]},"
      "{\"uuid\":\"1234\",\"characteristics\":["
      "{\"uuid\":\"5678\",\"properties\":[\"read\",\"write\"],\"value\":\"new\"}]}]}";
  if (vctl_peripherals_load_string(json, "new.json", &next, &n, err, sizeof err))
    fail_msg("%s", err);
  assert_int_equal(n, 1);
  assert_int_equal(vctl_peripheral_replace_db(H.list[0], next[0]), 0);
  h_expect(&H, "1d 0800 0100 ffff");
  h_none(&H);
  vctl_peripherals_free(next, n); /* the old database goes with it */
  h_in(&H, "1e");
  h_none(&H);
  /* The new services, at the handles after BlueZ's own. */
  h_in(&H, "10 0100 ffff 0028");
  h_expect(&H, "11 06 0100 0500 0018 0600 0f00 0118 1000 1300 0f18");
  h_in(&H, "10 1400 ffff 0028");
  h_expect(&H, "11 06 1400 1600 3412");
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 2a");
  h_in_at(&H, other, "0a 1600");
  h_expect(&H, "0b 6e6577");
  h_in_at(&H, other, "0a 3100"); /* the old long value is gone */
  h_expect(&H, "01 0a 3100 01");
  assert_int_equal(vctl_peripheral_find_char(H.list[0], "5678", 0), 0x16);
  assert_int_equal(vctl_peripheral_find_char(H.list[0], "2a37", 0), 0);
  assert_int_equal(vctl_peripheral_replace_db(H.list[0], NULL), -1);
  vctl_att_conn_free(other);
}

typedef struct seen_writes {
  int count;
  uint16_t handle;
  uint8_t value[8];
  size_t len;
  bool command;
} seen_writes;

static void on_write_seen(void *ctx, uint16_t handle, const uint8_t *value, size_t len,
                          bool command) {
  seen_writes *s = ctx;
  s->count++;
  s->handle = handle;
  s->len = len < sizeof s->value ? len : sizeof s->value;
  memcpy(s->value, value, s->len);
  s->command = command;
}

static void test_write_observer(void **state) {
  (void)state;
  seen_writes seen = {0};
  vctl_peripheral_observe_writes(H.list[0], on_write_seen, &seen);
  h_in(&H, "12 2300 0102");
  h_expect(&H, "13");
  assert_int_equal(seen.count, 1);
  assert_int_equal(seen.handle, 0x23);
  assert_int_equal(seen.len, 2);
  assert_false(seen.command);
  h_in(&H, "52 2500 03000000");
  assert_int_equal(seen.count, 2);
  assert_true(seen.command);
  assert_memory_equal(seen.value, "\x03\x00\x00\x00", 4);
  h_in(&H, "12 2100 00"); /* refused: not seen */
  h_expect(&H, "01 12 2100 03");
  h_in(&H, "16 3100 0000 0a0b");
  h_in(&H, "18 01");
  h_drain(&H);
  assert_int_equal(seen.count, 3);
  assert_int_equal(seen.handle, 0x31);
  assert_memory_equal(seen.value, "\x0a\x0b", 2);
  vctl_peripheral_observe_writes(H.list[0], NULL, NULL);
  h_in(&H, "12 2300 00");
  h_expect(&H, "13");
  assert_int_equal(seen.count, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_read_by_group_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_by_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_by_type_values, setup, teardown),
      cmocka_unit_test_setup_teardown(test_find_information, setup, teardown),
      cmocka_unit_test_setup_teardown(test_find_by_type_value, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_multiple, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mtu, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_too_long, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cccd, setup, teardown),
      cmocka_unit_test_setup_teardown(test_client_supported_features, setup, teardown),
      cmocka_unit_test_setup_teardown(test_security, setup, teardown),
      cmocka_unit_test(test_authenticated),
      cmocka_unit_test_setup_teardown(test_prepare_execute, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_write_grows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_opcodes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_room, setup, teardown),
      cmocka_unit_test_setup_teardown(test_notification_cut_to_mtu, setup, teardown),
      cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_observer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fault_drop_opcode, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fault_drop_confirm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fault_malformed_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_peripheral_faults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_db, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
