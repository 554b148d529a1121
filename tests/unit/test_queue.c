/* SPDX-License-Identifier: MIT */
/* The intrusive FIFO: order, remove anywhere (twice is harmless), splice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/queue.h"

typedef struct item {
  int v;
  bk_qnode node;
} item;

static int pop_value(bk_queue *q) {
  item *it = BK_QUEUE_ENTRY(bk_queue_pop(q), item, node);
  return it ? it->v : -1;
}

static void test_fifo_order(void **state) {
  (void)state;
  item it[4] = {{.v = 0}, {.v = 1}, {.v = 2}, {.v = 3}};
  bk_queue q;
  bk_queue_init(&q);
  assert_true(bk_queue_empty(&q));
  assert_null(bk_queue_pop(&q));
  for (int i = 0; i < 4; i++)
    bk_queue_push(&q, &it[i].node);
  assert_int_equal(bk_queue_len(&q), 4);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pop_value(&q), i);
  assert_true(bk_queue_empty(&q));
  assert_int_equal(pop_value(&q), -1);
}

static void test_remove_anywhere(void **state) {
  (void)state;
  item it[5];
  bk_queue q;
  bk_queue_init(&q);
  for (int i = 0; i < 5; i++) {
    it[i] = (item){.v = i};
    bk_queue_push(&q, &it[i].node);
  }
  bk_queue_remove(&q, &it[0].node); /* head */
  bk_queue_remove(&q, &it[4].node); /* tail */
  bk_queue_remove(&q, &it[2].node); /* middle */
  bk_queue_remove(&q, &it[2].node); /* again: nothing */
  assert_false(bk_qnode_linked(&it[2].node));
  assert_int_equal(bk_queue_len(&q), 2);
  int seen[2], n = 0;
  for (bk_qnode *p = bk_queue_head(&q); p; p = bk_qnode_next(p))
    seen[n++] = BK_QUEUE_ENTRY(p, item, node)->v;
  assert_int_equal(n, 2);
  assert_int_equal(seen[0], 1);
  assert_int_equal(seen[1], 3);
  /* a removed node can be queued again, at the end */
  bk_queue_push(&q, &it[0].node);
  assert_int_equal(pop_value(&q), 1);
  assert_int_equal(pop_value(&q), 3);
  assert_int_equal(pop_value(&q), 0);
  assert_null(q.tail);
}

static void test_splice(void **state) {
  (void)state;
  item it[4] = {{.v = 0}, {.v = 1}, {.v = 2}, {.v = 3}};
  bk_queue a, b;
  bk_queue_init(&a);
  bk_queue_init(&b);
  bk_queue_splice(&a, &b); /* both empty */
  assert_true(bk_queue_empty(&a));
  bk_queue_push(&b, &it[0].node);
  bk_queue_push(&b, &it[1].node);
  bk_queue_splice(&a, &b); /* into an empty one */
  assert_true(bk_queue_empty(&b));
  bk_queue_push(&b, &it[2].node);
  bk_queue_push(&b, &it[3].node);
  bk_queue_splice(&a, &b);
  assert_int_equal(bk_queue_len(&a), 4);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pop_value(&a), i);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_order),
      cmocka_unit_test(test_remove_anywhere),
      cmocka_unit_test(test_splice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
