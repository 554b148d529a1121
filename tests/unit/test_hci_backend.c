/* SPDX-License-Identifier: MIT */
/*
 * The hci backend end to end, without a radio: the public API (scanner and
 * client) on a fake controller that the test serves on a unix socket, in
 * the same loop. The fake speaks just enough HCI (init, scan, connect,
 * disconnect, buffer credits) and ATT (a Battery Service with a CCCD) to
 * drive the transport, controller, ATT bearer and GATT client glue; then
 * it goes away mid-read, and the read must complete once with an I/O
 * error and the disconnected callback fire once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bleak/bleak.h"
#include "callbacks.h"
#include "fake_controller.h"

#define PEER FAKE_PEER

static fake_controller F;
static bleak_loop *L;

static void fake_unplug(void) { fake_controller_unplug(&F); }

static int setup(void **state) {
  (void)state;
  assert_int_equal(bleak_loop_new(&L), 0);
  assert_int_equal(fake_controller_start(&F, L), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  fake_controller_stop(&F);
  bleak_loop_free(L);
  return 0;
}

static void client_opts(bleak_client_options *o) {
  bleak_client_options_init(o);
  o->loop = L;
  o->backend = BLEAK_BACKEND_HCI;
  o->hci_transport = F.transport;
  o->timeout_ms = 5000;
}

/* A client on the fake controller, connected with the default options. */
static bleak_client *connected_client(void) {
  bleak_client_options o;
  client_opts(&o);
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  return c;
}

static void test_scan(void **state) {
  (void)state;
  bleak_scanner_options so;
  fake_controller_scanner_options(&F, L, &so);
  bleak_scanner *s = NULL;
  assert_int_equal(bleak_scanner_new(&so, &s), 0);
  assert_int_equal(bleak_scanner_discover(s, 300), 0);
  assert_int_equal(bleak_scanner_device_count(s), 1);
  const bleak_device *d = bleak_scanner_device_at(s, 0);
  assert_string_equal(bleak_device_address(d), PEER);
  assert_string_equal(bleak_device_name(d), "fake");
  const bleak_adv_data *adv = bleak_scanner_adv_at(s, 0);
  assert_int_equal(adv->rssi, -60);
  /* The AD bytes as the controller gave them (its padding too). */
  static const uint8_t raw[] = {2, 1, 6, 5, 9, 'f', 'a', 'k', 'e', 0};
  assert_int_equal(adv->raw_advertisement_len, sizeof raw);
  assert_memory_equal(adv->raw_advertisement, raw, sizeof raw);
  assert_null(adv->raw_scan_response);
  assert_int_equal(adv->raw_scan_response_len, 0);
  bleak_scanner_free(s);
}

/* Or-patterns and the discovery filter on hci: the core matches them
 * against the AD bytes and the report, in a passive scan too. */
static void count_detection(bleak_scanner *s, const bleak_device *d, const bleak_adv_data *a,
                            void *user) {
  (void)s;
  (void)d;
  (void)a;
  ++*(size_t *)user;
}

static void test_scan_filters(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int16_t rssi;
    const char *pattern;
    bool seen;
  } cases[] = {
      {"fake", 0, NULL, true},    {"nope", 0, NULL, false}, {"fake", -60, NULL, true},
      {"fake", -59, NULL, false}, {"fake", 0, "fa", true},  {"fake", 0, "22:", false}, {"fake", 0, PEER, true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bleak_scanner_options so;
    fake_controller_scanner_options(&F, L, &so);
    bleak_or_pattern p = {.ad_type = 0x09, .data = (const uint8_t *)cases[i].name, .len = 4};
    size_t detections = 0;
    so.scanning_mode = BLEAK_SCAN_PASSIVE;
    so.or_patterns = &p;
    so.n_or_patterns = 1;
    so.filter.rssi = cases[i].rssi;
    so.filter.pattern = cases[i].pattern;
    so.detection_callback = count_detection;
    so.user_data = &detections;
    bleak_scanner *s = NULL;
    assert_int_equal(bleak_scanner_new(&so, &s), 0);
    assert_int_equal(bleak_scanner_discover(s, 300), 0);
    if ((detections > 0) != cases[i].seen)
      fail_msg("case %zu: %zu detections", i, detections);
    bleak_scanner_free(s);
  }
}

/* use_cached on hci: the first goes to the peer, the next is the core's
 * value (no ATT read seen by the peripheral); a new connection has none. */
static void test_use_cached(void **state) {
  (void)state;
  const bleak_read_options cached = {.use_cached = true};
  for (int round = 0; round < 2; round++) {
    bleak_client *c = connected_client();
    const bleak_gatt_characteristic *ch = NULL;
    assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
    uint8_t a[8], b[8];
    size_t na = 0, nb = 0;
    int reads = F.reads_seen;
    assert_int_equal(bleak_client_read_gatt_char_opts(c, ch, &cached, a, sizeof a, &na), 0);
    assert_int_equal(F.reads_seen, reads + 1); /* nothing held yet: the peer */
    assert_int_equal(bleak_client_read_gatt_char_opts(c, ch, &cached, b, sizeof b, &nb), 0);
    assert_int_equal(F.reads_seen, reads + 1); /* held: no round trip */
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    assert_int_equal(bleak_client_disconnect(c), 0);
    bleak_client_free(c);
  }
}

/* bleak/adapter.h on hci: the controller's address; the bonds made with
 * it as the known devices; async completes from the loop only. */
static void on_adapters(int status, const bleak_adapter_info *list, size_t n, void *user) {
  (void)list;
  *(int *)user = status < 0 ? status : (int)n + 100;
}

static void test_adapters_and_known_devices(void **state) {
  (void)state;
  bleak_adapter_options ao;
  bleak_adapter_options_init(&ao);
  ao.loop = L;
  ao.backend = BLEAK_BACKEND_HCI;
  ao.hci_transport = F.transport;
  bleak_adapter_info *a = NULL;
  size_t n = 0;
  assert_int_equal(bleak_adapters_list(&ao, &a, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(a[0].address, FAKE_HOST);
  assert_string_equal(a[0].name, F.transport);
  assert_true(a[0].powered);
  free(a);
  int got = 0;
  assert_int_equal(bleak_adapters_list_async(&ao, on_adapters, &got), 0);
  assert_int_equal(got, 0); /* never before the call returns */
  uint64_t end = bleak_loop_now_ms(L) + 3000;
  while (!got && bleak_loop_now_ms(L) < end)
    bleak_loop_run_once(L, 100);
  assert_int_equal(got, 101);
  assert_int_equal(bleak_adapters_list_async(&ao, NULL, NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_adapters_list(&ao, NULL, &n), BLEAK_ERR_INVALID_ARG);

  char dir[] = "/tmp/bleak-known-XXXXXX";
  assert_non_null(mkdtemp(dir));
  ao.bond_dir = dir;
  bleak_known_device *d = NULL;
  assert_int_equal(bleak_known_devices(&ao, &d, &n), 0);
  assert_int_equal(n, 0);
  assert_null(d);
  F.smp_enabled = true;
  bleak_client_options o;
  client_opts(&o);
  o.pairing.bond_dir = dir;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(bleak_client_pair(c), 0);
  bleak_client_free(c);
  assert_int_equal(bleak_known_devices(&ao, &d, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(d[0].address, PEER);
  assert_true(d[0].paired && d[0].bonded && !d[0].connected);
  free(d);
  assert_int_equal(bleak_bonds_remove(dir, PEER), 1);
  assert_int_equal(rmdir(dir), 0);
}

/* The name in a scan response: a find that matches the advertisement
 * still sees it (the advertisement waits a moment for its response). */
static void test_scan_response(void **state) {
  (void)state;
  F.split_name = true;
  bleak_scanner_options so;
  fake_controller_scanner_options(&F, L, &so);
  bleak_scanner *s = NULL;
  const bleak_device *d = NULL;
  assert_int_equal(bleak_scanner_new(&so, &s), 0);
  assert_int_equal(bleak_scanner_find_device_by_address(s, PEER, 2000, &d), 0);
  assert_non_null(d);
  assert_non_null(bleak_device_name(d));
  assert_string_equal(bleak_device_name(d), "fake");
  const bleak_adv_data *adv = bleak_scanner_adv_at(s, 0);
  static const uint8_t raw_adv[] = {2, 1, 6}, raw_rsp[] = {5, 9, 'f', 'a', 'k', 'e'};
  assert_int_equal(adv->raw_advertisement_len, sizeof raw_adv);
  assert_memory_equal(adv->raw_advertisement, raw_adv, sizeof raw_adv);
  assert_int_equal(adv->raw_scan_response_len, sizeof raw_rsp);
  assert_memory_equal(adv->raw_scan_response, raw_rsp, sizeof raw_rsp);
  bleak_scanner_free(s);
}

static int notes, disconnects;
static uint8_t note_value;
static void on_note(bleak_client *c, const bleak_gatt_characteristic *ch, const uint8_t *d,
                    size_t n, void *u) {
  (void)c;
  (void)ch;
  (void)u;
  notes++;
  note_value = n ? d[0] : 0;
}
static void on_disc(bleak_client *c, void *u) {
  (void)c;
  (void)u;
  disconnects++;
}

static void test_connect_read_notify(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.disconnected_callback = on_disc;
  disconnects = notes = 0;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_true(bleak_client_is_connected(c));
  assert_int_equal(bleak_client_mtu_size(c), 64);
  assert_string_equal(bleak_client_name(c), "fake");
  const bleak_gatt_services *s = bleak_client_services(c);
  assert_int_equal(bleak_gatt_services_count(s), 2);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 2);
  assert_int_equal(bleak_gatt_services_descriptor_count(s), 1);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  uint8_t v[8];
  size_t n = 0;
  assert_int_equal(bleak_client_read_gatt_char(c, ch, v, sizeof v, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(v[0], 0x57);
  assert_int_equal(bleak_client_start_notify(c, ch, on_note, NULL), 0);
  bool never = false;
  for (int i = 0; i < 50 && notes == 0; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(notes, 1);
  assert_int_equal(note_value, 0x58);
  assert_int_equal(bleak_client_disconnect(c), 0);
  assert_false(bleak_client_is_connected(c));
  assert_int_equal(disconnects, 1);
  bleak_client_free(c);
}

static int read_status = 1, read_calls;
static void on_read(bleak_client *c, int st, const uint8_t *d, size_t n, void *u) {
  (void)c;
  (void)d;
  (void)n;
  (void)u;
  read_calls++;
  read_status = st;
}

/* The controller goes away mid-read: the read completes once with an
 * I/O error, the disconnected callback fires once; a new connect opens
 * the transport again. */
static void test_controller_gone(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.disconnected_callback = on_disc;
  disconnects = read_calls = 0;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  F.silent_reads = true;
  int seen = F.reads_seen;
  assert_true(bleak_client_read_gatt_char_async(c, ch, on_read, NULL) > 0);
  bool never = false;
  for (int i = 0; i < 100 && F.reads_seen == seen; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(F.reads_seen, seen + 1);
  fake_unplug();
  for (int i = 0; i < 100 && read_calls == 0; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(read_calls, 1);
  assert_int_equal(read_status, BLEAK_ERR_IO);
  assert_int_equal(disconnects, 1);
  assert_false(bleak_client_is_connected(c));
  /* Back: the next connect opens the transport again. */
  F.silent_reads = false;
  assert_int_equal(bleak_client_connect(c), 0);
  assert_true(bleak_client_is_connected(c));
  bleak_client_free(c);
  assert_int_equal(disconnects, 1); /* free does not call it */
}

/* The second connection of a client uses its cache: one Read By Type of
 * the Database Hash instead of discovery; a changed hash means discovery
 * again. */
static void test_cache(void **state) {
  (void)state;
  bleak_client *c = connected_client();
  int cold = F.discovery_requests;
  assert_true(cold >= 4);
  /* The hash is read after connect, in the background. */
  bool never = false;
  for (int i = 0; i < 20; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(bleak_client_disconnect(c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(F.discovery_requests, cold); /* none: the cache */
  assert_int_equal(bleak_gatt_services_characteristic_count(bleak_client_services(c)), 2);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  uint8_t v[4];
  size_t n;
  assert_int_equal(bleak_client_read_gatt_char(c, ch, v, sizeof v, &n), 0);
  assert_int_equal(v[0], 0x57);
  assert_int_equal(bleak_client_disconnect(c), 0);
  F.hash_version = 1; /* the peer's database changed */
  assert_int_equal(bleak_client_connect(c), 0);
  assert_true(F.discovery_requests >= 2 * cold);
  bleak_client_free(c);
}

/* A connection that fails to be established (0x3E) is transient: the
 * core tries again, backing off from 100 ms, while the connect's timeout
 * leaves room; then the last failure is the connect's result. */
static void test_connect_retried(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  F.fail_connects = 2;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_true(F.connects >= 2 && F.connects <= 4);
  bleak_client_free(c);
  /* Failing on and on: tries after the search, then 100 and 200 ms later,
   * while the wait leaves room in 500 ms; then the connect says why it
   * failed (not TIMEOUT). */
  F.fail_connects = 1000;
  F.connects = 0;
  o.timeout_ms = 500;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_HCI(0x3e));
  assert_true(F.connects >= 2 && F.connects <= 4);
  bleak_client_free(c);
}

/* Nobody advertises that address: DEVICE_NOT_FOUND before the timeout. */
static void test_not_found(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.timeout_ms = 600;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new("66:55:44:33:22:11", &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_DEVICE_NOT_FOUND);
  bleak_client_free(c);
}

/* The peer's LE signalling and SMP reach the sans-I/O layers and their
 * answers go back on the link: a parameter update is accepted and applied
 * with LE Connection Update; a Security Request starts pairing (our
 * Pairing Request: NoInputNoOutput without a pairing callback, bonding and
 * Secure Connections, a 16-octet key, the peer's keys asked for). */
static void test_signalling_and_smp(void **state) {
  (void)state;
  bleak_client *c = connected_client();
  static const uint8_t upd[] = {0x12, 0x07, 8, 0, 0x06, 0, 0x18, 0, 0x04, 0, 0xf4, 0x01};
  fake_controller_send_l2cap(&F, 5, upd, sizeof upd);
  static const uint8_t sec[] = {0x0b, 0x01};
  fake_controller_send_l2cap(&F, 6, sec, sizeof sec);
  bool never = false;
  for (int i = 0; i < 50 && (!F.smp_rx_len || !F.conn_update_len); i++)
    bleak_loop_run_until(L, &never, 10);
  static const uint8_t accepted[] = {0x13, 0x07, 2, 0, 0, 0};
  assert_int_equal(F.sig_rx_len, sizeof accepted);
  assert_memory_equal(F.sig_rx, accepted, sizeof accepted);
  /* handle 0x0040, the peer's values, no connection event length wish */
  static const uint8_t update[] = {0x40, 0, 0x06, 0, 0x18, 0, 0x04, 0, 0xf4, 0x01, 0, 0, 0, 0};
  assert_int_equal(F.conn_update_len, sizeof update);
  assert_memory_equal(F.conn_update, update, sizeof update);
  static const uint8_t request[] = {0x01, 0x03, 0x00, 0x09, 16, 0x00, 0x07};
  assert_int_equal(F.smp_rx_len, sizeof request);
  assert_memory_equal(F.smp_rx, request, sizeof request);
  assert_true(bleak_client_is_connected(c));
  bleak_client_free(c);
}

/* Writes without response paced by controller credits: those beyond the
 * backlog wait in the client's queue and go out in order as buffers free
 * up; one canceled while waiting never goes, the others are not held up. */
static int wwr_status[24], wwr_done;
static void on_wwr(bleak_client *c, int st, void *u) {
  (void)c;
  wwr_status[(intptr_t)u] = st;
  wwr_done++;
}

static void test_paced_writes(void **state) {
  (void)state;
  bleak_client *c = connected_client();
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  enum { N = 24, CANCELED = 20 };
  int ids[N];
  wwr_done = 0;
  for (int i = 0; i < N; i++) {
    uint8_t v = (uint8_t)i;
    wwr_status[i] = 1;
    ids[i] = bleak_client_write_gatt_char_async(c, ch, &v, 1, BLEAK_WRITE_WITHOUT_RESPONSE,
                                                on_wwr, (void *)(intptr_t)i);
    assert_true(ids[i] > 0);
  }
  /* 8 went to the controller's buffers, 8 wait for credits in the host:
   * the rest wait in the client, where a cancel takes one out. */
  assert_int_equal(bleak_client_cancel(c, ids[CANCELED]), 0);
  bool never = false;
  for (int i = 0; i < 100 && wwr_done < N; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(wwr_done, N);
  for (int i = 0; i < N; i++)
    assert_int_equal(wwr_status[i], i == CANCELED ? BLEAK_ERR_CANCELED : 0);
  for (int i = 0; i < 50 && F.writes_seen < N - 1; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(F.writes_seen, N - 1);
  for (int i = 0, k = 0; i < N; i++)
    if (i != CANCELED)
      assert_int_equal(F.written[k++], i);
  bleak_client_free(c);
}

/* No transport at all: a clear error at creation. */
static void test_no_transport(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.hci_transport = NULL;
  unsetenv("BLEAK_HCI");
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), BLEAK_ERR_NO_BACKEND);
  o.hci_transport = "unix:/nonexistent/socket";
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_NOT_FOUND);
  bleak_client_free(c);
  o.hci_transport = "serial:/dev/null";
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_INVALID_ARG);
  bleak_client_free(c);
}


/* ---- the contract on the fake controller, for every op kind ----
 * A completion callback may cancel another op, start new ones, or free
 * the client (deferred); each op completes once, never inside its call. */

typedef enum action { ACT_CANCEL, ACT_START, ACT_FREE } action;

typedef struct probe {
  action act;
  bleak_client *c;
  int calls, status;
  bool in_call;   /* inside the async call that started it */
  bool early;     /* called back while in_call */
  int other_id;   /* a pending read, for ACT_CANCEL */
  int other_calls, other_status;
  bool freed;
} probe;

static const bleak_gatt_characteristic *battery(bleak_client *c) {
  const bleak_gatt_characteristic *ch = NULL;
  return bleak_client_char_by_uuid(c, "2a19", &ch) == 0 ? ch : NULL;
}

static void other_done(bleak_client *c, int status, const uint8_t *d, size_t n, void *u) {
  (void)c;
  (void)d;
  (void)n;
  probe *p = u;
  p->other_calls++;
  p->other_status = status;
}

static void probe_done(bleak_client *c, int status, void *u) {
  probe *p = u;
  p->calls++;
  p->status = status;
  p->early = p->early || p->in_call;
  switch (p->act) {
  case ACT_CANCEL:
    /* NOT_FOUND when it completed already (the link's end, say), its
     * callback still to come. */
    if (p->other_id > 0 && p->other_calls == 0) {
      int r = bleak_client_cancel(c, p->other_id);
      assert_true(r == 0 || r == BLEAK_ERR_NOT_FOUND);
    }
    break;
  case ACT_START:
    if (battery(c)) /* still connected: a read from here completes later */
      p->other_id = bleak_client_read_gatt_char_async(c, battery(c), other_done, p);
    break;
  case ACT_FREE:
    bleak_client_free(c); /* deferred until this callback returns */
    p->freed = true;
    break;
  }
}

TEST_READ_AS_DONE(probe_read, probe_done)


static int start_kind(bleak_client *c, int kind, probe *p) {
  static const uint8_t on[2] = {1, 0};
  const bleak_gatt_characteristic *ch = battery(c);
  const bleak_gatt_descriptor *d = ch ? bleak_gatt_characteristic_descriptor_at(ch, 0) : NULL;
  switch (kind) {
  case 0:
    return bleak_client_connect_async(c, probe_done, p);
  case 1:
    return bleak_client_read_gatt_char_async(c, ch, probe_read, p);
  case 2:
    return bleak_client_write_gatt_char_async(c, ch, on, 1, BLEAK_WRITE_AUTO, probe_done, p);
  case 3:
    return bleak_client_start_notify_async(c, ch, test_ignore_value, NULL, probe_done, p);
  case 4:
    return bleak_client_stop_notify_async(c, ch, probe_done, p);
  case 5:
    return bleak_client_read_gatt_descriptor_async(c, d, probe_read, p);
  case 6:
    return bleak_client_write_gatt_descriptor_async(c, d, on, 2, probe_done, p);
  case 7:
    return bleak_client_pair_async(c, probe_done, p);
  case 8:
    return bleak_client_unpair_async(c, probe_done, p);
  default:
    return bleak_client_disconnect_async(c, probe_done, p);
  }
}

static void run_until(bool (*cond)(const probe *), const probe *p) {
  uint64_t end = bleak_loop_now_ms(L) + 3000;
  while (!cond(p) && bleak_loop_now_ms(L) < end)
    bleak_loop_run_once(L, 20);
}
static bool called(const probe *p) { return p->calls > 0; }
static bool other_called(const probe *p) { return p->other_calls > 0; }

static void test_callbacks_may_cancel_start_or_free(void **state) {
  (void)state;
  /* pair and unpair: the fake's SMP peer pairs, the bond goes to a
   * directory of this test's (removed after) */
  F.smp_enabled = true;
  char dir[] = "/tmp/bleak-bonds-XXXXXX", bond[sizeof dir + sizeof FAKE_BOND_FILE + 1];
  assert_non_null(mkdtemp(dir));
  snprintf(bond, sizeof bond, "%s/%s", dir, FAKE_BOND_FILE);
  for (int kind = 0; kind <= 9; kind++)
    for (int act = ACT_CANCEL; act <= ACT_FREE; act++) {
      bleak_client_options o;
      client_opts(&o);
      o.pairing.bond_dir = dir;
      probe p = {.act = (action)act};
      assert_int_equal(bleak_client_new(PEER, &o, &p.c), 0);
      if (kind != 0) {
        assert_int_equal(bleak_client_connect(p.c), 0);
        if (kind == 4)
          assert_int_equal(bleak_client_start_notify(p.c, battery(p.c), test_ignore_value, NULL), 0);
        if (act == ACT_CANCEL) /* queued behind the op: one ATT request at a time */
          p.other_id = -1;
      }
      p.in_call = true;
      int id = start_kind(p.c, kind, &p);
      p.in_call = false;
      if (kind == 6) { /* the fake's one descriptor is a CCCD: refused (Bleak 3.0) */
        assert_int_equal(id, BLEAK_ERR_INVALID_ARG);
        assert_non_null(strstr(bleak_error_detail(), "start_notify"));
        bleak_client_free(p.c);
        continue;
      }
      assert_true(id > 0);
      if (act == ACT_CANCEL && kind != 0 && kind != 9)
        p.other_id = bleak_client_read_gatt_char_async(p.c, battery(p.c), other_done, &p);
      run_until(called, &p);
      assert_int_equal(p.calls, 1);
      assert_false(p.early);
      if (p.other_id > 0)
        run_until(other_called, &p);
      if (!p.freed)
        bleak_client_free(p.c);
      else /* the loop ran the deferred free; one more pass for its sources */
        bleak_loop_run_until(L, &(bool){false}, 10);
      if (p.other_id > 0)
        assert_int_equal(p.other_calls, 1);
      if (act == ACT_CANCEL && p.other_id > 0)
        assert_true(p.other_status == BLEAK_ERR_CANCELED || p.other_status == 0 ||
                    (kind == 8 && p.other_status == BLEAK_ERR_DISCONNECTED)); /* unpair */
      assert_int_equal(p.calls, 1); /* free added no second call */
      if (kind == 7) /* paired (or already: bonded) */
        assert_int_equal(p.status, 0);
    }
  unlink(bond); /* unpair removed it; a pair after would have made it again */
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  /* TEST_LOG=1: the library's log, to see what the fake was told. */
  bleak_log_set_level(getenv("TEST_LOG") ? BLEAK_LOG_DEBUG : BLEAK_LOG_NONE);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_response, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_filters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_adapters_and_known_devices, setup, teardown),
      cmocka_unit_test_setup_teardown(test_use_cached, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_read_notify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_controller_gone, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_retried, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_transport, setup, teardown),
      cmocka_unit_test_setup_teardown(test_callbacks_may_cancel_start_or_free, setup, teardown),
      cmocka_unit_test_setup_teardown(test_signalling_and_smp, setup, teardown),
      cmocka_unit_test_setup_teardown(test_paced_writes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
