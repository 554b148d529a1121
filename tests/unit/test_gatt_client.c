/* SPDX-License-Identifier: MIT */
/*
 * PDU replay tests of the ATT bearer and the GATT client procedures, in the
 * spirit of BlueZ's unit/test-gatt.c: each case is a script of the PDUs we
 * must send (EXPECT) and the server's answers (INJECT), named after the
 * GATT conformance test it mirrors (TP/GAD/CL/BV-01-C: Discover All
 * Primary Services...). After each case nothing is pending and every PDU
 * sent was checked; ASan and valgrind catch what leaked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/att_bearer.h"
#include "backend/hci/gatt_client.h"
#include "bleak/error.h"
#include "bleak/gatt.h"
#include "bleak/log.h"
#include "hex.h"

#define MAXPDU 600
#define SVC128 "f0debc9a785634127856341278563412"  /* 12345678-...-56789abcdef0 */
#define CHR128 "f1debc9a785634127856341278563412"  /* ...def1 */
#define DSC128 "f2debc9a785634127856341278563412"  /* ...def2 */

typedef struct rig {
  bk_att att;
  uint8_t out[64][MAXPDU];
  size_t out_len[64];
  size_t n_out, checked;
  int send_err;
  uint64_t deadline_seen; /* bk_att_deadline() from inside send */
  int timeouts;
  uint64_t now;
  /* values received */
  int n_values;
  uint16_t value_handle;
  uint8_t value[MAXPDU];
  size_t value_len;
  bool indication;
  /* procedure results */
  int done, status;
  bleak_gatt_services *services;
  unsigned requests;
  uint8_t result[MAXPDU * 2];
  size_t result_len;
  size_t n_list;
  uint16_t list_h[16], list_e[16];
} rig;

static rig R;

static int fake_send(void *owner, const uint8_t *pdu, size_t len) {
  rig *r = owner;
  r->deadline_seen = bk_att_deadline(&r->att);
  if (r->send_err)
    return r->send_err;
  assert_true(r->n_out < 64);
  assert_true(len <= MAXPDU);
  memcpy(r->out[r->n_out], pdu, len);
  r->out_len[r->n_out++] = len;
  return 0;
}

static void fake_value(void *owner, uint16_t h, const uint8_t *v, size_t len, bool ind) {
  rig *r = owner;
  r->n_values++;
  r->value_handle = h;
  memcpy(r->value, v, len);
  r->value_len = len;
  r->indication = ind;
}

static void fake_timeout(void *owner) { ((rig *)owner)->timeouts++; }

static const bk_att_ops ops = {fake_send, fake_value, fake_timeout};

#define EXPECT(hex) expect_pdu(hex, __LINE__)
static void expect_pdu(const char *hex, int line) {
  uint8_t want[MAXPDU];
  size_t n = test_unhex(hex, want, sizeof want);
  if (R.checked >= R.n_out)
    fail_msg("line %d: nothing sent, expected %s", line, hex);
  if (R.out_len[R.checked] != n || memcmp(R.out[R.checked], want, n) != 0) {
    char got[3 * MAXPDU + 1] = "";
    for (size_t i = 0; i < R.out_len[R.checked] && i < MAXPDU; i++)
      sprintf(got + 2 * i, "%02x", R.out[R.checked][i]);
    fail_msg("line %d: sent %s, expected %s", line, got, hex);
  }
  R.checked++;
}

static void INJECT(const char *hex) {
  uint8_t b[MAXPDU];
  size_t n = test_unhex(hex, b, sizeof b);
  bk_att_recv(&R.att, b, n, R.now);
}

static void NOTHING_MORE(void) {
  assert_int_equal(R.checked, R.n_out);
  assert_int_equal(bk_att_pending(&R.att), 0);
}

static int setup(void **state) {
  (void)state;
  memset(&R, 0, sizeof R);
  R.now = 1000;
  bk_att_init(&R.att, &ops, &R, 517);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  NOTHING_MORE();
  if (R.services)
    bleak_gatt_services_unref(R.services);
  return 0;
}

static void on_discovered(void *user, int status, bleak_gatt_services *s, unsigned requests) {
  rig *r = user;
  r->done++;
  r->status = status;
  r->services = s;
  r->requests = requests;
}

static void on_value(void *user, int status, const uint8_t *v, size_t len) {
  rig *r = user;
  r->done++;
  r->status = status;
  if (len)
    memcpy(r->result, v, len);
  r->result_len = len;
}

static void on_done(void *user, int status) {
  rig *r = user;
  r->done++;
  r->status = status;
}

static void on_list(void *user, int status, size_t n, const uint16_t *h, const uint16_t *e,
                    const bleak_uuid *u) {
  rig *r = user;
  (void)u;
  r->done++;
  r->status = status;
  r->n_list = n;
  for (size_t i = 0; i < n && i < 16; i++) {
    r->list_h[i] = h[i];
    r->list_e[i] = e[i];
  }
}

static void on_mtu(void *user, int status, const bk_att_pdu *rsp, uint64_t now) {
  (void)rsp;
  (void)now;
  on_done(user, status);
}

/* TP/GAC/CL/BV-01-C: Exchange MTU; the smaller of the two wins. */
static void test_exchange_mtu(void **state) {
  (void)state;
  assert_int_equal(bk_att_exchange_mtu(&R.att, on_mtu, &R, R.now), 0);
  EXPECT("02 0502");
  assert_int_equal(R.done, 0);
  INJECT("03 4000");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, 0);
  assert_int_equal(R.att.mtu, 64);
}

/* The server's own Exchange MTU request is answered; the peer discovering
 * us finds nothing. */
static void test_server_requests_answered(void **state) {
  (void)state;
  INJECT("02 0001");
  EXPECT("03 0502");
  assert_int_equal(R.att.mtu, 256);
  INJECT("10 0100 ffff 0028");
  EXPECT("01 10 0100 0a");
  INJECT("0a 0300");
  EXPECT("01 0a 0300 01");
  INJECT("52 0300 00"); /* a command: no answer */
  INJECT("1e");         /* a stray confirmation: dropped */
  INJECT("13");         /* a response to nothing: dropped */
  assert_int_equal(R.att.dropped, 2);
}

/* TP/GAD/CL/BV-01-C, BV-04-C, BV-06-C: all primary services, all
 * characteristics, all descriptors, at MTU 23, in the fewest requests:
 * characteristics over the whole span, descriptors over merged spans. */
static void test_discover_all(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_discover(&R.att, on_discovered, &R, R.now, NULL), 0);
  EXPECT("10 0100 ffff 0028");
  INJECT("11 06 0100 0500 0018 0600 0900 0118");
  EXPECT("10 0a00 ffff 0028");
  INJECT("11 14 1000 1800 " SVC128);
  EXPECT("10 1900 ffff 0028");
  INJECT("01 10 1900 0a");
  EXPECT("08 0100 1800 0328");
  INJECT("09 07 0200 02 0300 002a 0400 02 0500 012a 0700 20 0800 052a");
  EXPECT("08 0800 1800 0328");
  INJECT("09 15 1100 1a 1200 " CHR128);
  EXPECT("08 1200 1800 0328");
  INJECT("09 07 1500 0c 1600 192a");
  EXPECT("08 1600 1800 0328");
  INJECT("01 08 1600 0a");
  /* Descriptors: 0x0009 is the CCCD of 0x0007 (it indicates and has room
   * for one descriptor: not asked); then 0x0013 to 0x0018 in one span
   * across the 16-bit characteristic 0x0015. */
  EXPECT("04 1300 1800");
  INJECT("05 01 1300 0229 1400 0129 1500 0328 1600 192a 1700 0229");
  EXPECT("04 1800 1800");
  assert_int_equal(R.done, 0);
  INJECT("05 02 1800 " DSC128);
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, 0);
  assert_int_equal(R.requests, 9);
  bleak_gatt_services *s = R.services;
  assert_non_null(s);
  assert_int_equal(bleak_gatt_services_count(s), 3);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 5);
  assert_int_equal(bleak_gatt_services_descriptor_count(s), 5);
  const bleak_gatt_characteristic *c = bleak_gatt_services_get_characteristic_by_handle(s, 0x0011);
  assert_non_null(c);
  assert_int_equal(bleak_gatt_characteristic_value_handle(c), 0x0012);
  assert_int_equal(bleak_gatt_characteristic_properties(c), 0x1a);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(c), 2);
  char u[BLEAK_UUID_STR_LEN];
  assert_string_equal(bleak_uuid_to_string(bleak_gatt_characteristic_uuid(c), u),
                      "12345678-1234-5678-1234-56789abcdef1");
  c = bleak_gatt_services_get_characteristic_by_handle(s, 0x0015);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(c), 2);
  const bleak_gatt_descriptor *d = bleak_gatt_characteristic_descriptor_at(c, 1);
  assert_int_equal(bleak_gatt_descriptor_handle(d), 0x0018);
  assert_string_equal(bleak_uuid_to_string(bleak_gatt_descriptor_uuid(d), u),
                      "12345678-1234-5678-1234-56789abcdef2");
  c = bleak_gatt_services_get_characteristic_by_handle(s, 0x0004);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(c), 0);
}

/* Service Changed for 0x0010-0x0018: only that range is discovered
 * again; the services outside it are kept from before. */
static void test_discover_changed_range(void **state) {
  test_discover_all(state);
  bleak_gatt_services *before = R.services;
  R.services = NULL;
  R.checked = R.n_out;
  assert_int_equal(bk_gattc_discover_range(&R.att, 0x0010, 0x0018, before, on_discovered, &R,
                                           R.now, NULL),
                   0);
  bleak_gatt_services_unref(before); /* the procedure holds its own reference */
  EXPECT("10 1000 1800 0028");
  INJECT("11 06 1000 1400 0f18");
  EXPECT("10 1500 1800 0028");
  INJECT("01 10 1500 0a");
  EXPECT("08 1000 1400 0328");
  INJECT("09 07 1100 12 1200 192a");
  EXPECT("08 1200 1400 0328");
  INJECT("01 08 1200 0a");
  EXPECT("04 1300 1400");
  INJECT("05 01 1300 0229");
  EXPECT("04 1400 1400");
  INJECT("01 04 1400 0a");
  assert_int_equal(R.done, 2);
  assert_int_equal(R.status, 0);
  assert_int_equal(R.requests, 6);
  bleak_gatt_services *s = R.services;
  assert_int_equal(bleak_gatt_services_count(s), 3);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 4);
  const bleak_gatt_characteristic *c = bleak_gatt_services_get_characteristic_by_handle(s, 0x0011);
  assert_non_null(c);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(c), 1);
  assert_non_null(bleak_gatt_services_get_characteristic_by_handle(s, 0x0007));
  assert_null(bleak_gatt_services_get_characteristic_by_handle(s, 0x0015));
}

/* A server with no services at all. */
static void test_discover_empty(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_discover(&R.att, on_discovered, &R, R.now, NULL), 0);
  EXPECT("10 0100 ffff 0028");
  INJECT("01 10 0100 0a");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, 0);
  assert_int_equal(bleak_gatt_services_count(R.services), 0);
  assert_int_equal(R.requests, 1);
}

/* Hostile shapes: services going backwards, a characteristic whose value
 * handle is not after its declaration, Find Information with a bad
 * format, a descriptor handle out of the span. Each fails the discovery
 * with a protocol error; nothing is left pending. */
static void test_discover_services_backwards(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_discover(&R.att, on_discovered, &R, R.now, NULL), 0);
  EXPECT("10 0100 ffff 0028");
  INJECT("11 06 0500 0900 0018 0100 0400 0118");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
  assert_null(R.services);
}

static void discover_to_characteristics(void) {
  assert_int_equal(bk_gattc_discover(&R.att, on_discovered, &R, R.now, NULL), 0);
  EXPECT("10 0100 ffff 0028");
  INJECT("11 06 0100 0900 0018");
  EXPECT("10 0a00 ffff 0028");
  INJECT("01 10 0a00 0a");
  EXPECT("08 0100 0900 0328");
}

static void test_discover_value_before_declaration(void **state) {
  (void)state;
  discover_to_characteristics();
  INJECT("09 07 0300 02 0200 002a");
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
  assert_int_equal(R.done, 1);
}

static void test_discover_characteristic_out_of_range(void **state) {
  (void)state;
  discover_to_characteristics();
  INJECT("09 07 2000 02 2100 002a");
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
}

static void test_discover_find_info_bad_format(void **state) {
  (void)state;
  discover_to_characteristics();
  INJECT("09 07 0200 12 0300 002a");
  EXPECT("08 0300 0900 0328");
  INJECT("01 08 0300 0a");
  EXPECT("04 0400 0900");
  INJECT("05 03 0400 0229");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
}

static void test_discover_descriptor_out_of_span(void **state) {
  (void)state;
  discover_to_characteristics();
  INJECT("09 07 0200 12 0300 002a");
  EXPECT("08 0300 0900 0328");
  INJECT("01 08 0300 0a");
  EXPECT("04 0400 0900");
  INJECT("05 01 0400 0229 0200 0229"); /* goes backwards */
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
}

/* An answer that is not the outstanding request's fails it alone. */
static void test_wrong_response_opcode(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 0x0003, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0300");
  INJECT("13");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
}

/* TP/GAD/CL/BV-02-C: primary services by UUID. */
static void test_primary_by_uuid(void **state) {
  (void)state;
  bleak_uuid u = bleak_uuid_from_u16(0x180f);
  assert_int_equal(bk_gattc_discover_primary_by_uuid(&R.att, &u, on_list, &R, R.now, NULL), 0);
  EXPECT("06 0100 ffff 0028 0f18");
  INJECT("07 1000 1400 2000 2200");
  EXPECT("06 2300 ffff 0028 0f18");
  INJECT("01 06 2300 0a");
  assert_int_equal(R.status, 0);
  assert_int_equal(R.n_list, 2);
  assert_int_equal(R.list_h[1], 0x20);
  assert_int_equal(R.list_e[1], 0x22);
}

/* TP/GAD/CL/BV-03-C: find included services. */
static void test_find_included(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_find_included(&R.att, 0x0001, 0x0010, on_list, &R, R.now, NULL), 0);
  EXPECT("08 0100 1000 0228");
  INJECT("09 08 0200 2000 2500 0f18");
  EXPECT("08 0300 1000 0228");
  INJECT("01 08 0300 0a");
  assert_int_equal(R.status, 0);
  assert_int_equal(R.n_list, 1);
  assert_int_equal(R.list_h[0], 0x20);
  assert_int_equal(R.list_e[0], 0x25);
}

/* TP/GAR/CL/BV-01-C and BI-02-C: read; an invalid handle. */
static void test_read(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 0x0003, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0300");
  INJECT("0b 010203");
  assert_int_equal(R.status, 0);
  assert_int_equal(R.result_len, 3);
  assert_int_equal(R.result[2], 3);
  assert_int_equal(bk_gattc_read(&R.att, 0x0099, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 9900");
  INJECT("01 0a 9900 01");
  assert_int_equal(R.done, 2);
  assert_int_equal(R.status, BLEAK_ERR_ATT(0x01));
}

/* TP/GAR/CL/BV-04-C: read long; Read Blob until a short answer. */
static void test_read_long(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 0x0003, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0300");
  INJECT("0b 000102030405060708090a0b0c0d0e0f101112131415"); /* 22 = MTU-1 */
  EXPECT("0c 0300 1600");
  INJECT("0d 161718191a1b1c1d1e1f202122232425262728292a2b");
  EXPECT("0c 0300 2c00");
  INJECT("0d 2c2d");
  assert_int_equal(R.status, 0);
  assert_int_equal(R.result_len, 46);
  for (size_t i = 0; i < 46; i++)
    assert_int_equal(R.result[i], i);
}

/* A value that ends exactly at a full response: Attribute Not Long on the
 * blob ends the read with what came. */
static void test_read_long_exact(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 0x0003, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0300");
  INJECT("0b 000102030405060708090a0b0c0d0e0f101112131415");
  EXPECT("0c 0300 1600");
  INJECT("01 0c 0300 0b");
  assert_int_equal(R.status, 0);
  assert_int_equal(R.result_len, 22);
}

/* TP/GAR/CL/BV-03-C: read using characteristic UUID. */
static void test_read_by_uuid(void **state) {
  (void)state;
  uint16_t h = 0;
  bleak_uuid u = bleak_uuid_from_u16(0x2a19);
  assert_int_equal(bk_gattc_read_by_uuid(&R.att, 1, 0xffff, &u, &h, on_value, &R, R.now, NULL), 0);
  EXPECT("08 0100 ffff 192a");
  INJECT("09 03 2a00 64");
  assert_int_equal(R.status, 0);
  assert_int_equal(h, 0x2a);
  assert_int_equal(R.result_len, 1);
  assert_int_equal(R.result[0], 100);
}

/* TP/GAR/CL/BV-05-C: read multiple; and Read Multiple Variable. */
static void test_read_multiple(void **state) {
  (void)state;
  uint16_t hs[2] = {3, 5};
  assert_int_equal(bk_gattc_read_multiple(&R.att, hs, 2, false, on_value, &R, R.now, NULL), 0);
  EXPECT("0e 0300 0500");
  INJECT("0f 0102");
  assert_int_equal(R.result_len, 2);
  assert_int_equal(bk_gattc_read_multiple(&R.att, hs, 2, true, on_value, &R, R.now, NULL), 0);
  EXPECT("20 0300 0500");
  INJECT("21 0100 01 0200 0203");
  assert_int_equal(R.status, 0);
  assert_int_equal(R.result_len, 7);
  assert_int_equal(bk_gattc_read_multiple(&R.att, hs, 1, true, on_value, &R, R.now, NULL),
                   BLEAK_ERR_INVALID_ARG);
}

/* TP/GAW/CL/BV-01-C: write without response. */
static void test_write_command(void **state) {
  (void)state;
  uint8_t v[20] = {1, 2};
  assert_int_equal(bk_gattc_write_command(&R.att, 0x0010, v, 2), 0);
  EXPECT("52 1000 0102");
  assert_int_equal(bk_gattc_write_command(&R.att, 0x0010, v, 21), BLEAK_ERR_TOO_LONG);
}

/* TP/GAW/CL/BV-03-C and BI-02-C: write; an error answer. */
static void test_write(void **state) {
  (void)state;
  uint8_t v[2] = {0xaa, 0xbb};
  assert_int_equal(bk_gattc_write(&R.att, 0x0010, v, 2, false, on_done, &R, R.now, NULL), 0);
  EXPECT("12 1000 aabb");
  INJECT("13");
  assert_int_equal(R.status, 0);
  assert_int_equal(bk_gattc_write(&R.att, 0x0010, v, 2, false, on_done, &R, R.now, NULL), 0);
  EXPECT("12 1000 aabb");
  INJECT("01 12 1000 03");
  assert_int_equal(R.status, BLEAK_ERR_ATT(0x03));
  assert_int_equal(R.done, 2);
}

static void make_value(uint8_t *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    v[i] = (uint8_t)i;
}

/* TP/GAW/CL/BV-05-C: write long (prepared writes of MTU-5, each echo
 * checked, then execute). */
static void test_write_long(void **state) {
  (void)state;
  uint8_t v[40];
  make_value(v, sizeof v);
  assert_int_equal(bk_gattc_write(&R.att, 0x0010, v, sizeof v, false, on_done, &R, R.now, NULL), 0);
  EXPECT("16 1000 0000 000102030405060708090a0b0c0d0e0f1011");
  INJECT("17 1000 0000 000102030405060708090a0b0c0d0e0f1011");
  EXPECT("16 1000 1200 12131415161718191a1b1c1d1e1f20212223");
  INJECT("17 1000 1200 12131415161718191a1b1c1d1e1f20212223");
  EXPECT("16 1000 2400 24252627");
  INJECT("17 1000 2400 24252627");
  EXPECT("18 01");
  assert_int_equal(R.done, 0);
  INJECT("19");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, 0);
}

/* TP/GAW/CL/BV-06-C and BI-?: reliable write; an echo that differs
 * cancels the queue (Execute Write, flags 0) and fails. */
static void test_reliable_write_bad_echo(void **state) {
  (void)state;
  uint8_t v[3] = {1, 2, 3};
  assert_int_equal(bk_gattc_write(&R.att, 0x0010, v, 3, true, on_done, &R, R.now, NULL), 0);
  EXPECT("16 1000 0000 010203");
  INJECT("17 1000 0000 010209");
  EXPECT("18 00");
  INJECT("19");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, BLEAK_ERR_PROTOCOL);
}

/* TP/GAW/CL/BI-?: the server refuses a part: the queue is canceled and
 * its error returned. */
static void test_write_long_refused(void **state) {
  (void)state;
  uint8_t v[30];
  make_value(v, sizeof v);
  assert_int_equal(bk_gattc_write(&R.att, 0x0010, v, sizeof v, false, on_done, &R, R.now, NULL), 0);
  EXPECT("16 1000 0000 000102030405060708090a0b0c0d0e0f1011");
  INJECT("01 16 1000 09"); /* Prepare Queue Full */
  EXPECT("18 00");
  INJECT("19");
  assert_int_equal(R.status, BLEAK_ERR_ATT(0x09));
}

/* TP/GAN/CL/BV-01-C and TP/GAI/CL/BV-01-C: notification; indication with
 * its confirmation; a multiple handle value notification. */
static void test_notifications(void **state) {
  (void)state;
  INJECT("1b 1200 0102");
  assert_int_equal(R.n_values, 1);
  assert_int_equal(R.value_handle, 0x12);
  assert_int_equal(R.value_len, 2);
  assert_false(R.indication);
  INJECT("1d 1500 ff");
  assert_int_equal(R.n_values, 2);
  assert_true(R.indication);
  EXPECT("1e");
  INJECT("23 1200 0100 07 1500 0200 0809");
  assert_int_equal(R.n_values, 4);
  assert_int_equal(R.value_handle, 0x15);
  assert_int_equal(R.value_len, 2);
  INJECT("1b 12"); /* malformed: dropped */
  assert_int_equal(R.n_values, 4);
}

/* Requests queue one at a time, in order. */
static void test_one_outstanding(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 1, on_value, &R, R.now, NULL), 0);
  assert_int_equal(bk_gattc_read(&R.att, 2, on_value, &R, R.now, NULL), 0);
  assert_int_equal(R.n_out, 1);
  EXPECT("0a 0100");
  INJECT("0b 01");
  EXPECT("0a 0200");
  INJECT("0b 02");
  assert_int_equal(R.done, 2);
  assert_int_equal(R.result[0], 2);
}

/* TP/GAT/CL/BV-01-C: a request unanswered for 30 s ends the bearer: every
 * request fails with a timeout, the owner is told to drop the link. */
static void test_timeout(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 1, on_value, &R, R.now, NULL), 0);
  assert_int_equal(bk_gattc_read(&R.att, 2, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0100");
  assert_int_equal(bk_att_deadline(&R.att), R.now + 30000);
  /* The owner arms its timer from inside send: the deadline is there. */
  assert_int_equal(R.deadline_seen, R.now + 30000);
  bk_att_tick(&R.att, R.now + 29999);
  assert_int_equal(R.done, 0);
  bk_att_tick(&R.att, R.now + 30000);
  assert_int_equal(R.done, 2);
  assert_int_equal(R.status, BLEAK_ERR_TIMEOUT);
  assert_int_equal(R.timeouts, 1);
  assert_int_equal(bk_gattc_read(&R.att, 1, on_value, &R, R.now, NULL), BLEAK_ERR_NOT_CONNECTED);
  INJECT("0b 01"); /* late: ignored */
  assert_int_equal(R.done, 2);
}

/* A shorter transaction timeout (the client option att_timeout_ms) holds
 * for requests sent after it is set; 0 is the spec's 30 s again. */
static void test_timeout_set(void **state) {
  (void)state;
  bk_att_set_timeout(&R.att, 250);
  assert_int_equal(bk_gattc_read(&R.att, 1, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0100");
  assert_int_equal(bk_att_deadline(&R.att), R.now + 250);
  INJECT("0b 01");
  assert_int_equal(R.done, 1);
  bk_att_set_timeout(&R.att, 0);
  assert_int_equal(bk_gattc_read(&R.att, 2, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0200");
  assert_int_equal(bk_att_deadline(&R.att), R.now + 30000);
  bk_att_set_timeout(&R.att, 100);
  bk_att_tick(&R.att, R.now + 29999); /* the one on the air keeps its 30 s */
  assert_int_equal(R.done, 1);
  bk_att_tick(&R.att, R.now + 30000);
  assert_int_equal(R.done, 2);
  assert_int_equal(R.status, BLEAK_ERR_TIMEOUT);
  assert_int_equal(R.timeouts, 1);
}

/* Time comes with every call: a procedure started long after the bearer
 * last heard anything times out 30 s after its start, and its next
 * request 30 s after the answer that caused it. The bearer's clock never
 * goes back. */
static void test_time_given(void **state) {
  (void)state;
  assert_int_equal(bk_gattc_read(&R.att, 3, on_value, &R, 50000, NULL), 0);
  EXPECT("0a 0300");
  assert_int_equal(bk_att_deadline(&R.att), 50000 + 30000);
  uint8_t full[512] = {0x0b}; /* a whole MTU of value: Read Blob follows */
  bk_att_recv(&R.att, full, R.att.mtu, 60000);
  EXPECT("0c 0300 1600");
  assert_int_equal(bk_att_deadline(&R.att), 60000 + 30000);
  INJECT("0d 01"); /* at R.now, behind the bearer's clock */
  assert_int_equal(R.done, 1);
  assert_int_equal(R.status, 0);
  assert_int_equal(R.result_len, 23);
  assert_int_equal(bk_gattc_read(&R.att, 3, on_value, &R, 59000, NULL), 0);
  EXPECT("0a 0300");
  assert_int_equal(bk_att_deadline(&R.att), 60000 + 30000);
  INJECT("0b 01");
}

/* Disconnect fails everything pending with DISCONNECTED, once. */
static void test_close(void **state) {
  (void)state;
  uint8_t v[40] = {0};
  assert_int_equal(bk_gattc_write(&R.att, 0x10, v, sizeof v, false, on_done, &R, R.now, NULL), 0);
  assert_int_equal(bk_gattc_discover(&R.att, on_discovered, &R, R.now, NULL), 0);
  EXPECT("16 1000 0000 000000000000000000000000000000000000");
  bk_att_close(&R.att, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(R.done, 2);
  assert_int_equal(R.status, BLEAK_ERR_DISCONNECTED);
  bk_att_close(&R.att, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(R.done, 2);
}

/* Cancel: the callback never runs; an answer already due still comes and
 * is swallowed, and the next request goes out after it. */
static void test_cancel(void **state) {
  (void)state;
  bk_gattc_proc *p = NULL, *q = NULL;
  assert_int_equal(bk_gattc_read(&R.att, 1, on_value, &R, R.now, &p), 0);
  assert_int_equal(bk_gattc_read(&R.att, 2, on_value, &R, R.now, &q), 0);
  bk_gattc_cancel(q); /* queued: gone at once */
  bk_gattc_cancel(p); /* on the air */
  assert_int_equal(bk_gattc_read(&R.att, 3, on_value, &R, R.now, NULL), 0);
  EXPECT("0a 0100");
  assert_int_equal(R.n_out, 1);
  INJECT("0b 01");
  EXPECT("0a 0300");
  INJECT("0b 03");
  assert_int_equal(R.done, 1);
  assert_int_equal(R.result[0], 3);
}

/* A send that fails at once fails the start call, not the callback. */
static void test_send_failure(void **state) {
  (void)state;
  R.send_err = BLEAK_ERR_IO;
  assert_int_equal(bk_gattc_read(&R.att, 1, on_value, &R, R.now, NULL), BLEAK_ERR_IO);
  assert_int_equal(R.done, 0);
  R.send_err = 0;
}

int main(void) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_exchange_mtu),
      T(test_server_requests_answered),
      T(test_discover_all),
      T(test_discover_changed_range),
      T(test_discover_empty),
      T(test_discover_services_backwards),
      T(test_discover_value_before_declaration),
      T(test_discover_characteristic_out_of_range),
      T(test_discover_find_info_bad_format),
      T(test_discover_descriptor_out_of_span),
      T(test_wrong_response_opcode),
      T(test_primary_by_uuid),
      T(test_find_included),
      T(test_read),
      T(test_read_long),
      T(test_read_long_exact),
      T(test_read_by_uuid),
      T(test_read_multiple),
      T(test_write_command),
      T(test_write),
      T(test_write_long),
      T(test_reliable_write_bad_echo),
      T(test_write_long_refused),
      T(test_notifications),
      T(test_one_outstanding),
      T(test_timeout),
      T(test_timeout_set),
      T(test_time_given),
      T(test_close),
      T(test_cancel),
      T(test_send_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
