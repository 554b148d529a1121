/* SPDX-License-Identifier: MIT */
/*
 * bleak/adapter.h: one request per call. Made with its delivery timer and
 * its timeout; the backend fills the list and reports the end; the
 * delivery, from the loop, calls the user once and frees the request.
 */
#include <stdlib.h>
#include <string.h>

#include "core/adapter_backend.h"
#include "core/backend.h"
#include "core/internal.h"

#define DEFAULT_TIMEOUT_MS 10000

struct bk_adapter_req {
  bleak_loop *loop;
  bleak_adapter_options opts;
  char *adapter, *hci_transport, *bond_dir; /* opts' strings, owned */
  const bk_adapter_backend *be;
  void *be_state;
  bool devices;
  bleak_adapters_fn acb;
  bleak_known_devices_fn dcb;
  void *user;
  bleak_source *deliver; /* 0 ms, armed by done */
  bleak_source *timeout;
  bool finished;
  bool started; /* be->start() was called: release() is owed */
  int status;
  void *items; /* bleak_adapter_info[] or bleak_known_device[] */
  size_t n, cap;
};

void bleak_adapter_options_init(bleak_adapter_options *o) {
  if (o)
    memset(o, 0, sizeof *o);
}

bool bk_adapter_req_devices(const bk_adapter_req *r) { return r->devices; }
const bleak_adapter_options *bk_adapter_req_options(const bk_adapter_req *r) { return &r->opts; }
void **bk_adapter_req_state(bk_adapter_req *r) { return &r->be_state; }

static int add(bk_adapter_req *r, const void *item, size_t size) {
  if (r->finished)
    return 0;
  if (r->n == r->cap) {
    size_t ncap = r->cap ? r->cap * 2 : 4;
    void *p = realloc(r->items, ncap * size);
    if (!p)
      return bk_fail(BLEAK_ERR_NO_MEMORY, "adapter list: out of memory");
    r->items = p;
    r->cap = ncap;
  }
  memcpy((char *)r->items + r->n++ * size, item, size);
  return 0;
}

int bk_adapter_req_add(bk_adapter_req *r, const bleak_adapter_info *a) {
  return add(r, a, sizeof *a);
}

int bk_adapter_req_add_device(bk_adapter_req *r, const bleak_known_device *d) {
  return add(r, d, sizeof *d);
}

void bk_adapter_req_done(bk_adapter_req *r, int status) {
  if (r->finished)
    return;
  r->finished = true;
  r->status = status;
  bleak_source_stop_timer(r->timeout);
  bleak_source_set_timer(r->deliver, 0);
}

static void req_free(bk_adapter_req *r) {
  if (r->started)
    r->be->release(r);
  bleak_source_free(r->deliver);
  bleak_source_free(r->timeout);
  free(r->adapter);
  free(r->hci_transport);
  free(r->bond_dir);
  free(r->items);
  free(r);
}

static void on_deliver(bleak_source *src, void *user) {
  (void)src;
  bk_adapter_req *r = user;
  bool ok = r->status >= 0;
  if (r->devices)
    r->dcb(r->status, ok ? r->items : NULL, ok ? r->n : 0, r->user);
  else
    r->acb(r->status, ok ? r->items : NULL, ok ? r->n : 0, r->user);
  req_free(r);
}

static void on_timeout(bleak_source *src, void *user) {
  (void)src;
  bk_adapter_req *r = user;
  if (r->finished)
    return;
  bk_adapter_req_done(r, bk_fail(BLEAK_ERR_TIMEOUT, "no answer within %d ms",
                                 r->opts.timeout_ms));
}

static char *dup_opt(const char *s, bool *oom) {
  char *c = s ? strdup(s) : NULL;
  if (s && !c)
    *oom = true;
  return c;
}

static int start(const bleak_adapter_options *opts, bool devices, bleak_adapters_fn acb,
                 bleak_known_devices_fn dcb, void *user, bk_adapter_req **made) {
  if (!acb && !dcb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "adapter list: callback is NULL");
  bleak_adapter_options defaults;
  if (!opts) {
    bleak_adapter_options_init(&defaults);
    opts = &defaults;
  }
  if (opts->timeout_ms < 0)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "timeout_ms %d", opts->timeout_ms);
  const bk_adapter_backend *be = bk_adapter_backend_for(opts->backend);
  if (!be)
    return BLEAK_ERR_NO_BACKEND;
  bk_adapter_req *r = calloc(1, sizeof *r);
  if (!r)
    return BLEAK_ERR_NO_MEMORY;
  bool oom = false;
  r->opts = *opts;
  r->loop = opts->loop ? opts->loop : bleak_loop_default();
  r->opts.loop = r->loop;
  r->opts.adapter = r->adapter = dup_opt(opts->adapter, &oom);
  r->opts.hci_transport = r->hci_transport = dup_opt(opts->hci_transport, &oom);
  r->opts.bond_dir = r->bond_dir = dup_opt(opts->bond_dir, &oom);
  if (!r->opts.timeout_ms)
    r->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
  r->be = be;
  r->devices = devices;
  r->acb = acb;
  r->dcb = dcb;
  r->user = user;
  if (oom || !r->loop ||
      bleak_loop_add_timer(r->loop, 0, on_deliver, r, &r->deliver) < 0 ||
      bleak_loop_add_timer(r->loop, (uint64_t)r->opts.timeout_ms, on_timeout, r, &r->timeout) < 0) {
    req_free(r);
    return BLEAK_ERR_NO_MEMORY;
  }
  bleak_source_stop_timer(r->deliver);
  if (made)
    *made = r;
  r->started = true;
  int e = be->start(r);
  if (e < 0)
    bk_adapter_req_done(r, e);
  return 0;
}

int bleak_adapters_list_async(const bleak_adapter_options *opts, bleak_adapters_fn cb,
                              void *user) {
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_adapters_list_async: callback is NULL");
  return start(opts, false, cb, NULL, user, NULL);
}

int bleak_known_devices_async(const bleak_adapter_options *opts, bleak_known_devices_fn cb,
                              void *user) {
  if (!cb)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "bleak_known_devices_async: callback is NULL");
  return start(opts, true, NULL, cb, user, NULL);
}

/* ---- the blocking twins ---- */

typedef struct waiter {
  bool done;
  int status;
  void *copy;
  size_t n;
  size_t size;
} waiter;

static void keep(waiter *w, int status, const void *list, size_t n) {
  w->done = true;
  w->status = status;
  if (status < 0 || !n)
    return;
  w->copy = malloc(n * w->size);
  if (!w->copy) {
    w->status = bk_fail(BLEAK_ERR_NO_MEMORY, "adapter list: out of memory");
    return;
  }
  memcpy(w->copy, list, n * w->size);
  w->n = n;
}

static void on_adapters(int status, const bleak_adapter_info *list, size_t n, void *user) {
  if (user)
    keep(user, status, list, n);
}

static void on_devices(int status, const bleak_known_device *list, size_t n, void *user) {
  if (user)
    keep(user, status, list, n);
}

static int run(const bleak_adapter_options *opts, bool devices, void **out, size_t *n,
               size_t size) {
  if (!out || !n)
    return bk_fail(BLEAK_ERR_INVALID_ARG, "adapter list: out or n is NULL");
  *out = NULL;
  *n = 0;
  bleak_loop *loop = opts && opts->loop ? opts->loop : bleak_loop_default();
  if (!loop)
    return BLEAK_ERR_NO_MEMORY;
  if (bleak_loop_in_callback(loop))
    return bk_fail(BLEAK_ERR_STATE, "blocking call from inside a loop callback: use the "
                                    "_async form there");
  waiter w = {.size = size};
  bk_adapter_req *req = NULL;
  int r = start(opts, devices, devices ? NULL : on_adapters, devices ? on_devices : NULL, &w,
                &req);
  if (r < 0)
    return r;
  /* The request has its own timeout: the loop runs until it delivers. */
  r = bleak_loop_run_until(loop, &w.done, -1);
  if (r < 0 && !w.done) {
    req->user = NULL; /* the loop failed: the request delivers to nobody */
    return r;
  }
  if (w.status < 0) {
    free(w.copy);
    return w.status;
  }
  *out = w.copy;
  *n = w.n;
  return 0;
}

int bleak_adapters_list(const bleak_adapter_options *opts, bleak_adapter_info **out, size_t *n) {
  return run(opts, false, (void **)out, n, sizeof **out);
}

int bleak_known_devices(const bleak_adapter_options *opts, bleak_known_device **out, size_t *n) {
  return run(opts, true, (void **)out, n, sizeof **out);
}
