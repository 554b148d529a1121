/* SPDX-License-Identifier: MIT */
/* The virtual peripheral's behaviours on a fake clock: the guest
 * fixture's (peripheral.py: heart rate, the write counter and its stats,
 * control commands 01..08, the indication on subscribe, the UART echo)
 * and the generic notify_stream, with a controller that runs out of room. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vctl/peripheral_priv.h"
#include "vctl_harness.h"

static harness H;

H_FIXTURE_SETUP(H, 1000)

static void test_heart_rate(void **state) {
  (void)state;
  assert_int_equal(vctl_att_conn_deadline(H.c), UINT64_MAX);
  h_in(&H, "12 1700 0100");
  h_expect(&H, "13");
  assert_int_equal(vctl_att_conn_deadline(H.c), 1200);
  h_run_until(&H, H.c, 1199);
  h_none(&H);
  h_run_until(&H, H.c, 2000); /* every 200 ms: 00, 60 + n % 100 */
  h_expect(&H, "1b 1600 00 3d");
  h_expect(&H, "1b 1600 00 3e");
  h_expect(&H, "1b 1600 00 3f");
  h_expect(&H, "1b 1600 00 40");
  h_expect(&H, "1b 1600 00 41");
  h_in(&H, "12 1700 0000");
  h_expect(&H, "13");
  h_run_until(&H, H.c, 5000);
  h_none(&H);
  assert_int_equal(vctl_att_conn_deadline(H.c), UINT64_MAX);
}

static void test_counter(void **state) {
  (void)state;
  h_in(&H, "0a 2700");
  h_expect(&H, "0b 00000000 00000000 00000000 00000000");
  h_in(&H, "52 2500 00000000 aa");
  h_in(&H, "52 2500 01000000 bb");
  h_in(&H, "52 2500 03000000 cc"); /* 2 missing: a gap */
  h_in(&H, "52 2500 02000000 dd"); /* late: reordered */
  h_in(&H, "52 2500 ee");          /* too short for a number: counted */
  h_in(&H, "0a 2700");
  h_expect(&H, "0b 05000000 15000000 01000000 01000000");
  h_in(&H, "12 2900 01"); /* control 01: reset */
  h_expect(&H, "13");
  h_in(&H, "0a 2700");
  h_expect(&H, "0b 00000000 00000000 00000000 00000000");
  h_in(&H, "52 2500 07000000"); /* a new first number after a reset */
  h_in(&H, "0a 2700");
  h_expect(&H, "0b 01000000 04000000 00000000 00000000");
}

static void test_control_errors(void **state) {
  (void)state;
  h_in(&H, "12 2900");
  h_expect(&H, "01 12 2900 0d");
  h_in(&H, "12 2900 09");
  h_expect(&H, "01 12 2900 0e");
  h_in(&H, "12 2900 020100"); /* burst without its length */
  h_expect(&H, "01 12 2900 0e");
  h_in(&H, "12 2900 04");
  h_expect(&H, "01 12 2900 0e");
  h_in(&H, "52 2900 09"); /* as a command: no answer */
  h_in(&H, "0a 2900"); /* write only */
  h_expect(&H, "01 0a 2900 02");
}

static void test_burst(void **state) {
  (void)state;
  h_in(&H, "12 2900 02 0300 0800"); /* nobody subscribed: nothing */
  h_expect(&H, "13");
  h_run_until(&H, H.c, 1100);
  h_none(&H);
  h_in(&H, "12 2c00 0100");
  h_expect(&H, "13");
  h_in(&H, "12 2900 02 0300 0800"); /* 3 of 8 bytes */
  h_expect(&H, "13");
  h_run_until(&H, H.c, 1100);
  h_expect(&H, "1b 2b00 00000000 00010203");
  h_expect(&H, "1b 2b00 01000000 01020304");
  h_expect(&H, "1b 2b00 02000000 02030405");
  assert_int_equal(vctl_att_conn_deadline(H.c), UINT64_MAX);
  /* Lengths are kept to 4..512 and cut to MTU - 3. */
  h_in(&H, "12 2900 02 0100 0100");
  h_expect(&H, "13");
  h_run_until(&H, H.c, 1200);
  h_expect(&H, "1b 2b00 00000000");
  h_in(&H, "12 2900 02 0100 ffff");
  h_expect(&H, "13");
  h_run_until(&H, H.c, 1300);
  h_expect(&H, "1b 2b00 00000000 000102030405060708090a0b0c0d0e0f");
}

static void test_burst_waits_for_room(void **state) {
  (void)state;
  h_in(&H, "12 2c00 0100");
  h_in(&H, "12 2900 02 6400 0400"); /* 100 */
  h_drain(&H);
  h_run_until(&H, H.c, H.now); /* one slice: 20 */
  assert_int_equal(H.n_sent, 2 + 20);
  H.full = true;
  h_run_until(&H, H.c, H.now + 1);
  assert_int_equal(H.n_sent, 22);
  /* No room: no deadline either (the stream waits for writable). */
  assert_int_equal(vctl_att_conn_deadline(H.c), UINT64_MAX);
  H.full = false;
  vctl_att_conn_writable(H.c, H.now);
  assert_int_equal(H.n_sent, 42);
  h_run_until(&H, H.c, H.now + 100);
  assert_int_equal(H.n_sent, 102);
  /* In order, none lost. */
  for (uint32_t i = 0; i < 100; i++) {
    const uint8_t *p = H.sent[2 + i];
    assert_int_equal(p[3] | p[4] << 8, i);
  }
  h_drain(&H);
  /* Unsubscribing ends a burst. */
  h_in(&H, "12 2900 02 6400 0400");
  h_run_until(&H, H.c, H.now);
  h_in(&H, "12 2c00 0000");
  h_drain(&H);
  h_run_until(&H, H.c, H.now + 100);
  h_none(&H);
}

static void test_indications(void **state) {
  (void)state;
  h_in(&H, "12 2f00 0200"); /* subscribe: one indication at once */
  h_expect(&H, "13");
  h_expect(&H, "1d 2e00 01");
  h_in(&H, "12 2900 03");
  h_expect(&H, "13");
  h_none(&H); /* the first is not confirmed yet */
  h_in(&H, "1e");
  h_expect(&H, "1d 2e00 02");
  h_in(&H, "1e");
  h_in(&H, "0a 2e00");
  h_expect(&H, "0b 02");
  h_in(&H, "12 2f00 0100"); /* c(7) does not notify */
  h_expect(&H, "01 12 2f00 fd");
}

static void test_battery_and_disconnect(void **state) {
  (void)state;
  vctl_att_conn *c2 = h_conn(&H, 0, 517);
  h_in(&H, "12 1300 0100");
  h_expect(&H, "13");
  h_in(&H, "12 2900 04 2a"); /* level 42, notified to who subscribed */
  h_expect(&H, "13");
  h_expect(&H, "1b 1200 2a");
  h_in_at(&H, c2, "0a 1200");
  h_expect(&H, "0b 2a");
  h_in(&H, "12 2900 05"); /* both links go, a moment after the answer */
  h_expect(&H, "13");
  assert_int_equal(H.disconnects, 0);
  assert_int_equal(vctl_att_conn_deadline(H.c), H.now + 20);
  assert_int_equal(vctl_att_conn_deadline(c2), H.now + 20);
  h_run_until(&H, H.c, H.now + 20);
  h_run_until(&H, c2, H.now);
  assert_int_equal(H.disconnects, 2);
  assert_int_equal(H.reason, 0x13);
  h_in(&H, "0a 1200"); /* gone: nothing more */
  h_none(&H);
  vctl_att_conn_free(c2);
}

static void test_drop_next(void **state) {
  (void)state;
  h_in(&H, "12 2900 06");
  h_expect(&H, "13");
  vctl_att_conn *c2 = h_conn(&H, 0, 517);
  h_in_at(&H, c2, "02 0002"); /* the MTU exchange goes through */
  h_expect(&H, "03 0502");
  h_in_at(&H, c2, "10 0100 ffff 0028"); /* discovery: dropped */
  h_none(&H);
  assert_int_equal(H.disconnects, 1);
  vctl_att_conn *c3 = h_conn(&H, 0, 517); /* only the next one */
  h_in_at(&H, c3, "0a 1200");
  h_expect(&H, "0b 57");
  vctl_att_conn_free(c3);
  vctl_att_conn_free(c2);
}

static void test_service_changed(void **state) {
  (void)state;
  uint8_t hash[16];
  memcpy(hash, H.list[0]->db.hash, 16);
  h_in(&H, "12 0900 0200");
  h_expect(&H, "13");
  h_in(&H, "12 2900 07");
  h_expect(&H, "13");
  h_expect(&H, "1d 0800 4200 4400");
  h_in(&H, "1e");
  h_in(&H, "10 4200 ffff 0028");
  h_expect(&H, "11 14 4200 4400 010000000000009e0d4c577ef000e5b1");
  h_in(&H, "0a 4400");
  h_expect(&H, "0b 6578747261");
  assert_memory_not_equal(hash, H.list[0]->db.hash, 16);
  h_in(&H, "12 2900 07"); /* there already */
  h_expect(&H, "13");
  h_in(&H, "12 2900 08");
  h_expect(&H, "13");
  h_expect(&H, "1d 0800 4200 4400");
  h_in(&H, "1e");
  h_in(&H, "0a 4400");
  h_expect(&H, "01 0a 4400 01");
  assert_memory_equal(hash, H.list[0]->db.hash, 16); /* the same database again */
  h_in(&H, "12 2900 08"); /* gone already */
  h_expect(&H, "13");
}

static void test_uart_echo(void **state) {
  (void)state;
  h_in(&H, "12 4100 68656c6c6f"); /* not subscribed: no echo */
  h_expect(&H, "13");
  h_in(&H, "12 3f00 0100");
  h_expect(&H, "13");
  h_in(&H, "12 4100 68656c6c6f21");
  h_expect(&H, "13");
  h_expect(&H, "1b 3e00 48454c4c4f21");
  h_in(&H, "0a 4100"); /* write only */
  h_expect(&H, "01 0a 4100 02");
}

static void test_long_write_to_control(void **state) {
  (void)state;
  /* A prepared write reaches the behaviour whole, after the answer. */
  h_in(&H, "12 1300 0100");
  h_in(&H, "16 2900 0000 04");
  h_in(&H, "16 2900 0100 33");
  h_drain(&H);
  h_in(&H, "18 01");
  h_expect(&H, "19");
  h_expect(&H, "1b 1200 33");
}

static const char stream_json[] =
    "{\"builtin_services\": false, \"services\": [{\"uuid\": \"1234\", \"characteristics\": [\n"
    " {\"uuid\": \"5678\", \"properties\": [\"notify\", \"indicate\"],\n"
    "  \"behaviour\": {\"type\": \"notify_stream\", \"rate_hz\": 0, \"size\": 6, \"count\": 100}},\n"
    " {\"uuid\": \"5679\", \"properties\": [\"notify\"],\n"
    "  \"behaviour\": {\"type\": \"notify_stream\", \"rate_hz\": 10, \"sequence\": false}},\n"
    " {\"uuid\": \"2a37\", \"properties\": [\"notify\"], \"behaviour\": \"none\"},\n"
    " {\"uuid\": \"567a\", \"properties\": [\"write\"],\n"
    "  \"behaviour\": {\"type\": \"echo\", \"to\": \"5679\"}}]}]}";

static void test_notify_stream(void **state) {
  (void)state;
  harness h;
  h_open_string(&h, stream_json, 517);
  /* 0x0003 fast (CCCD 0x0004), 0x0006 at 10 Hz (0x0007), heart rate
   * with no behaviour at 0x0009 (0x000a). */
  h_in(&h, "12 0400 0100");
  h_expect(&h, "13");
  assert_int_equal(vctl_att_conn_deadline(h.c), 0);
  h_run_until(&h, h.c, 0); /* 64 at a time, then the loop runs */
  assert_int_equal(h.n_sent, 1 + 100);
  h_expect(&h, "1b 0300 00000000 0001");
  h_expect(&h, "1b 0300 01000000 0102");
  h.read = h.n_sent;
  assert_int_equal(vctl_att_conn_deadline(h.c), UINT64_MAX); /* its count is done */
  h_in(&h, "12 0400 0000");
  h_expect(&h, "13");
  /* Resubscribed as indications: one at a time, each confirmed. */
  h_in(&h, "12 0400 0200");
  h_expect(&h, "13");
  h_run_until(&h, h.c, 0);
  h_expect(&h, "1d 0300 00000000 0001");
  h_none(&h);
  assert_int_equal(vctl_att_conn_deadline(h.c), UINT64_MAX); /* waits for the confirmation */
  h_in(&h, "1e");
  h_expect(&h, "1d 0300 01000000 0102");
  h_in(&h, "12 0400 0000");
  h_expect(&h, "13");
  h_in(&h, "1e");
  h_none(&h);
  /* 10 Hz, MTU - 3 bytes of pattern. */
  h.now = 5000;
  h_in(&h, "12 0700 0100");
  h_expect(&h, "13");
  h_run_until(&h, h.c, 5250);
  assert_int_equal(h.n_sent - h.read, 3);
  test_expect_bytes(h.sent[h.read], h.sent_len[h.read], "1b 0600 000102030405060708090a0b0c0d0e0f10111213",
                    __LINE__);
  test_expect_bytes(h.sent[h.read + 1], h.sent_len[h.read + 1],
                    "1b 0600 0102030405060708090a0b0c0d0e0f1011121314", __LINE__);
  h_drain(&h);
  h_in(&h, "12 0a00 0100"); /* no heart rate: "none" */
  h_expect(&h, "13");
  h_in(&h, "12 0c00 6869"); /* echoed on 5679 */
  h_expect(&h, "13");
  h_expect(&h, "1b 0600 6869");
  h_in(&h, "12 0700 0000");
  h_expect(&h, "13");
  h_run_until(&h, h.c, 9000);
  h_none(&h);
  h_close(&h);
}

static void test_stream_no_room(void **state) {
  (void)state;
  harness h;
  h_open_string(&h, stream_json, 517);
  h_in(&h, "12 0400 0100");
  h_drain(&h);
  h.full = true;
  h_run_until(&h, h.c, 0);
  assert_int_equal(vctl_att_conn_deadline(h.c), UINT64_MAX);
  h.full = false;
  vctl_att_conn_writable(h.c, 0);
  h_run_until(&h, h.c, 0);
  assert_int_equal(h.n_sent - h.read, 100);
  for (uint32_t i = 0; i < 100; i++)
    assert_int_equal(h.sent[h.read + i][3], (uint8_t)i);
  h_drain(&h);
  h_close(&h);
}

/* bench/bench_peripheral.py's control point, as make bench's clients use
 * it: counters as JSON, bursts as fast as the link takes, cut to MTU - 3. */
static const char bench_json[] =
    "{\"builtin_services\": false, \"services\": [{\"uuid\": \"1234\", \"characteristics\": [\n"
    " {\"uuid\": \"1001\", \"properties\": [\"write-without-response\"],\n"
    "  \"behaviour\": {\"type\": \"counter\", \"stats\": \"1003\"}},\n"
    " {\"uuid\": \"1002\", \"properties\": [\"notify\"]},\n"
    " {\"uuid\": \"1003\", \"properties\": [\"read\", \"write\"],\n"
    "  \"behaviour\": {\"type\": \"bench_control\", \"notify\": \"1002\"}}]}]}";

static void expect_stats(harness *h, const char *json, int line) {
  if (h->read >= h->n_sent)
    fail_msg("line %d: no read response", line);
  const uint8_t *r = h->sent[h->read];
  size_t n = h->sent_len[h->read++];
  if (n < 1 || r[0] != 0x0b || n - 1 != strlen(json) || memcmp(r + 1, json, n - 1))
    fail_msg("line %d: read %.*s, expected %s", line, (int)(n ? n - 1 : 0),
             (const char *)r + 1, json);
}

static void test_bench_control(void **state) {
  (void)state;
  harness h;
  h_open_string(&h, bench_json, 517);
  /* wwr 0x0003, notify 0x0005 (CCCD 0x0006), control 0x0008. A burst
   * of 3 of 100 bytes at MTU 23: 20 each, at once. */
  h_in(&h, "12 0600 0100");
  h_expect(&h, "13");
  h_in(&h, "12 0800 02 03000000 6400");
  h_expect(&h, "13");
  assert_int_equal(vctl_att_conn_deadline(h.c), h.now);
  h_run_until(&h, h.c, h.now);
  h_expect(&h, "1b 0500 00000000 000102030405060708090a0b0c0d0e0f");
  h_expect(&h, "1b 0500 01000000 0102030405060708090a0b0c0d0e0f10");
  h_expect(&h, "1b 0500 02000000 02030405060708090a0b0c0d0e0f1011");
  h_none(&h);
  h_in(&h, "02 0502"); /* the JSON needs more than MTU 23 carries in one Read */
  h_expect(&h, "03 0502");
  h.now = 1000;
  h_in(&h, "52 0300 00000000 aa");
  h.now = 1500;
  h_in(&h, "52 0300 01000000 bb");
  h_in(&h, "52 0300 03000000 cc"); /* 2 missing */
  h_in(&h, "0a 0800");
  expect_stats(&h, "{\"wwr_packets\": 3, \"wwr_bytes\": 15, \"wwr_gaps\": 1, \"wwr_first\": 1.000, "
                   "\"wwr_last\": 1.500, \"notify_sent\": 3, \"mtu\": 517}", __LINE__);
  /* bench_peripheral.py's errors; the value written is never kept. */
  h_in(&h, "12 0800");
  h_expect(&h, "01 12 0800 0d");
  h_in(&h, "12 0800 02 01000000 14"); /* the size cut short */
  h_expect(&h, "01 12 0800 0e");
  h_in(&h, "12 0800 09");
  h_expect(&h, "01 12 0800 0e");
  h_in(&h, "12 0800 01"); /* reset */
  h_expect(&h, "13");
  h_in(&h, "0a 0800");
  expect_stats(&h, "{\"wwr_packets\": 0, \"wwr_bytes\": 0, \"wwr_gaps\": 0, \"wwr_first\": 0.000, "
                   "\"wwr_last\": 0.000, \"notify_sent\": 0, \"mtu\": 517}", __LINE__);
  /* A long burst goes in batches, each call as far as there is room. */
  h_in(&h, "12 0800 02 c8000000 0400");
  h_expect(&h, "13");
  h_run_until(&h, h.c, h.now);
  assert_int_equal(h.n_sent - h.read, 200);
  h_drain(&h);
  h_close(&h);
}

/* The peripheral's "behaviours" list replaces a characteristic's. */
static void test_behaviours_list(void **state) {
  (void)state;
  harness h;
  h_open_string(&h,
                "{\"builtin_services\": false, \"services\": [{\"uuid\": \"180d\", "
                "\"characteristics\": [{\"uuid\": \"2a37\", \"properties\": [\"notify\"]},\n"
                " {\"uuid\": \"2a37\", \"properties\": [\"notify\"]}]}],\n"
                " \"behaviours\": [{\"characteristic\": \"2a37\", \"type\": \"notify_stream\", "
                "\"size\": 5, \"count\": 2},\n"
                "  {\"characteristic\": \"2a37\", \"index\": 1, \"type\": \"none\"}]}",
                517);
  h_in(&h, "12 0400 0100"); /* the first: a stream of 2, not heart rate */
  h_expect(&h, "13");
  h_run_until(&h, h.c, 0);
  h_expect(&h, "1b 0300 00000000 00");
  h_expect(&h, "1b 0300 01000000 01");
  h_in(&h, "12 0700 0100"); /* the second: none */
  h_expect(&h, "13");
  h_run_until(&h, h.c, 5000);
  h_none(&h);
  h_close(&h);
  char err[256];
  vctl_peripheral **list = NULL;
  size_t n = 0;
  assert_int_equal(vctl_peripherals_load_string(
                       "{\"behaviours\": [{\"characteristic\": \"2a37\", \"type\": \"none\"}]}",
                       "b.json", &list, &n, err, sizeof err),
                   -1);
  assert_string_equal(err, "b.json:1:36: behaviours[0].characteristic: no characteristic "
                           "00002a37-0000-1000-8000-00805f9b34fb (index 0) in the database");
  assert_int_equal(vctl_peripherals_load_string("{\"behaviours\": [\"heart_rate\"]}", "b.json",
                                                &list, &n, err, sizeof err),
                   -1);
  assert_string_equal(err, "b.json:1:17: behaviours[0]: expected a behaviour object");
}

/* A value that changes by itself: the next one every period, notified. */
static void test_value_cycle(void **state) {
  (void)state;
  harness h;
  h_open_string(&h,
                "{\"builtin_services\": false, \"services\": [{\"uuid\": \"180f\", "
                "\"characteristics\": [{\"uuid\": \"2a19\", \"properties\": [\"read\", \"notify\"],\n"
                " \"behaviour\": {\"type\": \"value_cycle\", \"period_ms\": 100, "
                "\"values\": [\"64\", \"63\", \"62\"]}}]}]}",
                517);
  h.now = 1000;
  h_in(&h, "0a 0300"); /* the first value until the clock starts */
  h_expect(&h, "0b 64");
  assert_int_equal(vctl_att_conn_deadline(h.c), 0);
  h_run_until(&h, h.c, 1000);
  h_in(&h, "12 0400 0100");
  h_expect(&h, "13");
  h_run_until(&h, h.c, 1350);
  h_expect(&h, "1b 0300 63");
  h_expect(&h, "1b 0300 62");
  h_expect(&h, "1b 0300 64");
  h_in(&h, "0a 0300");
  h_expect(&h, "0b 64");
  /* A second connection does not make it go faster. */
  vctl_att_conn *c2 = h_conn(&h, 0, 517);
  h_run_until(&h, c2, 1400);
  h_run_until(&h, h.c, 1400);
  h_expect(&h, "1b 0300 63");
  h_none(&h);
  vctl_att_conn_free(c2);
  h_close(&h);
  char err[256];
  vctl_peripheral **list = NULL;
  size_t n = 0;
  assert_int_equal(
      vctl_peripherals_load_string("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": "
                                   "[{\"uuid\": \"2a19\", \"properties\": [\"read\"], \"behaviour\": "
                                   "{\"type\": \"value_cycle\", \"values\": []}}]}]}",
                                   "c.json", &list, &n, err, sizeof err),
      -1);
  assert_string_equal(err, "c.json:1:140: services[0].characteristics[0].behaviour.values: 1 to 8 values");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_heart_rate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_control_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_burst, setup, teardown),
      cmocka_unit_test_setup_teardown(test_burst_waits_for_room, setup, teardown),
      cmocka_unit_test_setup_teardown(test_indications, setup, teardown),
      cmocka_unit_test_setup_teardown(test_battery_and_disconnect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drop_next, setup, teardown),
      cmocka_unit_test_setup_teardown(test_service_changed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_uart_echo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_write_to_control, setup, teardown),
      cmocka_unit_test(test_notify_stream),
      cmocka_unit_test(test_stream_no_room),
      cmocka_unit_test(test_behaviours_list),
      cmocka_unit_test(test_value_cycle),
      cmocka_unit_test(test_bench_control),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
