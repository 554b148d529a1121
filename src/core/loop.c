/* SPDX-License-Identifier: MIT */
/*
 * The event loop: epoll for fd watches, a binary heap of timers, one timerfd
 * armed at the earliest deadline (so that the epoll fd alone tells an outer
 * loop that we have work), and an eventfd for wake-ups from other threads.
 *
 * Sources freed during a dispatch pass are only marked dead and parked on a
 * zombie list until the pass ends: the epoll events of the pass may still
 * point at them.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bleak/loop.h"
#include "core/internal.h"
#include "core/queue.h"

#define LOG_MOD "loop"
#define NOT_ARMED SIZE_MAX
#define MAX_EVENTS 64

enum source_kind { SRC_IO, SRC_TIMER };

struct bleak_source {
  bleak_loop *loop;
  enum source_kind kind;
  bool dead;
  bool loop_owned; /* a call_soon: freed by the loop once it has fired */
  bool background; /* bk_source_set_background: does not keep run() going */
  void *user_data;
  union {
    bleak_io_fn io;
    bleak_timer_fn timer;
    bleak_call_fn call;
  } cb;
  bk_qnode node; /* in the loop's sources: every live source */
  struct bleak_source *next_zombie;
  /* fd watch */
  int fd;
  uint32_t events;
  /* timer */
  uint64_t deadline_ns;
  uint64_t seq;    /* arming order: ties and the no-starvation rule */
  size_t heap_idx; /* NOT_ARMED when disarmed */
};

struct bleak_loop {
  int epfd;
  int tfd;
  int efd;
  uint64_t tfd_deadline_ns; /* what tfd is armed at; 0: disarmed */
  bleak_source **heap;
  size_t heap_len, heap_cap;
  uint64_t next_seq;
  size_t n_io;
  size_t n_background_io; /* of n_io */
  size_t n_timers; /* live timer sources: the heap has room for them all */
  int depth; /* > 0 while dispatching callbacks */
  atomic_bool stop;
  bk_queue sources;
  bleak_source *zombies;
  /* What lives as long as the loop (bk_loop_on_free), run at its free. */
  struct free_hook {
    void (*fn)(void *user);
    void *user;
  } hooks[4];
  size_t n_hooks;
};

static _Thread_local bleak_loop *default_loop;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- timer heap, ordered by (deadline, seq) ---- */

static bool heap_less(const bleak_source *a, const bleak_source *b) {
  if (a->deadline_ns != b->deadline_ns)
    return a->deadline_ns < b->deadline_ns;
  return a->seq < b->seq;
}

static void heap_set(bleak_loop *loop, size_t i, bleak_source *s) {
  loop->heap[i] = s;
  s->heap_idx = i;
}

static void heap_up(bleak_loop *loop, size_t i) {
  bleak_source *s = loop->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!heap_less(s, loop->heap[parent]))
      break;
    heap_set(loop, i, loop->heap[parent]);
    i = parent;
  }
  heap_set(loop, i, s);
}

static void heap_down(bleak_loop *loop, size_t i) {
  bleak_source *s = loop->heap[i];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const bleak_source *best = s;
    if (l < loop->heap_len && heap_less(loop->heap[l], best)) {
      m = l;
      best = loop->heap[l];
    }
    if (r < loop->heap_len && heap_less(loop->heap[r], best))
      m = r;
    if (m == i)
      break;
    heap_set(loop, i, loop->heap[m]);
    i = m;
  }
  heap_set(loop, i, s);
}

/* Room in the heap for every timer source: reserved when a timer is
 * created, so that arming an existing timer (bleak_source_set_timer) can
 * never fail. The client's completion path depends on that. */
static int heap_reserve(bleak_loop *loop, size_t need) {
  if (need > loop->heap_cap) {
    size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
    while (cap < need)
      cap *= 2;
    bleak_source **h = realloc(loop->heap, cap * sizeof *h);
    if (!h)
      return BLEAK_ERR_NO_MEMORY;
    loop->heap = h;
    loop->heap_cap = cap;
  }
  return 0;
}

static void heap_push(bleak_loop *loop, bleak_source *s) {
  heap_set(loop, loop->heap_len++, s);
  heap_up(loop, s->heap_idx);
}

static void heap_remove(bleak_loop *loop, bleak_source *s) {
  size_t i = s->heap_idx;
  if (i == NOT_ARMED)
    return;
  s->heap_idx = NOT_ARMED;
  bleak_source *last = loop->heap[--loop->heap_len];
  if (last == s)
    return;
  heap_set(loop, i, last);
  heap_up(loop, i);
  heap_down(loop, last->heap_idx);
}

/* Point the timerfd at the earliest deadline. Inside a dispatch pass this
 * waits for the end of the pass, so a burst of timer changes costs one
 * system call. */
static void sync_timerfd(bleak_loop *loop) {
  if (loop->depth > 0)
    return;
  uint64_t want = loop->heap_len ? loop->heap[0]->deadline_ns : 0;
  if (want == loop->tfd_deadline_ns)
    return;
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  if (want) {
    /* An absolute time in the past fires at once; 0 would disarm. */
    its.it_value.tv_sec = (time_t)(want / 1000000000u);
    its.it_value.tv_nsec = (long)(want % 1000000000u);
  }
  if (timerfd_settime(loop->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
    BK_ERROR(LOG_MOD, "timerfd_settime: %s", strerror(errno));
    return;
  }
  loop->tfd_deadline_ns = want;
}

/* ---- loop life cycle ---- */

/* Internal fds carry a pointer to their own field of the loop as epoll
 * data, which can never equal a source's address. */
static int add_internal_fd(bleak_loop *loop, int *fdp) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = fdp};
  return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, *fdp, &ev);
}

int bleak_loop_new(bleak_loop **out) {
  if (!out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_loop_new: out is NULL");
  *out = NULL;
  bleak_loop *loop = calloc(1, sizeof *loop);
  if (!loop)
    return BLEAK_ERR_NO_MEMORY;
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  loop->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  loop->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  atomic_init(&loop->stop, false);
  if (loop->epfd < 0 || loop->tfd < 0 || loop->efd < 0 ||
      add_internal_fd(loop, &loop->tfd) < 0 ||
      add_internal_fd(loop, &loop->efd) < 0) {
    int e = errno;
    if (loop->epfd >= 0)
      close(loop->epfd);
    if (loop->tfd >= 0)
      close(loop->tfd);
    if (loop->efd >= 0)
      close(loop->efd);
    free(loop);
    return bk_fail(BLEAK_ERR_IO, "cannot create loop: %s", strerror(e));
  }
  *out = loop;
  return 0;
}

static void free_zombies(bleak_loop *loop) {
  while (loop->zombies) {
    bleak_source *z = loop->zombies;
    loop->zombies = z->next_zombie;
    free(z);
  }
}

void bleak_loop_free(bleak_loop *loop) {
  if (!loop)
    return;
  if (loop->depth > 0) {
    BK_ERROR(LOG_MOD, "bleak_loop_free called from a callback of the same "
                      "loop: ignored");
    return;
  }
  /* Newest first: a later hook's owner may use an earlier one's. */
  while (loop->n_hooks > 0) {
    struct free_hook h = loop->hooks[--loop->n_hooks];
    h.fn(h.user);
  }
  bk_qnode *n;
  while ((n = bk_queue_pop(&loop->sources)))
    free(BK_QUEUE_ENTRY(n, bleak_source, node));
  free_zombies(loop);
  free(loop->heap);
  close(loop->epfd);
  close(loop->tfd);
  close(loop->efd);
  if (default_loop == loop)
    default_loop = NULL;
  free(loop);
}

int bk_loop_on_free(bleak_loop *loop, void (*fn)(void *user), void *user) {
  if (loop->n_hooks == sizeof loop->hooks / sizeof loop->hooks[0])
    return bk_fail(BLEAK_ERR_NO_MEMORY, "too many loop-lifetime owners");
  loop->hooks[loop->n_hooks++] = (struct free_hook){fn, user};
  return 0;
}

void bk_loop_on_free_cancel(bleak_loop *loop, void (*fn)(void *user), void *user) {
  for (size_t i = 0; i < loop->n_hooks; i++)
    if (loop->hooks[i].fn == fn && loop->hooks[i].user == user) {
      memmove(&loop->hooks[i], &loop->hooks[i + 1], (loop->n_hooks - i - 1) * sizeof *loop->hooks);
      loop->n_hooks--;
      return;
    }
}

bleak_loop *bleak_loop_default(void) {
  if (!default_loop && bleak_loop_new(&default_loop) < 0)
    default_loop = NULL;
  return default_loop;
}

/* ---- sources ---- */

static bleak_source *source_new(bleak_loop *loop, enum source_kind kind,
                                void *user_data) {
  bleak_source *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->loop = loop;
  s->kind = kind;
  s->user_data = user_data;
  s->fd = -1;
  s->heap_idx = NOT_ARMED;
  bk_queue_push(&loop->sources, &s->node);
  return s;
}

static void source_unlink(bleak_source *s) { bk_queue_remove(&s->loop->sources, &s->node); }

static uint32_t to_epoll(uint32_t events) {
  return ((events & BLEAK_IO_READ) ? (uint32_t)EPOLLIN : 0u) |
         ((events & BLEAK_IO_WRITE) ? (uint32_t)EPOLLOUT : 0u);
}

static const uint32_t IO_EVENT_MASK = BLEAK_IO_READ | BLEAK_IO_WRITE | BLEAK_IO_ERROR;

int bleak_loop_add_io(bleak_loop *loop, int fd, uint32_t events,
                      bleak_io_fn cb, void *user_data, bleak_source **out) {
  if (out)
    *out = NULL;
  if (!loop || !cb || !out || fd < 0 || (events & ~IO_EVENT_MASK))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_loop_add_io: bad argument");
  bleak_source *s = source_new(loop, SRC_IO, user_data);
  if (!s)
    return BLEAK_ERR_NO_MEMORY;
  s->cb.io = cb;
  s->fd = fd;
  s->events = events;
  struct epoll_event ev = {.events = to_epoll(events), .data.ptr = s};
  if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    source_unlink(s);
    free(s);
    if (e == EEXIST)
      return bk_fail(BLEAK_ERR_ALREADY, "fd %d is watched already", fd);
    return bk_fail(BLEAK_ERR_IO, "cannot watch fd %d: %s", fd, strerror(e));
  }
  loop->n_io++;
  *out = s;
  return 0;
}

int bleak_source_set_io_events(bleak_source *src, uint32_t events) {
  if (!src || src->dead || src->kind != SRC_IO || (events & ~IO_EVENT_MASK))
    return bk_fail(BLEAK_ERR_INVALID_ARG, "not an fd watch, or bad events");
  struct epoll_event ev = {.events = to_epoll(events), .data.ptr = src};
  if (epoll_ctl(src->loop->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0)
    return bk_fail(BLEAK_ERR_IO, "epoll_ctl(MOD, fd %d): %s", src->fd,
                   strerror(errno));
  src->events = events;
  return 0;
}

static int timer_arm(bleak_source *s, uint64_t delay_ms) {
  bleak_loop *loop = s->loop;
  heap_remove(loop, s);
  uint64_t now = now_ns();
  /* Saturate: a delay of UINT64_MAX ms means "practically never". */
  uint64_t delay_ns = delay_ms > (UINT64_MAX - now) / 1000000u
                          ? UINT64_MAX - now
                          : delay_ms * 1000000u;
  s->deadline_ns = now + delay_ns;
  s->seq = loop->next_seq++;
  heap_push(loop, s);
  sync_timerfd(loop);
  return 0;
}

static int timer_new(bleak_loop *loop, uint64_t delay_ms, void *user_data,
                     bleak_source **out) {
  if (heap_reserve(loop, loop->n_timers + 1) < 0)
    return BLEAK_ERR_NO_MEMORY;
  bleak_source *s = source_new(loop, SRC_TIMER, user_data);
  if (!s)
    return BLEAK_ERR_NO_MEMORY;
  loop->n_timers++;
  timer_arm(s, delay_ms);
  *out = s;
  return 0;
}

int bleak_loop_add_timer(bleak_loop *loop, uint64_t delay_ms,
                         bleak_timer_fn cb, void *user_data,
                         bleak_source **out) {
  if (out)
    *out = NULL;
  if (!loop || !cb || !out)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_loop_add_timer: bad argument");
  bleak_source *s = NULL;
  int r = timer_new(loop, delay_ms, user_data, &s);
  if (r < 0)
    return r;
  s->cb.timer = cb;
  *out = s;
  return 0;
}

int bleak_loop_call_soon(bleak_loop *loop, bleak_call_fn fn, void *user_data) {
  if (!loop || !fn)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_loop_call_soon: bad argument");
  bleak_source *s = NULL;
  int r = timer_new(loop, 0, user_data, &s);
  if (r < 0)
    return r;
  s->cb.call = fn;
  s->loop_owned = true;
  return 0;
}

int bleak_source_set_timer(bleak_source *src, uint64_t delay_ms) {
  if (!src || src->dead || src->kind != SRC_TIMER || src->loop_owned)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "not a timer");
  return timer_arm(src, delay_ms);
}

int bleak_source_stop_timer(bleak_source *src) {
  if (!src || src->dead || src->kind != SRC_TIMER || src->loop_owned)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "not a timer");
  heap_remove(src->loop, src);
  sync_timerfd(src->loop);
  return 0;
}

bool bleak_source_timer_armed(const bleak_source *src) {
  return src && !src->dead && src->kind == SRC_TIMER &&
         src->heap_idx != NOT_ARMED;
}

bleak_loop *bleak_source_loop(const bleak_source *src) {
  return src ? src->loop : NULL;
}

void bleak_source_free(bleak_source *src) {
  if (!src || src->dead)
    return;
  bleak_loop *loop = src->loop;
  src->dead = true;
  if (src->kind == SRC_IO) {
    /* EBADF/ENOENT here mean the fd was closed first; nothing to undo. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
    loop->n_io--;
    if (src->background)
      loop->n_background_io--;
  } else {
    heap_remove(loop, src);
    sync_timerfd(loop);
    loop->n_timers--;
  }
  source_unlink(src);
  if (loop->depth > 0) {
    src->next_zombie = loop->zombies;
    loop->zombies = src;
  } else {
    free(src);
  }
}

/* ---- driving ---- */

uint64_t bleak_loop_now_ms(const bleak_loop *loop) {
  (void)loop;
  return now_ns() / 1000000u;
}

int bleak_loop_fd(const bleak_loop *loop) {
  return loop ? loop->epfd : BLEAK_ERR_INVALID_ARG;
}

int bleak_loop_timeout_ms(const bleak_loop *loop) {
  if (!loop)
    return BLEAK_ERR_INVALID_ARG;
  if (!loop->heap_len)
    return -1;
  uint64_t deadline = loop->heap[0]->deadline_ns, now = now_ns();
  if (deadline <= now)
    return 0;
  uint64_t ms = (deadline - now + 999999u) / 1000000u;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

bool bleak_loop_in_callback(const bleak_loop *loop) {
  return loop && loop->depth > 0;
}

static void drain_fd(int fd) {
  uint64_t v;
  /* Non-blocking: EAGAIN when it was already drained. */
  while (read(fd, &v, sizeof v) == (ssize_t)sizeof v) {
  }
}

static uint32_t from_epoll(uint32_t ev) {
  return ((ev & (EPOLLIN | EPOLLRDHUP)) ? (uint32_t)BLEAK_IO_READ : 0u) |
         ((ev & EPOLLOUT) ? (uint32_t)BLEAK_IO_WRITE : 0u) |
         ((ev & (EPOLLERR | EPOLLHUP)) ? (uint32_t)BLEAK_IO_ERROR : 0u);
}

static int run_io(bleak_loop *loop, const struct epoll_event *evs, int n) {
  int ran = 0;
  for (int i = 0; i < n; i++) {
    if (evs[i].data.ptr == &loop->tfd || evs[i].data.ptr == &loop->efd) {
      drain_fd(*(int *)evs[i].data.ptr);
      continue;
    }
    bleak_source *s = evs[i].data.ptr;
    if (s->dead)
      continue;
    uint32_t rev = from_epoll(evs[i].events);
    /* Report only what was asked for, and errors always. */
    rev &= s->events | BLEAK_IO_ERROR;
    if (!rev)
      continue;
    s->cb.io(s, s->fd, rev, s->user_data);
    ran++;
  }
  return ran;
}

static int run_timers(bleak_loop *loop) {
  int ran = 0;
  uint64_t pass_seq = loop->next_seq, now = now_ns();
  while (loop->heap_len) {
    bleak_source *s = loop->heap[0];
    if (s->deadline_ns > now || s->seq >= pass_seq)
      break; /* not due, or armed during this pass: next pass */
    heap_remove(loop, s);
    if (s->loop_owned) {
      s->cb.call(s->user_data);
      bleak_source_free(s);
    } else {
      s->cb.timer(s, s->user_data);
    }
    ran++;
  }
  return ran;
}

static int nested_error(const char *what) {
  return bk_fail(BLEAK_ERR_STATE,
                 "%s called from inside a callback of the same loop "
                 "(loops do not nest; use the async call there)",
                 what);
}

/* One pass: wait up to @p wait_ms for fds, then run what is ready. */
static int pass(bleak_loop *loop, int wait_ms) {
  struct epoll_event evs[MAX_EVENTS];
  int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, wait_ms);
  if (n < 0) {
    if (errno != EINTR)
      return bk_fail(BLEAK_ERR_IO, "epoll_wait: %s", strerror(errno));
    n = 0;
  }
  loop->depth++;
  int ran = run_io(loop, evs, n);
  ran += run_timers(loop);
  loop->depth--;
  free_zombies(loop);
  sync_timerfd(loop);
  return ran;
}

int bleak_loop_dispatch(bleak_loop *loop) {
  if (!loop)
    return BLEAK_ERR_INVALID_ARG;
  if (loop->depth > 0)
    return nested_error("bleak_loop_dispatch");
  return pass(loop, 0);
}

int bleak_loop_run_once(bleak_loop *loop, int timeout_ms) {
  if (!loop)
    return BLEAK_ERR_INVALID_ARG;
  if (loop->depth > 0)
    return nested_error("bleak_loop_run_once");
  int wait = timeout_ms < 0 ? -1 : timeout_ms;
  int t = bleak_loop_timeout_ms(loop);
  if (t >= 0 && (wait < 0 || t < wait))
    wait = t;
  return pass(loop, wait);
}

/* Something but background sources (an idle D-Bus connection) to wait for. */
static bool keeps_running(const bleak_loop *loop) {
  if (loop->n_io > loop->n_background_io)
    return true;
  for (size_t i = 0; i < loop->heap_len; i++)
    if (!loop->heap[i]->background)
      return true;
  return false;
}

void bk_source_set_background(bleak_source *src, bool background) {
  if (!src || src->dead || src->background == background)
    return;
  src->background = background;
  if (src->kind == SRC_IO)
    src->loop->n_background_io += background ? 1 : (size_t)-1;
}

int bleak_loop_run(bleak_loop *loop) {
  if (!loop)
    return BLEAK_ERR_INVALID_ARG;
  if (loop->depth > 0)
    return nested_error("bleak_loop_run");
  while (!atomic_exchange(&loop->stop, false)) {
    if (!keeps_running(loop))
      return 0; /* nothing the caller waits for could ever happen */
    int r = bleak_loop_run_once(loop, -1);
    if (r < 0)
      return r;
  }
  return 0;
}

void bleak_loop_stop(bleak_loop *loop) {
  if (!loop)
    return;
  atomic_store(&loop->stop, true);
  bleak_loop_wakeup(loop);
}

void bleak_loop_wakeup(bleak_loop *loop) {
  if (!loop)
    return;
  uint64_t one = 1;
  /* EAGAIN means the counter is saturated: the loop is woken anyway. */
  ssize_t r = write(loop->efd, &one, sizeof one);
  (void)r;
}

int bleak_loop_run_until(bleak_loop *loop, const bool *done, int timeout_ms) {
  if (!loop || !done)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_loop_run_until: NULL argument");
  if (loop->depth > 0)
    return nested_error("bleak_loop_run_until");
  uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
                                     : now_ns() + (uint64_t)timeout_ms * 1000000u;
  while (!*done) {
    int wait = -1;
    if (deadline != UINT64_MAX) {
      uint64_t now = now_ns();
      if (now >= deadline)
        return bk_fail(BLEAK_ERR_TIMEOUT, "timed out after %d ms", timeout_ms);
      wait = (int)((deadline - now + 999999u) / 1000000u);
    }
    int r = bleak_loop_run_once(loop, wait);
    if (r < 0)
      return r;
  }
  return 0;
}
