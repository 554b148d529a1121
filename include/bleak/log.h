/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/log.h
 * @brief Logging: levels, a user callback, and the BLEAK_LOGGING variable.
 *
 * Like Bleak, bleak-c is quiet by default (warnings and errors only, on
 * stderr). Setting the environment variable BLEAK_LOGGING to "1" (as Bleak
 * does) turns on debug logging; it also accepts a level name ("debug",
 * "info", "warning", "error", "none"). The variable is read once, the first
 * time anything is logged or the level is asked for; bleak_log_set_level()
 * overrides it.
 *
 * The level and handler are process-wide. Set them before starting threads
 * that use bleak: they are not synchronized.
 */
#ifndef BLEAK_LOG_H
#define BLEAK_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bleak_log_level {
  BLEAK_LOG_DEBUG = 10,   /**< protocol traces, every PDU and D-Bus call */
  BLEAK_LOG_INFO = 20,    /**< connections, discoveries */
  BLEAK_LOG_WARNING = 30, /**< recovered trouble: bad input dropped, retries */
  BLEAK_LOG_ERROR = 40,   /**< operations that failed */
  BLEAK_LOG_NONE = 100,   /**< nothing at all */
} bleak_log_level;

/**
 * A log handler. @p module names the part of bleak that speaks ("loop",
 * "bluez", "att"); @p msg is one line without a trailing newline. Both are
 * valid only during the call. Called on the thread that logs, from inside
 * bleak calls and loop dispatch: it must not call back into bleak.
 */
typedef void (*bleak_log_fn)(bleak_log_level level, const char *module,
                             const char *msg, void *user_data);

/** Set the lowest level that is logged. */
void bleak_log_set_level(bleak_log_level level);

/** The lowest level that is logged (after reading BLEAK_LOGGING). */
bleak_log_level bleak_log_get_level(void);

/**
 * Send log lines to @p fn (with @p user_data) instead of stderr; NULL
 * restores the stderr handler. bleak does not own @p user_data.
 */
void bleak_log_set_handler(bleak_log_fn fn, void *user_data);

/** "DEBUG", "INFO", "WARNING", "ERROR", "NONE", or "?" for other values. */
const char *bleak_log_level_name(bleak_log_level level);

/**
 * Parse a level: a name in any case ("debug", "WARNING", "warn"), or
 * "1"/"true"/"yes"/"on" (debug, as Bleak reads BLEAK_LOGGING) and
 * "0"/"false"/"no"/"off" (warning, the default).
 * @return 0 and the level in @p out, or BLEAK_ERR_INVALID_ARG.
 */
int bleak_log_parse_level(const char *str, bleak_log_level *out);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_LOG_H */
