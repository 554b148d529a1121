/* SPDX-License-Identifier: MIT */
/* Logging: BLEAK_LOGGING, levels, the user handler. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bleak/error.h"
#include "bleak/log.h"
#include "core/internal.h"

typedef struct {
  int count;
  bleak_log_level level;
  char module[32];
  char msg[600];
} captured;

static void capture(bleak_log_level level, const char *module, const char *msg,
                    void *user) {
  captured *c = user;
  c->count++;
  c->level = level;
  strncpy(c->module, module, sizeof c->module - 1);
  strncpy(c->msg, msg, sizeof c->msg - 1);
}

/* Must run first: BLEAK_LOGGING is read once, on first use. */
static void test_env_variable(void **state) {
  (void)state;
  assert_int_equal(setenv("BLEAK_LOGGING", "1", 1), 0);
  assert_int_equal(bleak_log_get_level(), BLEAK_LOG_DEBUG);
  captured c = {0};
  bleak_log_set_handler(capture, &c);
  BK_DEBUG("test", "hello %d", 42);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.level, BLEAK_LOG_DEBUG);
  assert_string_equal(c.module, "test");
  assert_string_equal(c.msg, "hello 42");
  bleak_log_set_handler(NULL, NULL);
}

static void test_parse_level(void **state) {
  (void)state;
  bleak_log_level l;
  static const struct {
    const char *s;
    bleak_log_level l;
  } ok[] = {{"debug", BLEAK_LOG_DEBUG}, {"DEBUG", BLEAK_LOG_DEBUG},
            {"Info", BLEAK_LOG_INFO},   {"warning", BLEAK_LOG_WARNING},
            {"warn", BLEAK_LOG_WARNING}, {"error", BLEAK_LOG_ERROR},
            {"none", BLEAK_LOG_NONE},   {"1", BLEAK_LOG_DEBUG},
            {"true", BLEAK_LOG_DEBUG},  {"0", BLEAK_LOG_WARNING},
            {"off", BLEAK_LOG_WARNING}};
  for (size_t i = 0; i < BK_ARRAY_SIZE(ok); i++) {
    assert_int_equal(bleak_log_parse_level(ok[i].s, &l), 0);
    assert_int_equal(l, ok[i].l);
  }
  static const char *bad[] = {"", "2", "debugx", " debug", "verbose"};
  for (size_t i = 0; i < BK_ARRAY_SIZE(bad); i++)
    assert_int_equal(bleak_log_parse_level(bad[i], &l), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_log_parse_level(NULL, &l), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_log_parse_level("debug", NULL), BLEAK_ERR_INVALID_ARG);
}

static void test_level_filter(void **state) {
  (void)state;
  captured c = {0};
  bleak_log_set_handler(capture, &c);
  bleak_log_set_level(BLEAK_LOG_WARNING);
  assert_int_equal(bleak_log_get_level(), BLEAK_LOG_WARNING);
  BK_DEBUG("m", "dropped");
  BK_INFO("m", "dropped");
  assert_int_equal(c.count, 0);
  BK_WARN("m", "kept");
  BK_ERROR("m", "kept too");
  assert_int_equal(c.count, 2);
  assert_int_equal(c.level, BLEAK_LOG_ERROR);
  assert_string_equal(c.msg, "kept too");
  bleak_log_set_level(BLEAK_LOG_NONE);
  BK_ERROR("m", "silenced");
  assert_int_equal(c.count, 2);
  assert_false(bk_log_enabled(BLEAK_LOG_ERROR));
  bleak_log_set_level(BLEAK_LOG_DEBUG);
  assert_true(bk_log_enabled(BLEAK_LOG_DEBUG));
  bleak_log_set_handler(NULL, NULL);
}

static void test_one_line_and_null_module(void **state) {
  (void)state;
  captured c = {0};
  bleak_log_set_handler(capture, &c);
  bleak_log_set_level(BLEAK_LOG_DEBUG);
  bk_log(BLEAK_LOG_INFO, NULL, "two\nlines\r");
  assert_string_equal(c.module, "bleak");
  assert_string_equal(c.msg, "two lines ");
  /* Long messages are cut at the buffer, not overflowed. */
  char big[2048];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  bk_log(BLEAK_LOG_INFO, "m", "%s", big);
  assert_int_equal(strlen(c.msg), 511);
  bleak_log_set_handler(NULL, NULL);
}

static void test_level_names(void **state) {
  (void)state;
  assert_string_equal(bleak_log_level_name(BLEAK_LOG_DEBUG), "DEBUG");
  assert_string_equal(bleak_log_level_name(BLEAK_LOG_INFO), "INFO");
  assert_string_equal(bleak_log_level_name(BLEAK_LOG_WARNING), "WARNING");
  assert_string_equal(bleak_log_level_name(BLEAK_LOG_ERROR), "ERROR");
  assert_string_equal(bleak_log_level_name(BLEAK_LOG_NONE), "NONE");
  assert_string_equal(bleak_log_level_name((bleak_log_level)5), "?");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_env_variable),
      cmocka_unit_test(test_parse_level),
      cmocka_unit_test(test_level_filter),
      cmocka_unit_test(test_one_line_and_null_module),
      cmocka_unit_test(test_level_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
