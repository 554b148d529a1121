/* SPDX-License-Identifier: MIT */
/* What the guest's test programs share: TAP lines with a closing
 * "N passed, N failed" line (tests/vm/run-suite.sh reads them), errors
 * with their detail, and a bounded connect retry. */
#ifndef BLEAK_TEST_CHECK_H
#define BLEAK_TEST_CHECK_H

#include <stdio.h>

#include <bleak/bleak.h>

static int passed, failed;

#define CHECK(name, cond, ...)                                                 \
  do {                                                                         \
    if (cond) {                                                                \
      printf("ok %d - %s\n", passed + failed + 1, name);                       \
      passed++;                                                                \
    } else {                                                                   \
      printf("not ok %d - %s\n#   ", passed + failed + 1, name);              \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
      failed++;                                                                \
    }                                                                          \
    fflush(stdout);                                                            \
  } while (0)

static inline void check_summary(void) { printf("%d passed, %d failed\n", passed, failed); }

static inline const char *err(int r) {
  static char buf[300];
  snprintf(buf, sizeof buf, "%s (%s) %s", bleak_err_name(r), bleak_strerror(r),
           bleak_error_detail());
  return buf;
}

/* BlueZ 5.66 in the guest sometimes fails or stalls a connect right after
 * the previous link went down (tests/vm/README.md): a bounded retry, as
 * Bleak's users do. */
static inline int connect_retry(bleak_client *c) {
  int r = 0;
  for (int attempt = 1; attempt <= 3; attempt++) {
    r = bleak_client_connect(c);
    if (r == 0)
      return 0;
    printf("# connect attempt %d: %s (%s)\n", attempt, bleak_err_name(r), bleak_error_detail());
  }
  return r;
}

#endif
