/* SPDX-License-Identifier: MIT */
/*
 * Private helpers shared by every part of the library. Internal symbols are
 * named bk_*: the shared library exports bleak_* only (src/libbleak.map).
 */
#ifndef BLEAK_CORE_INTERNAL_H
#define BLEAK_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bleak/error.h"
#include "bleak/log.h"
#include "bleak/loop.h"

#if defined(__GNUC__)
#define BK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
/* A deliberate fall-through between switch labels (gcc and clang agree on
 * the attribute; clang ignores comments). */
#define BK_FALLTHROUGH __attribute__((fallthrough))
#else
#define BK_PRINTF(fmt, args)
#define BK_FALLTHROUGH ((void)0)
#endif

/*
 * Record the detail message of a failure (see bleak_error_detail()) and
 * return @p err, so that a failing path reads
 *     return bk_fail(BLEAK_ERR_AMBIGUOUS, "2 characteristics have UUID %s", s);
 * The message is cut at 255 bytes.
 */
int bk_fail(int err, const char *fmt, ...) BK_PRINTF(2, 3);

/* Forget the detail message (before a call whose failure has none). */
void bk_clear_detail(void);

/* Log through the user's handler when @p level is enabled. */
void bk_log(bleak_log_level level, const char *module, const char *fmt, ...)
    BK_PRINTF(3, 4);

/* True when @p level would be logged: guard costly argument formatting. */
int bk_log_enabled(bleak_log_level level);

#define BK_DEBUG(mod, ...) bk_log(BLEAK_LOG_DEBUG, mod, __VA_ARGS__)
#define BK_INFO(mod, ...) bk_log(BLEAK_LOG_INFO, mod, __VA_ARGS__)
#define BK_WARN(mod, ...) bk_log(BLEAK_LOG_WARNING, mod, __VA_ARGS__)
#define BK_ERROR(mod, ...) bk_log(BLEAK_LOG_ERROR, mod, __VA_ARGS__)

/* Little-endian codec helpers: codecs use these, never packed structs. */
static inline uint16_t bk_get_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t bk_get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline void bk_put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void bk_put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* The value of one hex digit, or -1. */
static inline int bk_hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

#define BK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Something that lives as long as @p loop (bluez: its bus and object
 * tree): @p fn(user) runs at bleak_loop_free, before the loop's sources go
 * (it may free its own). At most 4 per loop. Errors: NO_MEMORY. */
int bk_loop_on_free(bleak_loop *loop, void (*fn)(void *user), void *user);
void bk_loop_on_free_cancel(bleak_loop *loop, void (*fn)(void *user), void *user);

/* A background source does not keep bleak_loop_run() going (libuv's
 * uv_unref): an idle D-Bus connection kept for the next client. */
void bk_source_set_background(bleak_source *src, bool background);

#endif /* BLEAK_CORE_INTERNAL_H */
