/* SPDX-License-Identifier: MIT */
/* The control socket's requests (src/vctl/control.c) on the guest
 * fixture's peripheral: every command, and the errors of each, with the
 * reply's fields checked; lines in any split, the line cap. An ATT
 * connection (vctl_harness.h) stands for the host's link where a command
 * acts on links. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vctl/control.h"
#include "vctl/controller.h"
#include "vctl/peripheral_priv.h"
#include "vctl_harness.h"

static harness H;
static vctl_controller *ctl;
static vctl_control_hub *hub;
static vctl_control *cs;
static json_t *replies[64];
static size_t n_replies, read_replies;
static size_t hci_events;
static uint8_t last_event[8];
static int actions, act_result;
static vctl_control_action last_action;
static char act_json[512];

static void on_h4(void *user, const uint8_t *h4, size_t len) {
  (void)user;
  hci_events++;
  memcpy(last_event, h4, len < sizeof last_event ? len : sizeof last_event);
}

static void on_reply(void *user, const char *line, size_t len) {
  (void)user;
  assert_true(len >= 2 && line[len - 1] == '\n');
  assert_null(memchr(line, '\n', len - 1)); /* one line */
  json_error_t e;
  json_t *j = json_loadb(line, len, 0, &e);
  if (!j)
    fail_msg("reply not JSON: %.*s", (int)len, line);
  assert_true(n_replies < 64);
  replies[n_replies++] = j;
}

static int on_act(void *user, vctl_control_action *a) {
  (void)user;
  actions++;
  last_action = *a;
  if (a->kind == VCTL_CONTROL_SERVICE_CHANGED && !act_result)
    return vctl_peripherals_load_string(act_json, a->file, &a->list, &a->count, a->err,
                                        sizeof a->err);
  if (act_result)
    snprintf(a->err, sizeof a->err, "refused by the test");
  return act_result;
}

static int setup(void **state) {
  (void)state;
  h_open(&H, BLEAK_FIXTURE_DB, 517);
  ctl = vctl_controller_new(NULL, H.list, H.n, on_h4, NULL);
  hub = vctl_control_hub_new(H.list, H.n);
  cs = vctl_control_new(hub, on_reply, on_act, NULL);
  assert_non_null(ctl);
  assert_non_null(cs);
  vctl_control_hub_set_controller(hub, ctl);
  n_replies = read_replies = hci_events = 0;
  actions = act_result = 0;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  assert_int_equal(read_replies, n_replies); /* every reply checked */
  for (size_t i = 0; i < n_replies; i++)
    json_decref(replies[i]);
  vctl_control_free(cs);
  vctl_control_hub_free(hub);
  vctl_controller_free(ctl);
  h_none(&H);
  h_close(&H);
  return 0;
}

static void send_line(const char *line) {
  vctl_control_input(cs, (const uint8_t *)line, strlen(line), H.now);
}

/* The next reply, asserted ok (or not). */
static json_t *next_reply(bool ok, int line) {
  if (read_replies >= n_replies)
    fail_msg("line %d: no reply", line);
  json_t *r = replies[read_replies++];
  json_t *o = json_object_get(r, "ok");
  if (json_is_true(o) != ok) {
    char *t = json_dumps(r, 0);
    fprintf(stderr, "line %d: %s\n", line, t);
    free(t);
    fail_msg("line %d: ok is not %s", line, ok ? "true" : "false");
  }
  return r;
}

static json_t *req_line(const char *line, bool ok, int at) {
  size_t before = n_replies;
  send_line(line);
  send_line("\n");
  if (n_replies != before + 1)
    fail_msg("line %d: %zu replies", at, n_replies - before);
  return next_reply(ok, at);
}
#define OK(line) req_line((line), true, __LINE__)
#define ERR(line) req_line((line), false, __LINE__)

/* The error of a refused line contains @p words. */
static void err_has(const char *line, const char *words, int at) {
  json_t *r = req_line(line, false, at);
  const char *e = json_string_value(json_object_get(r, "error"));
  if (!e || !strstr(e, words))
    fail_msg("line %d: error \"%s\" lacks \"%s\"", at, e ? e : "(none)", words);
}
#define ERR_HAS(line, words) err_has((line), (words), __LINE__)

static long long num(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static void test_framing(void **state) {
  (void)state;
  /* Any split, an id of any kind echoed, several lines in one call. */
  send_line("{\"cmd\":\"st");
  assert_int_equal(n_replies, 0);
  send_line("atus\",\"id\":7}\n\n  \r\n{\"id\":\"x\",\"cmd\":\"status\"}\r\n");
  assert_int_equal(n_replies, 2);
  json_t *r = next_reply(true, __LINE__);
  assert_int_equal(num(r, "id"), 7);
  r = next_reply(true, __LINE__);
  assert_string_equal(json_string_value(json_object_get(r, "id")), "x");
  r = OK("{\"cmd\":\"status\",\"id\":{\"a\":[1]}}");
  assert_true(json_is_object(json_object_get(r, "id")));
  ERR_HAS("not json", "not JSON");
  ERR_HAS("[1,2]", "one JSON object");
  ERR_HAS("{\"id\":1}", "no \"cmd\"");
  ERR_HAS("{\"cmd\":5}", "expected a string");
  ERR_HAS("{\"cmd\":\"fly\"}", "unknown cmd");
  ERR_HAS("{\"cmd\":\"status\",\"cmd\":\"status\"}", "not JSON");
  ERR_HAS("{\"cmd\":\"status\",\"bogus\":1}", "unknown key \"bogus\"");
  r = ERR("{\"cmd\":\"status\",\"id\":3,\"x\":0}");
  assert_int_equal(num(r, "id"), 3); /* echoed on errors too */
  /* Too long: answered at once, the rest discarded, then usable again. */
  char *big = malloc(VCTL_CONTROL_LINE_MAX + 10);
  memset(big, 'a', VCTL_CONTROL_LINE_MAX + 9);
  big[VCTL_CONTROL_LINE_MAX + 9] = 0;
  send_line(big);
  assert_int_equal(n_replies, read_replies + 1);
  r = next_reply(false, __LINE__);
  assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "longer than 65536"));
  send_line(big);
  free(big);
  assert_int_equal(n_replies, read_replies);
  send_line("}\n");
  assert_int_equal(n_replies, read_replies);
  OK("{\"cmd\":\"status\"}");
  /* Exactly the cap is fine. */
  big = malloc(VCTL_CONTROL_LINE_MAX + 1);
  memset(big, ' ', VCTL_CONTROL_LINE_MAX);
  memcpy(big, "{\"cmd\":\"status\"}", 16);
  big[VCTL_CONTROL_LINE_MAX] = 0;
  send_line(big);
  free(big);
  OK("");
  read_replies = n_replies; /* the empty line after it: no reply */
}

static void test_status(void **state) {
  (void)state;
  json_t *r = OK("{\"cmd\":\"status\"}");
  assert_true(json_is_true(json_object_get(r, "host_connected")));
  json_t *list = json_object_get(r, "peripherals");
  assert_int_equal(json_array_size(list), 1);
  json_t *p = json_array_get(list, 0);
  assert_int_equal(num(p, "index"), 0);
  assert_string_equal(json_string_value(json_object_get(p, "name")), "bleak-fx");
  assert_string_equal(json_string_value(json_object_get(p, "address")), "C0:DE:00:00:00:01");
  assert_int_equal(num(p, "links"), 1); /* the harness's connection */
  json_t *f = json_object_get(p, "faults");
  assert_int_equal(num(f, "delay_ms"), 0);
  assert_true(json_is_false(json_object_get(f, "silent")));
  assert_string_equal(json_string_value(json_object_get(f, "malformed_hex")), "");
  vctl_control_hub_set_controller(hub, NULL);
  r = OK("{\"cmd\":\"status\"}");
  assert_true(json_is_false(json_object_get(r, "host_connected")));
}

static void test_set_notify(void **state) {
  (void)state;
  h_in(&H, "12 1300 0100"); /* battery level notifications on */
  h_expect(&H, "13");
  json_t *r = OK("{\"cmd\":\"set\",\"uuid\":\"2a19\",\"value_hex\":\"2a\"}");
  assert_int_equal(num(r, "handle"), 0x12);
  h_none(&H); /* set: not notified */
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 2a");
  OK("{\"cmd\":\"notify\",\"handle\":18,\"value_hex\":\"2B\"}");
  h_expect(&H, "1b 1200 2b");
  OK("{\"cmd\":\"set\",\"peripheral\":0,\"handle\":18,\"value_hex\":\"\"}");
  h_in(&H, "0a 1200");
  h_expect(&H, "0b");
  ERR_HAS("{\"cmd\":\"set\",\"value_hex\":\"00\"}", "needs \"handle\" or \"uuid\"");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18}", "needs \"value_hex\"");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18,\"uuid\":\"2a19\",\"value_hex\":\"\"}", "not both");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":0,\"value_hex\":\"\"}", "outside 1..65535");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":\"18\",\"value_hex\":\"\"}", "expected an integer");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":2,\"value_hex\":\"00\"}", "not a characteristic value");
  ERR_HAS("{\"cmd\":\"set\",\"uuid\":\"2a19\",\"nth\":1,\"value_hex\":\"\"}", "nth 1");
  ERR_HAS("{\"cmd\":\"set\",\"uuid\":\"zz\",\"value_hex\":\"\"}", "no characteristic");
  ERR_HAS("{\"cmd\":\"set\",\"uuid\":5,\"value_hex\":\"\"}", "expected a string");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18,\"nth\":0,\"value_hex\":\"\"}", "goes with");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18,\"value_hex\":\"0\"}", "odd length");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18,\"value_hex\":\"zz\"}", "not hex");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18,\"value_hex\":\"0\\u00000\"}", "not JSON");
  ERR_HAS("{\"cmd\":\"set\",\"handle\":18,\"value_hex\":7}", "hex string");
  ERR_HAS("{\"cmd\":\"set\",\"peripheral\":1,\"handle\":18,\"value_hex\":\"\"}", "outside 0..0");
  ERR_HAS("{\"cmd\":\"notify\",\"handle\":18,\"value_hex\":\"00\",\"x\":1}", "unknown key");
  char big[2 * 513 + 64];
  int n = snprintf(big, sizeof big, "{\"cmd\":\"set\",\"handle\":18,\"value_hex\":\"");
  memset(big + n, 'a', 2 * 513);
  strcpy(big + n + 2 * 513, "\"}");
  ERR_HAS(big, "more than 512");
}

static void test_received(void **state) {
  (void)state;
  json_t *r = OK("{\"cmd\":\"received\"}");
  assert_int_equal(json_array_size(json_object_get(r, "writes")), 0);
  assert_int_equal(num(r, "dropped"), 0);
  h_in(&H, "12 2300 0102");
  h_expect(&H, "13");
  h_in(&H, "52 2500 00000000 aa");
  r = OK("{\"cmd\":\"received\"}");
  json_t *w = json_object_get(r, "writes");
  assert_int_equal(json_array_size(w), 2);
  json_t *e = json_array_get(w, 0);
  assert_int_equal(num(e, "peripheral"), 0);
  assert_int_equal(num(e, "handle"), 0x23);
  assert_string_equal(json_string_value(json_object_get(e, "value_hex")), "0102");
  assert_true(json_is_false(json_object_get(e, "command")));
  e = json_array_get(w, 1);
  assert_true(json_is_true(json_object_get(e, "command")));
  json_t *c = json_array_get(json_object_get(r, "counters"), 0);
  assert_non_null(c);
  assert_int_equal(num(c, "handle"), 0x25);
  assert_int_equal(num(c, "packets"), 1);
  assert_int_equal(num(c, "bytes"), 5);
  assert_int_equal(num(c, "lost"), 0);
  assert_int_equal(num(c, "reordered"), 0);
  r = OK("{\"cmd\":\"received\"}"); /* cleared */
  assert_int_equal(json_array_size(json_object_get(r, "writes")), 0);
  /* Past the cap: counted. */
  for (int i = 0; i < VCTL_CONTROL_LOG_MAX + 5; i++)
    h_in(&H, "52 2500 01");
  r = OK("{\"cmd\":\"received\"}");
  assert_int_equal(json_array_size(json_object_get(r, "writes")), VCTL_CONTROL_LOG_MAX);
  assert_int_equal(num(r, "dropped"), 5);
  r = OK("{\"cmd\":\"received\"}");
  assert_int_equal(num(r, "dropped"), 0);
  ERR_HAS("{\"cmd\":\"received\",\"peripheral\":0}", "unknown key");
}

static void test_fault_clear(void **state) {
  (void)state;
  json_t *r = OK("{\"cmd\":\"fault\",\"error_uuid\":\"2a19\",\"error_code\":128}");
  json_t *f = json_object_get(r, "faults");
  assert_int_equal(num(f, "error_handle"), 0x12);
  assert_int_equal(num(f, "error_code"), 128);
  h_in(&H, "0a 1200");
  h_expect(&H, "01 0a 1200 80");
  /* Keys not given keep their value. */
  r = OK("{\"cmd\":\"fault\",\"peripheral\":0,\"max_mtu\":30,\"drop_opcode\":\"write\"}");
  f = json_object_get(r, "faults");
  assert_int_equal(num(f, "error_code"), 128);
  assert_int_equal(num(f, "max_mtu"), 30);
  assert_int_equal(num(f, "drop_opcode"), 0x12);
  h_in(&H, "02 0002");
  h_expect(&H, "03 1e00");
  r = OK("{\"cmd\":\"fault\",\"malformed_hex\":\"0bff\",\"delay_ms\":0,\"silent\":false,"
         "\"drop_after\":0,\"drop_opcode\":0,\"error_code\":0}");
  f = json_object_get(r, "faults");
  assert_int_equal(num(f, "error_handle"), 0);
  assert_string_equal(json_string_value(json_object_get(f, "malformed_hex")), "0bff");
  h_in(&H, "0a 0300");
  h_expect(&H, "0b ff");
  /* A later fault does not arm the malformed answer again. */
  r = OK("{\"cmd\":\"fault\",\"delay_ms\":0}");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(r, "faults"), "malformed_hex")), "");
  h_in(&H, "0a 0300");
  h_expect(&H, "0b 626c65616b2d6678");
  r = OK("{\"cmd\":\"fault\",\"drop_opcode\":30,\"error_handle\":3,\"error_code\":1}");
  assert_int_equal(num(json_object_get(r, "faults"), "drop_opcode"), 0x1e);
  OK("{\"cmd\":\"clear\"}");
  assert_int_equal(H.list[0]->faults.drop_opcode, 0);
  assert_int_equal(H.list[0]->faults.error_code, 0);
  h_in(&H, "0a 0300");
  h_expect(&H, "0b 626c65616b2d6678");
  /* The errors, and nothing changed by a bad request. */
  ERR_HAS("{\"cmd\":\"fault\",\"delay\":5}", "\"delay\": unknown key");
  ERR_HAS("{\"cmd\":\"fault\",\"delay_ms\":-1}", "outside 0..60000");
  ERR_HAS("{\"cmd\":\"fault\",\"delay_ms\":5,\"max_mtu\":22}", "outside 23..517");
  assert_int_equal(H.list[0]->faults.delay_ms, 0);
  ERR_HAS("{\"cmd\":\"fault\",\"silent\":1}", "true or false");
  ERR_HAS("{\"cmd\":\"fault\",\"drop_opcode\":\"reed\"}", "not an ATT request name");
  ERR_HAS("{\"cmd\":\"fault\",\"drop_opcode\":256}", "0..255");
  ERR_HAS("{\"cmd\":\"fault\",\"drop_opcode\":1.5}", "0..255");
  ERR_HAS("{\"cmd\":\"fault\",\"error_code\":5}", "needs error_handle");
  ERR_HAS("{\"cmd\":\"fault\",\"error_handle\":5}", "needs error_code");
  ERR_HAS("{\"cmd\":\"fault\",\"error_handle\":5,\"error_uuid\":\"2a19\",\"error_code\":1}",
          "not both");
  ERR_HAS("{\"cmd\":\"fault\",\"error_uuid\":\"ffff\",\"error_code\":1}", "no characteristic");
  ERR_HAS("{\"cmd\":\"fault\",\"error_uuid\":1,\"error_code\":1}", "UUID string");
  ERR_HAS("{\"cmd\":\"fault\",\"error_handle\":3,\"error_code\":256}", "outside 1..255");
  ERR_HAS("{\"cmd\":\"fault\",\"malformed_hex\":\"" /* 33 bytes */
          "000000000000000000000000000000000000000000000000000000000000000000\"}",
          "more than 32");
  ERR_HAS("{\"cmd\":\"fault\",\"drop_after\":4294967296}", "outside");
  ERR_HAS("{\"cmd\":\"fault\",\"peripheral\":-1}", "outside 0..0");
  ERR_HAS("{\"cmd\":\"clear\",\"silent\":true}", "unknown key");
  assert_int_equal(H.list[0]->faults.error_code, 0);
  assert_false(H.list[0]->faults.silent);
}

static void test_send_raw_disconnect(void **state) {
  (void)state;
  json_t *r = OK("{\"cmd\":\"send_raw\",\"value_hex\":\"1b99\"}");
  assert_int_equal(num(r, "links"), 1);
  h_expect(&H, "1b 99");
  ERR_HAS("{\"cmd\":\"send_raw\",\"value_hex\":\"\"}", "fewer than 1");
  ERR_HAS("{\"cmd\":\"send_raw\"}", "needs \"value_hex\"");
  /* No link through the controller: nothing dropped. */
  r = OK("{\"cmd\":\"disconnect\",\"reason\":8}");
  assert_int_equal(num(r, "links"), 0);
  assert_int_equal(hci_events, 0);
  ERR_HAS("{\"cmd\":\"disconnect\",\"reason\":0}", "outside 1..255");
  ERR_HAS("{\"cmd\":\"disconnect\",\"reason\":\"x\"}", "integer");
  vctl_control_hub_set_controller(hub, NULL);
  r = OK("{\"cmd\":\"disconnect\"}");
  assert_int_equal(num(r, "links"), 0);
}

static void test_controller_commands(void **state) {
  (void)state;
  OK("{\"cmd\":\"hardware_error\",\"code\":66}");
  assert_int_equal(hci_events, 1);
  assert_memory_equal(last_event, "\x04\x10\x01\x42", 4);
  OK("{\"cmd\":\"hardware_error\"}");
  assert_int_equal(last_event[3], 0);
  OK("{\"cmd\":\"reset\"}");
  assert_int_equal(hci_events, 3);
  assert_memory_equal(last_event, "\x04\x10\x01\x01", 4);
  ERR_HAS("{\"cmd\":\"hardware_error\",\"code\":256}", "outside 0..255");
  ERR_HAS("{\"cmd\":\"reset\",\"code\":1}", "unknown key");
  OK("{\"cmd\":\"disappear\"}");
  assert_int_equal(actions, 1);
  assert_int_equal(last_action.kind, VCTL_CONTROL_DISAPPEAR);
  act_result = -1;
  ERR_HAS("{\"cmd\":\"disappear\"}", "refused by the test");
  vctl_control_hub_set_controller(hub, NULL);
  ERR_HAS("{\"cmd\":\"hardware_error\"}", "no host connected");
  ERR_HAS("{\"cmd\":\"reset\"}", "no host connected");
  ERR_HAS("{\"cmd\":\"disappear\"}", "no host connected");
  assert_int_equal(actions, 2);
  assert_int_equal(hci_events, 3);
}

static void test_service_changed(void **state) {
  (void)state;
  h_in(&H, "12 0900 0200");
  h_expect(&H, "13");
  snprintf(act_json, sizeof act_json,
           "{\"services\":[{\"uuid\":\"1234\",\"characteristics\":["
           "{\"uuid\":\"5678\",\"properties\":[\"read\"],\"value\":\"v2\"}]}]}");
  OK("{\"cmd\":\"service_changed\",\"file\":\"/tmp/new.json\"}");
  assert_int_equal(actions, 1);
  assert_int_equal(last_action.kind, VCTL_CONTROL_SERVICE_CHANGED);
  h_expect(&H, "1d 0800 0100 ffff");
  h_in(&H, "1e");
  h_in(&H, "0a 1200");
  h_expect(&H, "0b 7632");
  json_t *r = OK("{\"cmd\":\"set\",\"uuid\":\"5678\",\"value_hex\":\"01\"}");
  assert_int_equal(num(r, "handle"), 0x12);
  /* The loader's error, with its line and column. */
  snprintf(act_json, sizeof act_json, "{\"services\":\n [{\"uuid\":\"12x\"}]}");
  ERR_HAS("{\"cmd\":\"service_changed\",\"file\":\"bad.json\"}", "bad.json:2:");
  snprintf(act_json, sizeof act_json, "{\"peripherals\":[]}");
  r = ERR("{\"cmd\":\"service_changed\",\"file\":\"empty.json\"}");
  act_result = -1;
  ERR_HAS("{\"cmd\":\"service_changed\",\"file\":\"x\"}", "refused by the test");
  ERR_HAS("{\"cmd\":\"service_changed\"}", "needs \"file\"");
  ERR_HAS("{\"cmd\":\"service_changed\",\"file\":\"\"}", "expected a path");
  ERR_HAS("{\"cmd\":\"service_changed\",\"file\":\"a\\u0000b\"}", "not JSON");
  ERR_HAS("{\"cmd\":\"service_changed\",\"file\":[]}", "expected a path");
  assert_int_equal(actions, 4);
  (void)r;
}

/* The "faults" object of a peripheral file: the same keys. */
static void test_file_faults(void **state) {
  (void)state;
  vctl_peripheral **list;
  size_t n;
  char err[256];
  static const char good[] =
      "{\"services\":[{\"uuid\":\"180f\",\"characteristics\":[{\"uuid\":\"2a19\","
      "\"properties\":[\"read\"]}]}],"
      "\"faults\":{\"error_uuid\":\"2a19\",\"error_code\":14,\"delay_ms\":3,"
      "\"drop_opcode\":\"mtu\"}}";
  assert_int_equal(vctl_peripherals_load_string(good, "f.json", &list, &n, err, sizeof err), 0);
  assert_int_equal(list[0]->faults.error_handle, 0x12);
  assert_int_equal(list[0]->faults.error_code, 14);
  assert_int_equal(list[0]->faults.delay_ms, 3);
  assert_int_equal(list[0]->faults.drop_opcode, 0x02);
  vctl_peripherals_free(list, n);
  static const char bad[] = "{\"faults\":{\n  \"drop_opcode\": \"nope\"}}";
  assert_int_equal(vctl_peripherals_load_string(bad, "f.json", &list, &n, err, sizeof err), -1);
  assert_non_null(strstr(err, "f.json:2:18: faults.drop_opcode: not an ATT request name"));
  static const char bad2[] = "{\"faults\": 5}";
  assert_int_equal(vctl_peripherals_load_string(bad2, "f.json", &list, &n, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "faults: expected an object"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status, setup, teardown),
      cmocka_unit_test_setup_teardown(test_set_notify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_received, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fault_clear, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_raw_disconnect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_controller_commands, setup, teardown),
      cmocka_unit_test_setup_teardown(test_service_changed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_file_faults, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
