/* SPDX-License-Identifier: MIT */
/*
 * The bluez backend against a fake bluetoothd (tests/support/fake_bluez.py)
 * on a private D-Bus daemon, run by tests/unit/bluez_host.sh: the object
 * tree (one GetManagedObjects per process, services built from it), the
 * connect's retry policy and its errors, reads, disconnects, the adapter
 * lists. In seconds, without the guest; the guest suite stays the proof
 * against the real BlueZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "backend/bluez/bus.h"
#include "backend/bluez/objects.h"
#include "bleak/bleak.h"

#define DEV1 "11:22:33:44:55:01" /* fails once, then connects */
#define DEV2 "11:22:33:44:55:02" /* no free connection slot */
#define DEV3 "11:22:33:44:55:03" /* always le-connection-abort-by-local */
#define DEV6 "11:22:33:44:55:06" /* first connect never resolves: a stale cache */

static bleak_loop *loop;

/* How often the fake saw a call ("Connect:01", "GetManagedObjects", ...). */
static unsigned fake_calls(const char *key) {
  sd_bus *b = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  unsigned n = 0;
  assert_true(sd_bus_new(&b) >= 0);
  assert_true(sd_bus_set_address(b, getenv("BLEAK_DBUS_ADDRESS")) >= 0);
  assert_true(sd_bus_set_bus_client(b, 1) >= 0);
  assert_true(sd_bus_start(b) >= 0);
  assert_true(sd_bus_call_method(b, "org.bluez", "/", "org.bleak.Test", "Calls", &e, &reply, "s",
                                 key) >= 0);
  assert_true(sd_bus_message_read(reply, "u", &n) > 0);
  sd_bus_message_unref(reply);
  sd_bus_error_free(&e);
  sd_bus_flush_close_unref(b);
  return n;
}

static int disconnects;
static void on_disconnected(bleak_client *c, void *user) {
  (void)c;
  (void)user;
  disconnects++;
}

static bleak_client *client(const char *addr, bool no_retry) {
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_BLUEZ;
  o.timeout_ms = 5000;
  o.no_connect_retry = no_retry;
  o.disconnected_callback = on_disconnected;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(addr, &o, &c), 0);
  return c;
}

static unsigned fills(void) {
  bk_bus *b = NULL;
  assert_int_equal(bk_bus_get(loop, &b), 0);
  unsigned n = bz_objects_fills(bz_objects_of(b));
  bk_bus_unref(b);
  return n;
}

/* Connect retried after le-connection-abort-by-local; services from the
 * tree with BlueZ's handles; the live MTU; a read; one GetManagedObjects
 * for everything this process does. */
static void test_connect_read_disconnect(void **state) {
  (void)state;
  bleak_client *c = client(DEV1, false);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(fake_calls("Connect:01"), 2); /* the first failed: retried */
  /* The whole connect of a device the tree knows: Connect, and one
   * Properties.Get of the MTU; no discovery, no second GetManagedObjects. */
  assert_int_equal(fake_calls("Get"), 1);
  assert_int_equal(fake_calls("StartDiscovery"), 0);
  assert_true(bleak_client_is_connected(c));
  bleak_gatt_services *s = bleak_client_services(c);
  assert_int_equal(bleak_gatt_services_count(s), 1);
  const bleak_gatt_characteristic *lvl = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &lvl), 0);
  assert_int_equal(bleak_gatt_characteristic_handle(lvl), 0x0011);
  assert_int_equal(bleak_gatt_characteristic_value_handle(lvl), 0x0012);
  assert_int_equal(bleak_client_mtu_size(c), 247); /* Properties.Get, not the stale 23 */
  uint8_t v[8];
  size_t n = 0;
  assert_int_equal(bleak_client_read_gatt_char(c, lvl, v, sizeof v, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(v[0], 0x57);
  /* use_cached: BlueZ's Value is empty (never read by BlueZ): no answer
   * from it, and the core has the value just read. */
  const bleak_read_options cached = {.use_cached = true};
  unsigned reads = fake_calls("ReadValue");
  assert_int_equal(bleak_client_read_gatt_char_opts(c, lvl, &cached, v, sizeof v, &n), 0);
  assert_int_equal(v[0], 0x57);
  assert_int_equal(fake_calls("ReadValue"), reads);

  int before = disconnects;
  assert_int_equal(bleak_client_disconnect(c), 0);
  assert_false(bleak_client_is_connected(c));
  assert_int_equal(disconnects, before + 1);
  /* Again: the device and its GATT objects are in the tree already. */
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(fake_calls("Connect:01"), 3);
  assert_int_equal(bleak_client_disconnect(c), 0);
  bleak_client_free(c);
  assert_int_equal(fills(), 1);
  assert_int_equal(fake_calls("GetManagedObjects"), 1);
}

static void test_no_slot_is_not_retried(void **state) {
  (void)state;
  bleak_client *c = client(DEV2, false);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_NO_SLOT);
  assert_int_equal(fake_calls("Connect:02"), 1);
  assert_false(bleak_client_is_connected(c));
  bleak_client_free(c);
}

static void test_no_connect_retry(void **state) {
  (void)state;
  bleak_client *c = client(DEV3, true);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_BACKEND);
  assert_int_equal(fake_calls("Connect:03"), 1);
  assert_non_null(strstr(bleak_error_detail(), "le-connection-abort-by-local"));
  bleak_client_free(c);
  /* With retries: tried again within the timeout, then its last error. */
  c = client(DEV3, false);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_BACKEND);
  assert_true(fake_calls("Connect:03") > 2);
  bleak_client_free(c);
}

static void test_adapters_and_devices(void **state) {
  (void)state;
  bleak_adapter_options o;
  bleak_adapter_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_BLUEZ;
  bleak_adapter_info *a = NULL;
  size_t n = 0;
  assert_int_equal(bleak_adapters_list(&o, &a, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(a[0].name, "hci0");
  assert_string_equal(a[0].address, "AA:BB:CC:00:00:01");
  assert_true(a[0].powered);
  free(a);
  bleak_known_device *d = NULL;
  assert_int_equal(bleak_known_devices(&o, &d, &n), 0);
  assert_int_equal(n, 0); /* none connected or paired */
  free(d);
  o.adapter = "hci7";
  assert_int_equal(bleak_known_devices(&o, &d, &n), BLEAK_ERR_NO_ADAPTER);
  assert_int_equal(fake_calls("GetManagedObjects"), 1); /* still the one */
}

static void test_unknown_adapter(void **state) {
  (void)state;
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_BLUEZ;
  o.adapter = "hci5";
  o.timeout_ms = 2000;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(DEV1, &o, &c), 0);
  int r = bleak_client_connect(c);
  assert_int_equal(r, BLEAK_ERR_NO_ADAPTER);
  assert_true(bleak_error_is_not_available(r));
  bleak_client_free(c);
}

/* ServicesResolved never comes: after half the timeout the attempt is
 * given up, BlueZ's cache of the (unpaired) device cleared with
 * RemoveDevice, the device found again by the core's search and
 * connected; one completion, no disconnected callback on the way. */
static void test_services_never_resolved(void **state) {
  (void)state;
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_BLUEZ;
  o.timeout_ms = 12000;
  o.disconnected_callback = on_disconnected;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(DEV6, &o, &c), 0);
  int before = disconnects;
  assert_int_equal(bleak_client_connect(c), 0);
  assert_int_equal(fake_calls("RemoveDevice"), 1);
  assert_int_equal(fake_calls("Connect:06"), 2);
  assert_true(fake_calls("StartDiscovery") >= 1);
  assert_int_equal(disconnects, before);
  const bleak_gatt_characteristic *lvl = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &lvl), 0);
  assert_int_equal(bleak_client_disconnect(c), 0);
  assert_int_equal(disconnects, before + 1);
  bleak_client_free(c);
}

/* Passive scanning: the advertisement monitor with its or-pattern; only
 * what it matched is reported; UnregisterMonitor at the end. */
static int saw_unmatched;
static void on_detect(bleak_scanner *sc, const bleak_device *d, const bleak_adv_data *adv,
                      void *user) {
  (void)sc, (void)adv, (void)user;
  if (!strcmp(bleak_device_address(d), "11:22:33:44:55:05"))
    saw_unmatched++;
}

static void test_passive_scan(void **state) {
  (void)state;
  static const uint8_t company[] = {0xff, 0xff, 0x01};
  const bleak_or_pattern pat = {.start_position = 0, .ad_type = 0xff, .data = company, .len = 3};
  bleak_scanner_options o;
  bleak_scanner_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_BLUEZ;
  o.scanning_mode = BLEAK_SCAN_PASSIVE;
  o.detection_callback = on_detect;
  bleak_scanner *sc = NULL;
  assert_int_equal(bleak_scanner_new(&o, &sc), 0);
  assert_int_equal(bleak_scanner_start(sc), BLEAK_ERR_INVALID_ARG); /* no or_patterns */
  bleak_scanner_free(sc);

  o.or_patterns = &pat;
  o.n_or_patterns = 1;
  assert_int_equal(bleak_scanner_new(&o, &sc), 0);
  const bleak_device *d = NULL;
  assert_int_equal(bleak_scanner_find_device_by_address(sc, "11:22:33:44:55:04", 3000, &d), 0);
  assert_non_null(d);
  assert_int_equal(fake_calls("RegisterMonitor"), 1);
  assert_int_equal(saw_unmatched, 0);
  const bleak_adv_data *adv = NULL;
  for (size_t i = 0; i < bleak_scanner_device_count(sc); i++)
    if (bleak_scanner_device_at(sc, i) == d)
      adv = bleak_scanner_adv_at(sc, i);
  assert_non_null(adv);
  assert_int_equal(adv->n_manufacturer_data, 1);
  assert_int_equal(adv->manufacturer_data[0].company_id, 0xffff);
  bleak_scanner_free(sc);
  /* UnregisterMonitor is sent without a reply wanted: wait for the fake to
   * count it, with a deadline. */
  uint64_t end = bleak_loop_now_ms(loop) + 2000;
  while (fake_calls("UnregisterMonitor") == 0 && bleak_loop_now_ms(loop) < end)
    bleak_loop_run_once(loop, 20);
  assert_int_equal(fake_calls("UnregisterMonitor"), 1);
}

int main(void) {
  if (!getenv("BLEAK_DBUS_ADDRESS")) {
    fprintf(stderr, "test_bluez_host: run through tests/unit/bluez_host.sh\n");
    return 1;
  }
  loop = bleak_loop_default();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_connect_read_disconnect),
      cmocka_unit_test(test_no_slot_is_not_retried),
      cmocka_unit_test(test_no_connect_retry),
      cmocka_unit_test(test_adapters_and_devices),
      cmocka_unit_test(test_unknown_adapter),
      cmocka_unit_test(test_passive_scan),
      cmocka_unit_test(test_services_never_resolved),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  bleak_loop_free(loop);
  return r;
}
