/* SPDX-License-Identifier: MIT */
/* Virtual peripherals from JSON: the guest fixture's database.json as it
 * is (its handles, values and advertising data), the optional keys of
 * new files, and errors that name the file, line, column and path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "vctl/peripheral_priv.h"
#include "vctl_harness.h"

static void test_fixture_loads(void **state) {
  (void)state;
  vctl_peripheral **list = NULL;
  size_t n = 0;
  char err[256] = "";
  assert_int_equal(vctl_peripherals_load(BLEAK_FIXTURE_DB, &list, &n, err, sizeof err), 0);
  assert_int_equal(n, 1);
  vctl_peripheral *p = list[0];
  assert_string_equal(vctl_peripheral_name(p), "bleak-fx");
  const vctl_adv *a = vctl_peripheral_adv(p);
  /* flags, 16-bit UUIDs (180d), manufacturer ffff 010203, service data
   * 180f 57, the name: 29 bytes, all in the advertisement. */
  test_expect_bytes(a->data, a->data_len,
                    "020106 03030d18 06ffffff010203 0416 0f1857 0909626c65616b2d6678", __LINE__);
  assert_int_equal(a->scan_rsp_len, 0);
  assert_true(a->connectable);
  assert_false(a->extended);
  assert_int_equal(a->addr_type, 1); /* the default: random static */
  assert_int_equal(a->addr[5], 0xc0);
  /* The last attribute is the Nordic UART RX value at 0x0041. */
  assert_int_equal(p->db.n, 0x41);
  assert_int_equal(p->db.attrs[p->db.n - 1].handle, 0x41);
  assert_int_equal(vctl_peripheral_find_char(p, "2a19", 0), 0x12);
  assert_int_equal(vctl_peripheral_find_char(p, "b1e5000a-7e57-4c0d-9e00-000000000001", 1), 0x39);
  assert_int_equal(vctl_peripheral_find_char(p, "b1e5000a-7e57-4c0d-9e00-000000000001", 2), 0);
  assert_int_equal(vctl_peripheral_find_char(p, "zz", 0), 0);
  /* Service handles: GAP, GATT, then the file's in order. */
  static const uint16_t starts[] = {0x01, 0x06, 0x10, 0x14, 0x1a, 0x1f, 0x3c};
  static const uint16_t ends[] = {0x05, 0x0f, 0x13, 0x19, 0x1e, 0x3b, 0x41};
  for (size_t i = 0; i < 7; i++) {
    vctl_attr *s = vctl_db_find(&p->db, starts[i]);
    assert_non_null(s);
    assert_int_equal(s->kind, VCTL_ATTR_SERVICE);
    assert_int_equal(s->end, ends[i]);
  }
  /* Listed CCCDs are not added twice. */
  assert_int_equal(vctl_db_find(&p->db, 0x13)->kind, VCTL_ATTR_CCCD);
  assert_int_equal(vctl_db_find(&p->db, 0x14)->kind, VCTL_ATTR_SERVICE);
  /* set_value, and what it refuses. */
  assert_int_equal(vctl_peripheral_set_value(p, 0x12, (const uint8_t *)"\x10", 1, true), 0);
  assert_int_equal(vctl_db_find(&p->db, 0x12)->value[0], 0x10);
  assert_int_equal(vctl_peripheral_set_value(p, 0x11, (const uint8_t *)"\x10", 1, false), -1);
  assert_int_equal(vctl_peripheral_set_value(p, 0x13, (const uint8_t *)"\x10", 1, false), -1);
  assert_int_equal(vctl_peripheral_set_value(p, 0x99, (const uint8_t *)"\x10", 1, false), -1);
  vctl_peripherals_free(list, n);
}

/* Load @p json: 0 or -1, the message in err. */
static int load(const char *json, char *err, size_t errlen) {
  vctl_peripheral **list = NULL;
  size_t n = 0;
  int r = vctl_peripherals_load_string(json, "x.json", &list, &n, err, errlen);
  vctl_peripherals_free(list, n);
  return r;
}

static void expect_error(const char *json, const char *want, int line) {
  char err[256] = "";
  if (load(json, err, sizeof err) != -1)
    fail_msg("line %d: loaded, expected \"%s\"", line, want);
  if (strcmp(err, want))
    fail_msg("line %d: error \"%s\", expected \"%s\"", line, err, want);
}
#define EXPECT_ERROR(json, want) expect_error((json), (want), __LINE__)

static void test_errors(void **state) {
  (void)state;
  EXPECT_ERROR("{\n \"services\": [\n", "x.json:3:0: ']' expected near end of file");
  EXPECT_ERROR("{\n \"services\": [\n  {\"uuid\": \"180f\"},\n  {\"uuid\": \"18x\"}\n ]\n}",
               "x.json:4:12: services[1].uuid: not a UUID: \"18x\"");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\", \"fly\"]}]}]}",
               "x.json:2:43: services[0].characteristics[0].properties[1]: unknown flag \"fly\"");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\"],\n"
               "   \"value_hex\": \"5\"}]}]}",
               "x.json:3:17: services[0].characteristics[0].value_hex: hex of odd length 1");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\"], \"value_hex\": \"5g\"}]}]}",
               "x.json:2:57: services[0].characteristics[0].value_hex: not hex at character 1: 'g'");
  EXPECT_ERROR("{\"servics\": []}", "x.json:1:13: servics: unknown key \"servics\"");
  EXPECT_ERROR("{\"address\": \"00:11:22:33:44\"}",
               "x.json:1:13: address: not an address: \"00:11:22:33:44\"");
  EXPECT_ERROR("{\"mtu\": 600}", "x.json:1:9: mtu: 600 is outside 23..517");
  EXPECT_ERROR("{\"advertisement\": {\"manufacturer_data\": {\"acme\": \"00\"}}}",
               "x.json:1:50: advertisement.manufacturer_data.acme: not a company id (0..65535): \"acme\"");
  EXPECT_ERROR("{\"advertisement\": {\"local_name\": \"a-name-far-too-long-for-31-bytes\", "
               "\"service_uuids\": [\"b1e50000-7e57-4c0d-9e00-000000000001\"], "
               "\"manufacturer_data\": {\"1\": \"0102030405060708090a\"}}}",
               "x.json:1:19: advertisement: the advertisement does not fit 31 bytes (set "
               "\"extended_advertising\": true for up to 251)");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\"],\n"
               "   \"descriptors\": [{\"uuid\": \"2902\"}]}]}]}",
               "x.json:3:20: services[0].characteristics[0].descriptors[0]: a CCCD (0x2902) on a "
               "characteristic that neither notifies nor indicates");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\"], \"behaviour\": \"dance\"}]}]}",
               "x.json:2:57: services[0].characteristics[0].behaviour: unknown behaviour \"dance\"");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"write\"], \"behaviour\": "
               "{\"type\": \"echo\", \"to\": \"2a20\"}}]}]}",
               "x.json:1:14: services: the behaviour of 00002a19-0000-1000-8000-00805f9b34fb names "
               "00002a20-0000-1000-8000-00805f9b34fb, which the database lacks");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\"], \"behaviour\": \"heart_rate\"}]}]}",
               "x.json:2:57: services[0].characteristics[0].behaviour: \"heart_rate\" needs a "
               "characteristic that notifies or indicates");
  EXPECT_ERROR("{\"services\": [{\"uuid\": \"180f\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"write\"], \"behaviour\": \"bench_control\"}]}]}",
               "x.json:2:58: services[0].characteristics[0].behaviour: \"bench_control\" needs an "
               "object with \"notify\"");
  EXPECT_ERROR("{\"peripherals\": [{}, {\"mtu\": \"x\"}]}",
               "x.json:1:30: peripherals[1].mtu: expected an integer");
  EXPECT_ERROR("{\"peripherals\": [{}, {\"services\": [{\"uuid\": \"1234\", \"characteristics\": [\n"
               "  {\"uuid\": \"2a19\", \"properties\": [\"read\"], \"descriptors\": [\n"
               "    {\"uuid\": \"2901\", \"properties\": [\"read\", \"jump\"]}]}]}]}]}",
               "x.json:3:45: peripherals[1].services[0].characteristics[0].descriptors[0]."
               "properties[1]: unknown flag \"jump\"");
  EXPECT_ERROR("{\"peripherals\": []}",
               "x.json:1:17: peripherals: expected a non-empty array of peripherals");
  EXPECT_ERROR("{\"mtu\": 50, \"mtu\": 60}", "x.json:1:17: duplicate object key near '\"mtu\"'");
  char err[256];
  vctl_peripheral **list = NULL;
  size_t n = 0;
  assert_int_equal(vctl_peripherals_load("/nonexistent/x.json", &list, &n, err, sizeof err), -1);
  assert_string_equal(err, "/nonexistent/x.json: No such file or directory");
  assert_null(list);
  /* A short buffer: cut, terminated. */
  char tiny[8];
  assert_int_equal(load("{\"mtu\": 1}", tiny, sizeof tiny), -1);
  assert_string_equal(tiny, "x.json:");
}

static void test_optional_keys(void **state) {
  (void)state;
  vctl_peripheral **list = NULL;
  size_t n = 0;
  char err[256] = "";
  int r = vctl_peripherals_load_string(
      "{\"peripherals\": [\n"
      " {\"address\": \"AA:BB:CC:DD:EE:FF\", \"interval_ms\": 40, \"mtu\": 247,\n"
      "  \"advertisement\": {\"local_name\": \"a-rather-long-name-here\",\n"
      "    \"service_uuids\": [\"b1e50000-7e57-4c0d-9e00-000000000001\"]}},\n"
      " {\"address\": \"C1:00:00:00:00:02\", \"address_type\": \"random\", \"connectable\": false,\n"
      "  \"extended_advertising\": true, \"builtin_services\": false, \"name\": \"gap\",\n"
      "  \"advertisement\": {\"local_name\": \"a-rather-long-name-here\", \"tx_power\": -4,\n"
      "    \"appearance\": 833,\n"
      "    \"service_uuids\": [\"b1e50000-7e57-4c0d-9e00-000000000001\", \"0x0000feed\"]},\n"
      "  \"services\": [{\"uuid\": \"1234\", \"characteristics\": [{\"uuid\": \"5678\",\n"
      "    \"properties\": [\"read\", \"reliable-write\", \"write\"], \"value\": \"txt\",\n"
      "    \"descriptors\": [{\"uuid\": \"2900\"}, {\"uuid\": \"2901\", \"value\": \"d\"}]}]}]}\n"
      "]}",
      "y.json", &list, &n, err, sizeof err);
  if (r)
    fail_msg("%s", err);
  assert_int_equal(n, 2);
  const vctl_adv *a = vctl_peripheral_adv(list[0]);
  static const uint8_t addr[6] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa};
  assert_memory_equal(a->addr, addr, 6);
  assert_int_equal(a->addr_type, 0);
  assert_int_equal(a->interval_ms, 40);
  assert_int_equal(list[0]->mtu, 247);
  /* 3 + 18 + 25 > 31: the name goes to the scan response. */
  test_expect_bytes(a->data, a->data_len, "020106 1107 010000000000009e0d4c577e0000e5b1",
                    __LINE__);
  test_expect_bytes(a->scan_rsp, a->scan_rsp_len, "1809 612d7261746865722d6c6f6e672d6e616d652d68657265",
                    __LINE__);
  const vctl_adv *b = vctl_peripheral_adv(list[1]);
  assert_int_equal(b->addr_type, 1);
  assert_false(b->connectable);
  assert_true(b->extended);
  test_expect_bytes(b->data, b->data_len,
                    "020106 0303edfe 1107 010000000000009e0d4c577e0000e5b1 03194103 020afc"
                    " 1809 612d7261746865722d6c6f6e672d6e616d652d68657265",
                    __LINE__);
  assert_string_equal(vctl_peripheral_name(list[1]), "gap");
  /* No GAP/GATT: the file's service at 0x0001, the Extended Properties
   * after the value, the 2900 listed not added twice. */
  vctl_attr *s = vctl_db_find(&list[1]->db, 1);
  assert_int_equal(s->kind, VCTL_ATTR_SERVICE);
  assert_int_equal(s->end, 5);
  assert_int_equal(vctl_db_find(&list[1]->db, 2)->value[0], 0x8a); /* read, write, extended */
  vctl_attr *e = vctl_db_find(&list[1]->db, 4);
  assert_int_equal(e->kind, VCTL_ATTR_EXT_PROPS);
  assert_int_equal(e->value[0], 1);
  assert_int_equal(vctl_db_find(&list[1]->db, 5)->kind, VCTL_ATTR_DESCRIPTOR);
  vctl_peripherals_free(list, n);
}

/* Every AD type the advertisement block makes, in BlueZ's order. */
static void test_advertising_data(void **state) {
  (void)state;
  vctl_peripheral **list = NULL;
  size_t n = 0;
  char err[256] = "";
  int r = vctl_peripherals_load_string(
      "{\"extended_advertising\": true, \"advertisement\": {\"local_name\": \"n\",\n"
      " \"service_uuids\": [\"1234abcd\", \"180f\"],\n"
      " \"manufacturer_data\": {\"0x004c\": \"0215\"},\n"
      " \"service_data\": {\"b1e50000-7e57-4c0d-9e00-000000000001\": \"01\",\n"
      "                  \"0x1234abcd\": \"02\", \"fe95\": \"\"}}}",
      "ad.json", &list, &n, err, sizeof err);
  if (r)
    fail_msg("%s", err);
  const vctl_adv *a = vctl_peripheral_adv(list[0]);
  test_expect_bytes(a->data, a->data_len,
                    "020106 03030f18 0505cdab3412 05ff4c000215"
                    " 1221 010000000000009e0d4c577e0000e5b1 01 0620cdab341202 031695fe 02096e",
                    __LINE__);
  assert_int_equal(a->scan_rsp_len, 0);
  vctl_peripherals_free(list, n);
}

/* examples/vctl/sensors.json loads: two peripherals, no GATT errors. */
static void test_example_file(void **state) {
  (void)state;
  vctl_peripheral **list = NULL;
  size_t n = 0;
  char err[256] = "";
  if (vctl_peripherals_load(BLEAK_EXAMPLE_DIR "/vctl/sensors.json", &list, &n, err, sizeof err))
    fail_msg("%s", err);
  assert_int_equal(n, 2);
  assert_string_equal(vctl_peripheral_name(list[0]), "vctl-hrm");
  assert_int_equal(vctl_peripheral_adv(list[1])->addr[0], 0x11);
  assert_true(vctl_peripheral_adv(list[1])->extended);
  assert_int_equal(vctl_peripheral_find_char(list[1], "b1e70003-7e57-4c0d-9e00-000000000003", 0),
                   0x001d);
  vctl_peripherals_free(list, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixture_loads),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_optional_keys),
      cmocka_unit_test(test_advertising_data),
      cmocka_unit_test(test_example_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
