/* SPDX-License-Identifier: MIT */
/*
 * BlueZ's D-Bus errors to bleak errors (bk_bus_error): each name and
 * message BlueZ 5.66 and the D-Bus daemon send for what users meet, with
 * its code and a detail that keeps BlueZ's own words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "backend/bluez/bus.h"
#include "bleak/error.h"

static int map(const char *name, const char *msg) {
  const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(name, msg);
  return bk_bus_error(&e, "Call");
}

static void test_gatt_errors(void **state) {
  (void)state;
  assert_int_equal(map("org.bluez.Error.NotPermitted", "Read not permitted"),
                   BLEAK_ERR_ATT(BLEAK_ATT_READ_NOT_PERMITTED));
  assert_int_equal(map("org.bluez.Error.NotPermitted", "Write not permitted"),
                   BLEAK_ERR_ATT(BLEAK_ATT_WRITE_NOT_PERMITTED));
  assert_int_equal(map("org.bluez.Error.NotPermitted", "Not paired"),
                   BLEAK_ERR_ATT(BLEAK_ATT_INSUFFICIENT_AUTHENTICATION));
  assert_int_equal(map("org.bluez.Error.NotAuthorized", "Not authorized"),
                   BLEAK_ERR_ATT(BLEAK_ATT_INSUFFICIENT_AUTHORIZATION));
  assert_int_equal(map("org.bluez.Error.InvalidOffset", "Invalid offset"),
                   BLEAK_ERR_ATT(BLEAK_ATT_INVALID_OFFSET));
  assert_int_equal(map("org.bluez.Error.Failed", "Invalid Length"),
                   BLEAK_ERR_ATT(BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH));
  /* "Operation failed with ATT error: 0x%02x": the peer's own code. */
  assert_int_equal(map("org.bluez.Error.Failed", "Operation failed with ATT error: 0x80"),
                   BLEAK_ERR_ATT(0x80));
  assert_string_equal(bleak_error_detail(),
                      "Call: org.bluez.Error.Failed: Operation failed with ATT error: 0x80");
  /* A hostile or broken code does not become an ATT error. */
  assert_int_equal(map("org.bluez.Error.Failed", "Operation failed with ATT error: 0x"),
                   BLEAK_ERR_BACKEND);
  assert_int_equal(map("org.bluez.Error.Failed", "Operation failed with ATT error: 0x1ff"),
                   BLEAK_ERR_BACKEND);
}

static void test_link_and_availability(void **state) {
  (void)state;
  assert_int_equal(map("org.bluez.Error.NotConnected", "Not Connected"), BLEAK_ERR_NOT_CONNECTED);
  assert_int_equal(map("org.bluez.Error.Failed", "Not connected"), BLEAK_ERR_NOT_CONNECTED);
  assert_int_equal(map("org.bluez.Error.Failed", "le-connection-concurrent-connection-limit"),
                   BLEAK_ERR_NO_SLOT);
  assert_int_equal(map("org.bluez.Error.Failed", "Too many links"), BLEAK_ERR_NO_SLOT);
  /* Transient, for the connect's retries: a plain backend error. */
  assert_int_equal(map("org.bluez.Error.Failed", "le-connection-abort-by-local"),
                   BLEAK_ERR_BACKEND);
  assert_int_equal(map("org.bluez.Error.InProgress", "In Progress"), BLEAK_ERR_BUSY);
  int r = map("org.bluez.Error.NotReady", "Resource Not Ready");
  assert_true(r == BLEAK_ERR_POWERED_OFF || r == BLEAK_ERR_RFKILL); /* rfkill: this machine's */
  assert_int_equal(map("org.freedesktop.DBus.Error.AccessDenied", "Rejected send message"),
                   BLEAK_ERR_PERMISSION);
  assert_int_equal(map("org.freedesktop.DBus.Error.ServiceUnknown",
                       "The name org.bluez was not provided by any .service files"),
                   BLEAK_ERR_NO_BLUETOOTHD);
  assert_int_equal(map("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner"),
                   BLEAK_ERR_NO_BLUETOOTHD);
  assert_int_equal(map("org.freedesktop.DBus.Error.Spawn.ChildExited",
                       "Launch helper exited with unknown return code 1"),
                   BLEAK_ERR_NO_BLUETOOTHD);
  assert_true(bleak_error_is_not_available(BLEAK_ERR_NO_BLUETOOTHD));
}

static void test_other_errors(void **state) {
  (void)state;
  assert_int_equal(map("org.bluez.Error.AuthenticationFailed", "Authentication Failed"),
                   BLEAK_ERR_AUTH);
  assert_int_equal(map("org.bluez.Error.AuthenticationCanceled", "x"), BLEAK_ERR_AUTH);
  assert_int_equal(map("org.freedesktop.DBus.Error.NoReply", "Did not receive a reply"),
                   BLEAK_ERR_TIMEOUT);
  assert_int_equal(map("org.freedesktop.DBus.Error.UnknownObject", "x"), BLEAK_ERR_NOT_FOUND);
  assert_int_equal(map("org.bluez.Error.DoesNotExist", "Does Not Exist"), BLEAK_ERR_NOT_FOUND);
  /* Anything else: a backend error that keeps BlueZ's words. */
  assert_int_equal(map("org.example.Weird", "something"), BLEAK_ERR_BACKEND);
  assert_string_equal(bleak_error_detail(), "Call: org.example.Weird: something");
  /* No error at all (a broken reply): still a clear answer. */
  assert_int_equal(bk_bus_error(NULL, "Call"), BLEAK_ERR_BACKEND);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gatt_errors),
      cmocka_unit_test(test_link_and_availability),
      cmocka_unit_test(test_other_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
