/* SPDX-License-Identifier: MIT */
/* The bluez backend's queue of writes with response (write_queue.h): one in
 * flight, the others in order; abort takes one out of the middle; the one
 * in flight finishing lets the next go; clear forgets them all. The queue
 * holds bz_op values only, so they are made here without a client. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "backend/bluez/write_queue.h"

#define CHAR_IFACE "org.bluez.GattCharacteristic1"
#define DESC_IFACE "org.bluez.GattDescriptor1"

/* Writes 0..n-1: write i to ".../char%04x" of 16 * i, odd ones to a
 * descriptor interface. */
static void admit_all(bz_wq *q, bz_op *w, int n) {
  for (int i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/org/bluez/hci0/dev_X/service0001/char%04x", i * 16);
    /* only the first goes straight out: the others wait behind it */
    assert_int_equal(bz_wq_admit(q, &w[i], path, i % 2 ? DESC_IFACE : CHAR_IFACE), i == 0);
  }
}

/* The write in flight finishes: the next one is the write @p want. */
static void finish_expect(bz_wq *q, bz_op *w, int want) {
  bz_wq_finished(q);
  bz_op *next = bz_wq_pop(q);
  if (want < 0) {
    assert_null(next);
    assert_null(q->inflight);
    return;
  }
  assert_ptr_equal(next, &w[want]);
  assert_ptr_equal(q->inflight, &w[want]);
  assert_false(bk_qnode_linked(&next->wq_node));
  char path[64];
  snprintf(path, sizeof path, "/org/bluez/hci0/dev_X/service0001/char%04x", want * 16);
  assert_string_equal(next->path, path);
  assert_string_equal(next->iface, want % 2 ? DESC_IFACE : CHAR_IFACE);
}

static void test_order(void **state) {
  (void)state;
  bz_wq q = {0};
  bz_op w[4] = {{0}};
  admit_all(&q, w, 4);
  assert_ptr_equal(q.inflight, &w[0]);
  assert_int_equal(bk_queue_len(&q.waiting), 3);
  for (int i = 1; i < 4; i++)
    finish_expect(&q, w, i);
  finish_expect(&q, w, -1);
  assert_true(bk_queue_empty(&q.waiting));
}

static void test_remove_middle(void **state) {
  (void)state;
  bz_wq q = {0};
  bz_op w[5] = {{0}};
  admit_all(&q, w, 5);
  assert_true(bz_wq_remove(&q, &w[2]));
  assert_false(bz_wq_remove(&q, &w[2])); /* not there any more */
  assert_false(bz_wq_remove(&q, &w[0])); /* in flight, not waiting */
  assert_int_equal(bk_queue_len(&q.waiting), 3);
  assert_true(bz_wq_remove(&q, &w[4])); /* the last one */
  finish_expect(&q, w, 1);
  finish_expect(&q, w, 3);
  finish_expect(&q, w, -1);
}

static void test_inflight_finishing_starts_next(void **state) {
  (void)state;
  bz_wq q = {0};
  bz_op w[4] = {{0}};
  admit_all(&q, w, 2);
  /* nothing is taken while a write is in flight */
  assert_null(bz_wq_pop(&q));
  assert_ptr_equal(q.inflight, &w[0]);
  /* between the finish and the pop, a new write queues behind the waiting
   * one (the client pops before the finished write's callback runs) */
  bz_wq_finished(&q);
  assert_false(bz_wq_admit(&q, &w[2], "/p2", CHAR_IFACE));
  assert_ptr_equal(bz_wq_pop(&q), &w[1]);
  bz_wq_finished(&q);
  assert_ptr_equal(bz_wq_pop(&q), &w[2]);
  assert_string_equal(w[2].path, "/p2");
  /* idle again: the next write goes straight out, nothing is copied */
  bz_wq_finished(&q);
  assert_null(bz_wq_pop(&q));
  assert_true(bz_wq_admit(&q, &w[3], "/p3", CHAR_IFACE));
  assert_ptr_equal(q.inflight, &w[3]);
  assert_string_equal(w[3].path, "");
}

static void test_clear(void **state) {
  (void)state;
  bz_wq q = {0};
  bz_op w[3] = {{0}};
  admit_all(&q, w, 3);
  bz_wq_clear(&q);
  assert_null(q.inflight);
  assert_true(bk_queue_empty(&q.waiting));
  for (int i = 0; i < 3; i++) {
    assert_false(bk_qnode_linked(&w[i].wq_node));
    assert_false(bz_wq_remove(&q, &w[i])); /* an abort after the clear */
  }
  assert_null(bz_wq_pop(&q));
  /* usable again, and the cleared writes can be queued anew */
  admit_all(&q, w, 3);
  finish_expect(&q, w, 1);
  finish_expect(&q, w, 2);
  finish_expect(&q, w, -1);
  bz_wq_clear(&q); /* empty: nothing to do */
  assert_null(q.inflight);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_remove_middle),
      cmocka_unit_test(test_inflight_finishing_starts_next),
      cmocka_unit_test(test_clear),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
