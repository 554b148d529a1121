/* SPDX-License-Identifier: MIT */
/* The event loop: timers, fd watches, deferred calls, embedding, nesting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bleak/error.h"
#include "bleak/loop.h"
#include "core/internal.h"

typedef struct {
  bleak_loop *loop;
} fixture;

static int setup(void **state) {
  static fixture f;
  if (bleak_loop_new(&f.loop) != 0)
    return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  bleak_loop_free(f->loop);
  return 0;
}

/* Records the order in which callbacks fire. */
typedef struct {
  int order[16];
  int n;
} trace;

typedef struct {
  trace *t;
  int id;
  bleak_source *self;
  bool *done;
} mark;

static void on_mark(bleak_source *src, void *user) {
  (void)src;
  mark *m = user;
  if (m->t->n < 16)
    m->t->order[m->t->n++] = m->id;
  if (m->done)
    *m->done = true;
}

static void on_call(void *user) { on_mark(NULL, user); }

static void test_new_free_null(void **state) {
  (void)state;
  assert_int_equal(bleak_loop_new(NULL), BLEAK_ERR_INVALID_ARG);
  bleak_loop_free(NULL); /* no crash, no effect */
  bleak_source_free(NULL);
  assert_int_equal(bleak_loop_fd(NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_timeout_ms(NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_dispatch(NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_run(NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_run_once(NULL, 0), BLEAK_ERR_INVALID_ARG);
  bool done = false;
  assert_int_equal(bleak_loop_run_until(NULL, &done, 0), BLEAK_ERR_INVALID_ARG);
  assert_null(bleak_source_loop(NULL));
  assert_false(bleak_loop_in_callback(NULL));
  bleak_loop_stop(NULL);
  bleak_loop_wakeup(NULL);
}

static void test_bad_arguments(void **state) {
  fixture *f = *state;
  bleak_source *s = (bleak_source *)0x1;
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, NULL, NULL, &s),
                   BLEAK_ERR_INVALID_ARG);
  assert_null(s);
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, on_mark, NULL, NULL),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_call_soon(f->loop, NULL, NULL),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_call_soon(NULL, on_call, NULL),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_run_until(f->loop, NULL, 0),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_source_set_timer(NULL, 1), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_source_stop_timer(NULL), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_source_set_io_events(NULL, 0), BLEAK_ERR_INVALID_ARG);
  assert_false(bleak_source_timer_armed(NULL));
}

static void test_timer_order(void **state) {
  fixture *f = *state;
  trace t = {{0}, 0};
  bool done = false;
  mark a = {&t, 1, NULL, NULL}, b = {&t, 2, NULL, NULL},
       c = {&t, 3, NULL, &done}, d = {&t, 4, NULL, NULL};
  bleak_source *sa, *sb, *sc, *sd;
  /* Armed out of deadline order; a and b share a deadline: arming order. */
  assert_int_equal(bleak_loop_add_timer(f->loop, 30, on_mark, &c, &sc), 0);
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, on_mark, &a, &sa), 0);
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, on_mark, &b, &sb), 0);
  assert_int_equal(bleak_loop_add_timer(f->loop, 10, on_mark, &d, &sd), 0);
  assert_true(bleak_source_timer_armed(sc));
  assert_int_equal(bleak_loop_run_until(f->loop, &done, 2000), 0);
  assert_int_equal(t.n, 4);
  assert_int_equal(t.order[0], 1);
  assert_int_equal(t.order[1], 2);
  assert_int_equal(t.order[2], 4);
  assert_int_equal(t.order[3], 3);
  /* A fired timer stays allocated, disarmed, and can be re-armed. */
  assert_false(bleak_source_timer_armed(sc));
  assert_ptr_equal(bleak_source_loop(sc), f->loop);
  done = false;
  assert_int_equal(bleak_source_set_timer(sc, 1), 0);
  assert_int_equal(bleak_loop_run_until(f->loop, &done, 2000), 0);
  assert_int_equal(t.n, 5);
  assert_int_equal(t.order[4], 3);
  bleak_source_free(sa);
  bleak_source_free(sb);
  bleak_source_free(sc);
  bleak_source_free(sd);
}

static void test_timer_elapsed(void **state) {
  fixture *f = *state;
  trace t = {{0}, 0};
  bool done = false;
  mark m = {&t, 1, NULL, &done};
  bleak_source *s;
  uint64_t start = bleak_loop_now_ms(f->loop);
  assert_int_equal(bleak_loop_add_timer(f->loop, 50, on_mark, &m, &s), 0);
  int to = bleak_loop_timeout_ms(f->loop);
  assert_true(to > 0 && to <= 50);
  assert_int_equal(bleak_loop_run_until(f->loop, &done, 2000), 0);
  assert_true(bleak_loop_now_ms(f->loop) - start >= 50);
  assert_int_equal(bleak_loop_timeout_ms(f->loop), -1);
  bleak_source_free(s);
}

static void test_timer_stop_and_free(void **state) {
  fixture *f = *state;
  trace t = {{0}, 0};
  mark m = {&t, 1, NULL, NULL};
  bleak_source *s1, *s2;
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, on_mark, &m, &s1), 0);
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, on_mark, &m, &s2), 0);
  assert_int_equal(bleak_source_stop_timer(s1), 0);
  assert_false(bleak_source_timer_armed(s1));
  bleak_source_free(s2);
  assert_int_equal(bleak_loop_dispatch(f->loop), 0);
  assert_int_equal(t.n, 0);
  assert_int_equal(bleak_loop_timeout_ms(f->loop), -1);
  bleak_source_free(s1);
}

/* A 0 ms timer that re-arms itself runs once per dispatch. */
static void rearm_zero(bleak_source *src, void *user) {
  int *count = user;
  (*count)++;
  assert_int_equal(bleak_source_set_timer(src, 0), 0);
}

static void test_no_starvation(void **state) {
  fixture *f = *state;
  int count = 0;
  bleak_source *s;
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, rearm_zero, &count, &s), 0);
  assert_int_equal(bleak_loop_dispatch(f->loop), 1);
  assert_int_equal(count, 1);
  assert_int_equal(bleak_loop_timeout_ms(f->loop), 0);
  assert_int_equal(bleak_loop_dispatch(f->loop), 1);
  assert_int_equal(count, 2);
  bleak_source_free(s);
}

static void test_call_soon_fifo(void **state) {
  fixture *f = *state;
  trace t = {{0}, 0};
  mark m[5];
  for (int i = 0; i < 5; i++) {
    m[i] = (mark){&t, i, NULL, NULL};
    assert_int_equal(bleak_loop_call_soon(f->loop, on_call, &m[i]), 0);
  }
  assert_int_equal(bleak_loop_dispatch(f->loop), 5);
  assert_int_equal(t.n, 5);
  for (int i = 0; i < 5; i++)
    assert_int_equal(t.order[i], i);
  /* Loop-owned: gone after firing (valgrind checks that nothing leaked). */
  assert_int_equal(bleak_loop_dispatch(f->loop), 0);
  assert_int_equal(t.n, 5);
}

/* fd watches */

typedef struct {
  int fired;
  uint32_t last;
  bleak_source *other; /* freed from the callback when set */
  bool free_self;
} io_rec;

static void on_io(bleak_source *src, int fd, uint32_t revents, void *user) {
  io_rec *r = user;
  r->fired++;
  r->last = revents;
  if (revents & BLEAK_IO_READ) {
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    (void)n;
  }
  if (r->other) {
    bleak_source_free(r->other);
    r->other = NULL;
  }
  if (r->free_self)
    bleak_source_free(src);
}

static void test_io_read_write(void **state) {
  fixture *f = *state;
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  io_rec r = {0}, w = {0};
  bleak_source *rs, *ws;
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], BLEAK_IO_READ, on_io, &r, &rs), 0);
  assert_int_equal(bleak_loop_add_io(f->loop, p[1], BLEAK_IO_WRITE, on_io, &w, &ws), 0);
  assert_int_equal(bleak_loop_run_once(f->loop, 1000), 1);
  assert_int_equal(w.fired, 1);
  assert_int_equal(w.last, BLEAK_IO_WRITE);
  assert_int_equal(r.fired, 0);
  /* Pause the writer, write a byte: the reader fires with READ. */
  assert_int_equal(bleak_source_set_io_events(ws, 0), 0);
  assert_int_equal(write(p[1], "x", 1), 1);
  assert_int_equal(bleak_loop_run_once(f->loop, 1000), 1);
  assert_int_equal(r.fired, 1);
  assert_int_equal(r.last, BLEAK_IO_READ);
  assert_int_equal(w.fired, 1);
  /* Nothing ready: a zero-timeout dispatch runs nothing. */
  assert_int_equal(bleak_loop_dispatch(f->loop), 0);
  /* Hang-up: closing the write end reports ERROR to the reader. */
  bleak_source_free(ws);
  close(p[1]);
  assert_int_equal(bleak_loop_run_once(f->loop, 1000), 1);
  assert_true(r.last & BLEAK_IO_ERROR);
  bleak_source_free(rs);
  close(p[0]);
}

static void test_io_errors(void **state) {
  fixture *f = *state;
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  io_rec r = {0};
  bleak_source *s, *s2 = (bleak_source *)0x1;
  assert_int_equal(bleak_loop_add_io(f->loop, -1, BLEAK_IO_READ, on_io, &r, &s),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], 0x80, on_io, &r, &s),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], BLEAK_IO_READ, NULL, &r, &s),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], BLEAK_IO_READ, on_io, &r, &s), 0);
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], BLEAK_IO_READ, on_io, &r, &s2),
                   BLEAK_ERR_ALREADY);
  assert_null(s2);
  assert_non_null(strstr(bleak_error_detail(), "watched already"));
  /* Timer calls on an fd watch are refused. */
  assert_int_equal(bleak_source_set_timer(s, 1), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_source_stop_timer(s), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_source_set_io_events(s, 0x80), BLEAK_ERR_INVALID_ARG);
  bleak_source_free(s);
  /* epoll refuses regular files. */
  int fd = open("/proc/self/exe", O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(bleak_loop_add_io(f->loop, fd, BLEAK_IO_READ, on_io, &r, &s),
                   BLEAK_ERR_IO);
  close(fd);
  /* An fd watch refused by set_io_events on a timer. */
  bleak_source *t;
  assert_int_equal(bleak_loop_add_timer(f->loop, 5, (bleak_timer_fn)on_mark, NULL, &t), 0);
  assert_int_equal(bleak_source_set_io_events(t, BLEAK_IO_READ), BLEAK_ERR_INVALID_ARG);
  bleak_source_free(t);
  close(p[0]);
  close(p[1]);
}

/* Two watches ready in the same pass; the first frees the second, which
 * must then not fire; a watch freeing itself fires once. */
static void test_free_during_dispatch(void **state) {
  fixture *f = *state;
  int a[2], b[2];
  assert_int_equal(pipe2(a, O_NONBLOCK), 0);
  assert_int_equal(pipe2(b, O_NONBLOCK), 0);
  io_rec ra = {0}, rb = {0};
  bleak_source *sa, *sb;
  assert_int_equal(bleak_loop_add_io(f->loop, a[0], BLEAK_IO_READ, on_io, &ra, &sa), 0);
  assert_int_equal(bleak_loop_add_io(f->loop, b[0], BLEAK_IO_READ, on_io, &rb, &sb), 0);
  ra.other = sb;
  rb.other = sa;
  ra.free_self = rb.free_self = false;
  assert_int_equal(write(a[1], "x", 1), 1);
  assert_int_equal(write(b[1], "y", 1), 1);
  assert_int_equal(bleak_loop_run_once(f->loop, 1000), 1);
  /* Exactly one of them ran and freed the other. */
  assert_int_equal(ra.fired + rb.fired, 1);
  bleak_source *left = ra.fired ? sa : sb;
  io_rec *lr = ra.fired ? &ra : &rb;
  lr->free_self = true;
  lr->other = NULL;
  assert_int_equal(write(ra.fired ? a[1] : b[1], "z", 1), 1);
  assert_int_equal(bleak_loop_run_once(f->loop, 1000), 1);
  assert_int_equal(lr->fired, 2);
  (void)left;
  assert_int_equal(bleak_loop_dispatch(f->loop), 0);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
}

static void free_self_timer(bleak_source *src, void *user) {
  int *n = user;
  (*n)++;
  bleak_source_free(src);
  bleak_source_free(src); /* a second free of a dead source is harmless */
}

static void test_timer_frees_itself(void **state) {
  fixture *f = *state;
  int n = 0;
  bleak_source *s;
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, free_self_timer, &n, &s), 0);
  assert_int_equal(bleak_loop_dispatch(f->loop), 1);
  assert_int_equal(n, 1);
  assert_int_equal(bleak_loop_dispatch(f->loop), 0);
}

/* Embedding: an outer poll() on the loop fd sees a due timer. */
static void test_embed_with_poll(void **state) {
  fixture *f = *state;
  trace t = {{0}, 0};
  bool done = false;
  mark m = {&t, 7, NULL, &done};
  bleak_source *s;
  int fd = bleak_loop_fd(f->loop);
  assert_true(fd >= 0);
  assert_int_equal(bleak_loop_timeout_ms(f->loop), -1);
  assert_int_equal(bleak_loop_add_timer(f->loop, 20, on_mark, &m, &s), 0);
  int guard = 0;
  while (!done && guard++ < 100) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    /* Wait on the fd alone, with a generous bound: the timerfd wakes us. */
    int r = poll(&pfd, 1, 2000);
    assert_int_equal(r, 1);
    assert_true(bleak_loop_dispatch(f->loop) >= 0);
  }
  assert_true(done);
  assert_int_equal(t.order[0], 7);
  bleak_source_free(s);
}

/* Nesting: every way of running the loop from its own callback fails. */
typedef struct {
  bleak_loop *loop;
  int r_until, r_dispatch, r_once, r_run;
  bool in_cb;
  bool done;
} nest;

static void try_nesting(bleak_source *src, void *user) {
  (void)src;
  nest *n = user;
  bool never = false;
  n->in_cb = bleak_loop_in_callback(n->loop);
  n->r_until = bleak_loop_run_until(n->loop, &never, 10);
  n->r_dispatch = bleak_loop_dispatch(n->loop);
  n->r_once = bleak_loop_run_once(n->loop, 0);
  n->r_run = bleak_loop_run(n->loop);
  bleak_loop_free(n->loop); /* ignored inside a callback */
  n->done = true;
}

static void test_nesting_refused(void **state) {
  fixture *f = *state;
  nest n = {.loop = f->loop};
  bleak_source *s;
  assert_false(bleak_loop_in_callback(f->loop));
  assert_int_equal(bleak_loop_add_timer(f->loop, 0, try_nesting, &n, &s), 0);
  assert_int_equal(bleak_loop_run_until(f->loop, &n.done, 2000), 0);
  assert_true(n.in_cb);
  assert_int_equal(n.r_until, BLEAK_ERR_STATE);
  assert_int_equal(n.r_dispatch, BLEAK_ERR_STATE);
  assert_int_equal(n.r_once, BLEAK_ERR_STATE);
  assert_int_equal(n.r_run, BLEAK_ERR_STATE);
  assert_non_null(strstr(bleak_error_detail(), "do not nest"));
  bleak_source_free(s);
}

static void test_run_until_timeout(void **state) {
  fixture *f = *state;
  bool done = false;
  uint64_t start = bleak_loop_now_ms(f->loop);
  assert_int_equal(bleak_loop_run_until(f->loop, &done, 30), BLEAK_ERR_TIMEOUT);
  uint64_t took = bleak_loop_now_ms(f->loop) - start;
  assert_true(took >= 30);
  done = true;
  assert_int_equal(bleak_loop_run_until(f->loop, &done, 0), 0);
}

static void stop_loop(bleak_source *src, void *user) {
  (void)src;
  bleak_loop_stop(user);
}

static void test_run_and_stop(void **state) {
  fixture *f = *state;
  /* No sources: returns at once. */
  assert_int_equal(bleak_loop_run(f->loop), 0);
  bleak_source *s;
  assert_int_equal(bleak_loop_add_timer(f->loop, 5, stop_loop, f->loop, &s), 0);
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  io_rec r = {0};
  bleak_source *io; /* keeps run() from ending for lack of sources */
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], BLEAK_IO_READ, on_io, &r, &io), 0);
  assert_int_equal(bleak_loop_run(f->loop), 0);
  assert_false(bleak_source_timer_armed(s));
  bleak_source_free(s);
  bleak_source_free(io);
  close(p[0]);
  close(p[1]);
}

static void *wake_later(void *arg) {
  usleep(20000);
  bleak_loop_stop(arg); /* thread-safe stop also wakes the loop */
  return NULL;
}

static void test_wakeup_from_thread(void **state) {
  fixture *f = *state;
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  io_rec r = {0};
  bleak_source *io;
  assert_int_equal(bleak_loop_add_io(f->loop, p[0], BLEAK_IO_READ, on_io, &r, &io), 0);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, wake_later, f->loop), 0);
  /* Blocks in epoll with no deadline until the other thread stops it. */
  assert_int_equal(bleak_loop_run(f->loop), 0);
  pthread_join(th, NULL);
  assert_int_equal(r.fired, 0);
  bleak_source_free(io);
  close(p[0]);
  close(p[1]);
}

static void *default_in_thread(void *arg) {
  bleak_loop **out = arg;
  *out = bleak_loop_default();
  bleak_loop_free(*out);
  return NULL;
}

static void test_default_loop(void **state) {
  (void)state;
  bleak_loop *a = bleak_loop_default();
  assert_non_null(a);
  assert_ptr_equal(bleak_loop_default(), a);
  bleak_loop *other = NULL;
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, default_in_thread, &other), 0);
  pthread_join(th, NULL);
  assert_non_null(other);
  assert_ptr_not_equal(other, a);
  bleak_loop_free(a);
  bleak_loop *b = bleak_loop_default();
  assert_non_null(b);
  bleak_loop_free(b);
}

/* Freeing a loop with sources attached frees them (checked by valgrind). */
static void test_free_with_sources(void **state) {
  (void)state;
  bleak_loop *loop;
  assert_int_equal(bleak_loop_new(&loop), 0);
  bleak_source *s;
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  io_rec r = {0};
  assert_int_equal(bleak_loop_add_timer(loop, 1000, stop_loop, loop, &s), 0);
  assert_int_equal(bleak_loop_add_io(loop, p[0], BLEAK_IO_READ, on_io, &r, &s), 0);
  assert_int_equal(bleak_loop_call_soon(loop, on_call, NULL), 0);
  bleak_loop_free(loop);
  close(p[0]);
  close(p[1]);
}

/* A background source (the idle D-Bus connection) does not keep run()
 * going, a foreground one does; lifetime hooks run at free, newest first. */
static int hook_order[4], n_hook;
static void hook(void *user) { hook_order[n_hook++] = (int)(intptr_t)user; }

static void test_background_and_free_hooks(void **state) {
  (void)state;
  bleak_loop *loop;
  assert_int_equal(bleak_loop_new(&loop), 0);
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  io_rec r = {0};
  bleak_source *io, *t;
  assert_int_equal(bleak_loop_add_io(loop, p[0], BLEAK_IO_READ, on_io, &r, &io), 0);
  assert_int_equal(bleak_loop_add_timer(loop, 60000, stop_loop, loop, &t), 0);
  bk_source_set_background(io, true);
  bk_source_set_background(t, true);
  assert_int_equal(bleak_loop_run(loop), 0); /* returns at once: nothing but background */
  assert_int_equal(r.fired, 0);
  bk_source_set_background(t, false);
  assert_int_equal(bleak_source_set_timer(t, 1), 0);
  assert_int_equal(bleak_loop_run(loop), 0); /* the foreground timer stops it */
  n_hook = 0;
  assert_int_equal(bk_loop_on_free(loop, hook, (void *)1), 0);
  assert_int_equal(bk_loop_on_free(loop, hook, (void *)2), 0);
  assert_int_equal(bk_loop_on_free(loop, hook, (void *)3), 0);
  bk_loop_on_free_cancel(loop, hook, (void *)2);
  bleak_loop_free(loop);
  assert_int_equal(n_hook, 2);
  assert_int_equal(hook_order[0], 3);
  assert_int_equal(hook_order[1], 1);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_free_null),
      cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timer_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timer_elapsed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timer_stop_and_free, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_starvation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_call_soon_fifo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_io_read_write, setup, teardown),
      cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_during_dispatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timer_frees_itself, setup, teardown),
      cmocka_unit_test_setup_teardown(test_embed_with_poll, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nesting_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_run_until_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_run_and_stop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wakeup_from_thread, setup, teardown),
      cmocka_unit_test(test_default_loop),
      cmocka_unit_test(test_free_with_sources),
      cmocka_unit_test(test_background_and_free_hooks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
