/* SPDX-License-Identifier: MIT */
/*
 * Out of memory at every allocation. A run of connect (with the device
 * search), discovery, read, start_notify and disconnect on the fake
 * controller is made once to count the library's allocations, then once
 * for every N with the N-th allocation failing. Every run must end with
 * success or a clean error, every operation whose async call returned an
 * id must complete exactly once and never before that call returned, and
 * ASan or valgrind (this test runs under both in make check) must see no
 * error and no leak.
 *
 * The allocator is the linker's: this test is linked with
 * -Wl,--wrap=malloc,... so that every call of the library (and of this
 * test) goes through __wrap_malloc. The fake controller's own allocations
 * are not failed (fake_controller_busy).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/bleak.h"
#include "callbacks.h"
#include "fake_controller.h"

/* ---- the failing allocator ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long alloc_count; /* the library's allocations since arming */
static long fail_at;     /* fail this one (1-based); 0: none */
static bool armed;
static long failures;

static bool fail_now(void) {
  if (!armed || fake_controller_busy > 0)
    return false;
  if (++alloc_count == fail_at) {
    failures++;
    return true;
  }
  return false;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) {
  return fail_now() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }

/* ---- one run ---- */

#define OPS 6

typedef struct run {
  bleak_client *client;
  int ids[OPS];     /* what each async call returned */
  int calls[OPS];   /* completions seen */
  int status[OPS];
  bool returned[OPS]; /* the async call had returned when it completed */
  bool in_call[OPS];
} run;

static run R;

static void on_done(bleak_client *c, int status, void *user) {
  (void)c;
  int k = (int)(intptr_t)user;
  R.calls[k]++;
  R.status[k] = status;
  R.returned[k] = !R.in_call[k];
}

TEST_READ_AS_DONE(on_read, on_done)


enum { OP_CONNECT, OP_READ, OP_NOTIFY, OP_DISCONNECT, OP_SECOND_READ, OP_LAST_DISCONNECT };

/* Run the loop until op @p k completes (or 3 s pass). */
static void wait_for(bleak_loop *loop, int k) {
  uint64_t end = bleak_loop_now_ms(loop) + 3000;
  while (R.calls[k] == 0 && bleak_loop_now_ms(loop) < end)
    bleak_loop_run_once(loop, 50);
}

#define START(k, call)                                                                 \
  do {                                                                                 \
    R.in_call[k] = true;                                                               \
    R.ids[k] = (call);                                                                 \
    R.in_call[k] = false;                                                              \
  } while (0)

/* One scenario, its checks after the client is freed. */
static void scenario(bleak_loop *loop, fake_controller *f) {
  memset(&R, 0, sizeof R);
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = loop;
  o.backend = BLEAK_BACKEND_HCI;
  o.hci_transport = f->transport;
  o.timeout_ms = 1500;
  if (bleak_client_new(FAKE_PEER, &o, &R.client) < 0) {
    assert_null(R.client);
    return;
  }
  START(OP_CONNECT, bleak_client_connect_async(R.client, on_done, (void *)(intptr_t)OP_CONNECT));
  if (R.ids[OP_CONNECT] > 0)
    wait_for(loop, OP_CONNECT);
  if (R.ids[OP_CONNECT] > 0 && R.status[OP_CONNECT] == 0 && R.calls[OP_CONNECT]) {
    const bleak_gatt_characteristic *ch = NULL;
    if (bleak_client_char_by_uuid(R.client, "2a19", &ch) == 0) {
      START(OP_READ, bleak_client_read_gatt_char_async(R.client, ch, on_read,
                                                        (void *)(intptr_t)OP_READ));
      START(OP_NOTIFY, bleak_client_start_notify_async(R.client, ch, test_ignore_value, NULL, on_done,
                                                        (void *)(intptr_t)OP_NOTIFY));
      START(OP_SECOND_READ, bleak_client_read_gatt_char_async(
                                R.client, ch, on_read, (void *)(intptr_t)OP_SECOND_READ));
      if (R.ids[OP_READ] > 0)
        wait_for(loop, OP_READ);
      if (R.ids[OP_NOTIFY] > 0)
        wait_for(loop, OP_NOTIFY);
    }
    START(OP_DISCONNECT,
          bleak_client_disconnect_async(R.client, on_done, (void *)(intptr_t)OP_DISCONNECT));
    if (R.ids[OP_DISCONNECT] > 0)
      wait_for(loop, OP_DISCONNECT);
  }
  /* Disconnecting what is not connected (any more) completes at once,
   * from the loop (the path of the old use after free on OOM). */
  START(OP_LAST_DISCONNECT, bleak_client_disconnect_async(R.client, on_done,
                                                          (void *)(intptr_t)OP_LAST_DISCONNECT));
  if (R.ids[OP_LAST_DISCONNECT] > 0)
    wait_for(loop, OP_LAST_DISCONNECT);
  /* The fake goes first, so that free's graceful close of the socket
   * sees the end at once instead of waiting for it. */
  fake_controller_unplug(f);
  bleak_client_free(R.client); /* completes what is still pending */
  R.client = NULL;
  for (int k = 0; k < OPS; k++) {
    if (R.ids[k] > 0) {
      if (R.calls[k] != 1)
        fail_msg("op %d (id %d): %d completions (fail_at %ld)", k, R.ids[k], R.calls[k],
                 fail_at);
      if (!R.returned[k])
        fail_msg("op %d completed inside its call (fail_at %ld)", k, fail_at);
    } else {
      if (R.calls[k] != 0)
        fail_msg("op %d refused (%d) but called back (fail_at %ld)", k, R.ids[k], fail_at);
    }
  }
}

static void one_run(long n, long *count) {
  bleak_loop *loop = NULL;
  fake_controller f;
  assert_int_equal(bleak_loop_new(&loop), 0);
  assert_int_equal(fake_controller_start(&f, loop), 0);
  alloc_count = 0;
  fail_at = n;
  armed = true;
  scenario(loop, &f);
  armed = false;
  if (count)
    *count = alloc_count;
  fake_controller_stop(&f);
  bleak_loop_free(loop);
}

static void test_every_allocation_fails_once(void **state) {
  (void)state;
  long total = 0;
  one_run(0, &total);
  assert_int_equal(R.status[OP_CONNECT], 0); /* the clean run works */
  assert_int_equal(R.status[OP_READ], 0);
  assert_int_equal(R.status[OP_DISCONNECT], 0);
  assert_true(total > 20);
  print_message("a clean run makes %ld allocations\n", total);
  /* OOM_ONLY=N runs that one alone (to debug it). */
  const char *only = getenv("OOM_ONLY");
  for (long n = only ? atol(only) : 1; n <= (only ? atol(only) : total); n++) {
    failures = 0;
    one_run(n, NULL);
    assert_int_equal(failures, 1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_allocation_fails_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
