/* SPDX-License-Identifier: MIT */
/**
 * @file bleak/loop.h
 * @brief The event loop: fd watches, timers, deferred calls, and the hooks to
 *        embed it in any other loop.
 *
 * One bleak_loop serves one thread. It starts no threads of its own. Every
 * callback of bleak (completions, notifications, disconnected callbacks, log
 * lines of loop work) runs from bleak_loop_dispatch(), bleak_loop_run_once(),
 * bleak_loop_run() or bleak_loop_run_until() on the loop's thread, also while
 * a blocking bleak call runs the loop for you.
 *
 * Three ways to drive it:
 *  1. bleak_loop_run() until bleak_loop_stop(), like asyncio's run_forever;
 *  2. blocking bleak calls, which run the loop until their operation is done
 *     (bleak_loop_run_until());
 *  3. from another loop (GLib, libuv, a plain poll()): watch bleak_loop_fd()
 *     for readability, wake up no later than bleak_loop_timeout_ms(), then
 *     call bleak_loop_dispatch(). The fd becomes readable when any watched fd
 *     is ready and when a timer is due, so watching the fd alone is enough;
 *     the timeout is a hint that saves a wake-up.
 *
 * Sources: an fd watch, a timer or a deferred call is a bleak_source. The
 * caller that asked for a handle owns it and frees it with
 * bleak_source_free(), which is safe at any time on the loop's thread,
 * including from inside that source's own callback; after it returns, the
 * callback is never called again.
 *
 * Loops do not nest: running a loop from inside one of its own callbacks
 * fails with BLEAK_ERR_STATE (and so does a blocking bleak call made from a
 * callback: use the async form there).
 */
#ifndef BLEAK_LOOP_H
#define BLEAK_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bleak_loop bleak_loop;
typedef struct bleak_source bleak_source;

/** Events of an fd watch (bitmask). */
enum bleak_io_events {
  BLEAK_IO_READ = 1u << 0,  /**< readable (or a peer closed: read sees 0) */
  BLEAK_IO_WRITE = 1u << 1, /**< writable */
  BLEAK_IO_ERROR = 1u << 2, /**< error or hang-up; always reported */
};

/**
 * An fd watch fired: @p revents holds the BLEAK_IO_* events that are ready.
 * Level-triggered: it fires again on the next dispatch while the condition
 * holds, so read what is there or change the events.
 */
typedef void (*bleak_io_fn)(bleak_source *src, int fd, uint32_t revents,
                            void *user_data);

/** A timer or deferred call fired. */
typedef void (*bleak_timer_fn)(bleak_source *src, void *user_data);

/** A deferred call (bleak_loop_call_soon()). */
typedef void (*bleak_call_fn)(void *user_data);

/**
 * Create a loop. The caller owns it and frees it with bleak_loop_free().
 * @return 0, BLEAK_ERR_INVALID_ARG (@p out NULL), BLEAK_ERR_NO_MEMORY, or
 *         BLEAK_ERR_IO (the kernel refused an epoll, timer or event fd).
 */
int bleak_loop_new(bleak_loop **out);

/**
 * Free @p loop (NULL-safe). Sources still attached are freed with it and
 * their handles become invalid: free what you own first. Must not be called
 * from inside one of the loop's callbacks (it is ignored there, with an
 * error logged). Freeing the default loop is allowed: the next
 * bleak_loop_default() on this thread makes a new one.
 */
void bleak_loop_free(bleak_loop *loop);

/**
 * The default loop of the calling thread, created on first use and owned by
 * bleak (free it with bleak_loop_free() if you care to). Each thread has its
 * own. @return the loop, or NULL if it could not be created.
 */
bleak_loop *bleak_loop_default(void);

/**
 * Watch @p fd for @p events (BLEAK_IO_READ and/or BLEAK_IO_WRITE; errors are
 * always reported). bleak does not own @p fd: free the watch before closing
 * the fd. One watch per fd.
 * @param out receives the watch, owned by the caller (NULL on failure).
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL loop/cb/out, fd < 0, unknown event
 *         bits), BLEAK_ERR_ALREADY (the fd is watched already),
 *         BLEAK_ERR_NO_MEMORY, BLEAK_ERR_IO (epoll refused the fd, e.g. a
 *         regular file).
 */
int bleak_loop_add_io(bleak_loop *loop, int fd, uint32_t events,
                      bleak_io_fn cb, void *user_data, bleak_source **out);

/**
 * Change the events an fd watch waits for (0 pauses it).
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL, not an fd watch, unknown bits),
 *         BLEAK_ERR_IO.
 */
int bleak_source_set_io_events(bleak_source *src, uint32_t events);

/**
 * A timer that fires once, @p delay_ms from now (0: at the next dispatch,
 * after the fd watches that are ready; timers due at the same time fire in
 * the order they were armed). Re-arm it with bleak_source_set_timer(), also
 * from its own callback, for a periodic timer.
 * @param out receives the timer, owned by the caller; the timer stays
 *        allocated (disarmed) after it fires.
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL loop/cb/out), BLEAK_ERR_NO_MEMORY.
 */
int bleak_loop_add_timer(bleak_loop *loop, uint64_t delay_ms,
                         bleak_timer_fn cb, void *user_data,
                         bleak_source **out);

/**
 * (Re-)arm a timer to fire once, @p delay_ms from now. Never allocates:
 * the timer's room was reserved when it was created, so re-arming a valid
 * timer cannot fail (code that must not fail can rely on it).
 * @return 0, or BLEAK_ERR_INVALID_ARG (NULL or not a timer).
 */
int bleak_source_set_timer(bleak_source *src, uint64_t delay_ms);

/**
 * Disarm a timer (it stays allocated). @return 0, or BLEAK_ERR_INVALID_ARG.
 */
int bleak_source_stop_timer(bleak_source *src);

/** True when @p src is a timer that is armed. */
bool bleak_source_timer_armed(const bleak_source *src);

/**
 * Call @p fn(@p user_data) once at the next dispatch, in FIFO order with
 * other deferred calls and 0 ms timers. The loop owns this call; it cannot be
 * canceled (use a timer with delay 0 for a cancelable one), so @p user_data
 * must outlive it. Safe to call from callbacks.
 * @return 0, BLEAK_ERR_INVALID_ARG (NULL loop or fn), BLEAK_ERR_NO_MEMORY.
 */
int bleak_loop_call_soon(bleak_loop *loop, bleak_call_fn fn, void *user_data);

/**
 * Free a source (NULL-safe). Safe from inside any callback of the loop,
 * including the source's own; the callback never fires after this returns.
 */
void bleak_source_free(bleak_source *src);

/** The loop @p src belongs to (NULL if @p src is NULL). */
bleak_loop *bleak_source_loop(const bleak_source *src);

/** Milliseconds on the loop's monotonic clock (CLOCK_MONOTONIC). */
uint64_t bleak_loop_now_ms(const bleak_loop *loop);

/**
 * The fd to embed the loop in another one: poll it for readability, then
 * call bleak_loop_dispatch(). Owned by the loop: do not close it or read it.
 * @return the fd, or BLEAK_ERR_INVALID_ARG.
 */
int bleak_loop_fd(const bleak_loop *loop);

/**
 * Milliseconds until the loop needs to dispatch at the latest: 0 when work
 * is due now, -1 when nothing is scheduled (wait for the fd alone), or
 * BLEAK_ERR_INVALID_ARG. Rounded up, so waking at that time finds the timer
 * due.
 */
int bleak_loop_timeout_ms(const bleak_loop *loop);

/**
 * Run what is ready now, without blocking: fd watches, then timers and
 * deferred calls that are due (those armed during this dispatch wait for
 * the next one, so a timer that re-arms itself with 0 cannot starve the
 * loop).
 * @return the number of callbacks run (>= 0), BLEAK_ERR_INVALID_ARG, or
 *         BLEAK_ERR_STATE (called from inside one of the loop's callbacks).
 */
int bleak_loop_dispatch(bleak_loop *loop);

/**
 * Wait up to @p timeout_ms (-1: no limit) for something to do, then dispatch
 * it. Returns early when bleak_loop_wakeup() or bleak_loop_stop() is called.
 * @return the number of callbacks run, BLEAK_ERR_INVALID_ARG,
 *         BLEAK_ERR_STATE (nested run), BLEAK_ERR_IO (epoll failed).
 */
int bleak_loop_run_once(bleak_loop *loop, int timeout_ms);

/**
 * Run until bleak_loop_stop() is called, or until the loop has no source
 * left to wait on (then nothing could ever happen).
 * @return 0, BLEAK_ERR_INVALID_ARG, BLEAK_ERR_STATE (nested), BLEAK_ERR_IO.
 */
int bleak_loop_run(bleak_loop *loop);

/**
 * Make bleak_loop_run() return once the current dispatch ends. Thread-safe
 * (it also wakes the loop). No effect on bleak_loop_run_until().
 */
void bleak_loop_stop(bleak_loop *loop);

/**
 * Wake a loop that is waiting, from any thread (async-signal-safe, too).
 */
void bleak_loop_wakeup(bleak_loop *loop);

/**
 * The driver of every blocking call: run the loop until @p *done becomes
 * true (set by a callback) or @p timeout_ms passes (-1: no limit).
 * @return 0 when @p *done is true (also when it already was),
 *         BLEAK_ERR_TIMEOUT, BLEAK_ERR_INVALID_ARG (NULL loop or done),
 *         BLEAK_ERR_STATE (called from inside one of the loop's callbacks:
 *         loops do not nest), BLEAK_ERR_IO.
 */
int bleak_loop_run_until(bleak_loop *loop, const bool *done, int timeout_ms);

/** True while @p loop is dispatching callbacks (you are inside one). */
bool bleak_loop_in_callback(const bleak_loop *loop);

#ifdef __cplusplus
}
#endif
#endif /* BLEAK_LOOP_H */
