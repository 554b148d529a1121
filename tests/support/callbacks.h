/* SPDX-License-Identifier: MIT */
/* Callbacks the unit tests share. */
#ifndef BLEAK_TEST_CALLBACKS_H
#define BLEAK_TEST_CALLBACKS_H

#include "bleak/client.h"

/* A notification callback that wants no values. */
static inline void test_ignore_value(bleak_client *c, const bleak_gatt_characteristic *ch,
                                     const uint8_t *d, size_t n, void *u) {
  (void)c;
  (void)ch;
  (void)d;
  (void)n;
  (void)u;
}

/* A read's completion handed to a done callback (the value is not kept). */
#define TEST_READ_AS_DONE(name, done)                                                   \
  static void name(bleak_client *c, int status, const uint8_t *d, size_t n, void *u) {  \
    (void)d;                                                                            \
    (void)n;                                                                            \
    done(c, status, u);                                                                 \
  }

#endif
