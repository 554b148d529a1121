/* SPDX-License-Identifier: MIT */
/* Log level, handler, and the BLEAK_LOGGING environment variable. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"

static bleak_log_level current_level = BLEAK_LOG_WARNING;
static int level_initialized; /* BLEAK_LOGGING read, or level set */
static bleak_log_fn handler;
static void *handler_data;

int bleak_log_parse_level(const char *str, bleak_log_level *out) {
  static const struct {
    const char *name;
    bleak_log_level level;
  } names[] = {
      {"debug", BLEAK_LOG_DEBUG},   {"info", BLEAK_LOG_INFO},
      {"warning", BLEAK_LOG_WARNING}, {"warn", BLEAK_LOG_WARNING},
      {"error", BLEAK_LOG_ERROR},   {"none", BLEAK_LOG_NONE},
      {"1", BLEAK_LOG_DEBUG},       {"true", BLEAK_LOG_DEBUG},
      {"yes", BLEAK_LOG_DEBUG},     {"on", BLEAK_LOG_DEBUG},
      {"0", BLEAK_LOG_WARNING},     {"false", BLEAK_LOG_WARNING},
      {"no", BLEAK_LOG_WARNING},    {"off", BLEAK_LOG_WARNING},
  };
  if (!str || !out)
    return BLEAK_ERR_INVALID_ARG;
  for (size_t i = 0; i < BK_ARRAY_SIZE(names); i++) {
    if (strcasecmp(str, names[i].name) == 0) {
      *out = names[i].level;
      return 0;
    }
  }
  return BLEAK_ERR_INVALID_ARG;
}

static void init_level(void) {
  if (level_initialized)
    return;
  level_initialized = 1;
  const char *env = getenv("BLEAK_LOGGING");
  bleak_log_level lvl;
  if (env && *env) {
    if (bleak_log_parse_level(env, &lvl) == 0)
      current_level = lvl;
    else
      fprintf(stderr, "bleak: ignoring BLEAK_LOGGING=%s (not a level)\n", env);
  }
}

void bleak_log_set_level(bleak_log_level level) {
  level_initialized = 1;
  current_level = level;
}

bleak_log_level bleak_log_get_level(void) {
  init_level();
  return current_level;
}

void bleak_log_set_handler(bleak_log_fn fn, void *user_data) {
  handler = fn;
  handler_data = fn ? user_data : NULL;
}

const char *bleak_log_level_name(bleak_log_level level) {
  switch (level) {
  case BLEAK_LOG_DEBUG: return "DEBUG";
  case BLEAK_LOG_INFO: return "INFO";
  case BLEAK_LOG_WARNING: return "WARNING";
  case BLEAK_LOG_ERROR: return "ERROR";
  case BLEAK_LOG_NONE: return "NONE";
  default: return "?";
  }
}

int bk_log_enabled(bleak_log_level level) {
  init_level();
  return level >= current_level && level < BLEAK_LOG_NONE;
}

void bk_log(bleak_log_level level, const char *module, const char *fmt, ...) {
  if (!bk_log_enabled(level))
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* One line per call: a newline inside the message would break parsers of
   * the log, so it becomes a space. */
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  const char *mod = module ? module : "bleak";
  if (handler)
    handler(level, mod, msg, handler_data);
  else
    fprintf(stderr, "bleak %s [%s] %s\n", bleak_log_level_name(level), mod, msg);
}
