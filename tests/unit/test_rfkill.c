/* SPDX-License-Identifier: MIT */
/* rfkill from a sysfs tree of the test's own: the adapter's switch, any
 * Bluetooth switch, soft and hard, nothing readable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rfkill.h"

static char root[64];

static void put(const char *rel, const char *text) {
  char path[256], cmd[300];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
  assert_int_equal(system(cmd), 0);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  snprintf(root, sizeof root, "/tmp/bleak-rfkill-XXXXXX");
  return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_nothing_readable(void **state) {
  (void)state;
  assert_false(bk_rfkill_blocked(root, "hci0"));
  assert_false(bk_rfkill_blocked(root, NULL));
  assert_false(bk_rfkill_blocked("/nonexistent-sysfs", "hci0"));
}

static void test_adapter_switch(void **state) {
  (void)state;
  put("class/bluetooth/hci0/rfkill3/soft", "0\n");
  put("class/bluetooth/hci0/rfkill3/hard", "0\n");
  put("class/rfkill/rfkill7/type", "bluetooth\n"); /* another adapter's, blocked */
  put("class/rfkill/rfkill7/soft", "1\n");
  assert_false(bk_rfkill_blocked(root, "hci0")); /* its own switch decides */
  assert_true(bk_rfkill_blocked(root, NULL));
  assert_true(bk_rfkill_blocked(root, "hci1")); /* no switch of its own: any */
  put("class/bluetooth/hci0/rfkill3/hard", "1\n");
  assert_true(bk_rfkill_blocked(root, "hci0"));
  assert_true(bk_rfkill_blocked(root, "../x")); /* no paths from names: as no name */
}

static void test_type_matters(void **state) {
  (void)state;
  put("class/rfkill/rfkill1/type", "wlan\n");
  put("class/rfkill/rfkill1/soft", "1\n");
  assert_false(bk_rfkill_blocked(root, NULL));
  put("class/rfkill/rfkill2/type", "bluetooth\n");
  put("class/rfkill/rfkill2/soft", "0\n");
  put("class/rfkill/rfkill2/hard", "0\n");
  assert_false(bk_rfkill_blocked(root, "hci0"));
  put("class/rfkill/rfkill2/soft", "1\n");
  assert_true(bk_rfkill_blocked(root, "hci0"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_nothing_readable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_adapter_switch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_type_matters, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
