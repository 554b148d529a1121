/* SPDX-License-Identifier: MIT */
/*
 * The backend-neutral client on a fake backend: exactly one completion per
 * operation (success, error, cancel, timeout, disconnect, free), never
 * before the async call returns; subscriptions; write modes; bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bleak/client.h"
#include "bleak/error.h"
#include "callbacks.h"
#include "core/backend.h"
#include "core/gatt_build.h"

#define ADDR "AA:BB:CC:DD:EE:01"

/* ---- the fake backend ---- */

typedef struct fake {
  bk_op *ops[16];
  int n_ops;
  int aborts;
  bool complete_in_start; /* finish every op from inside start() */
  int start_status;       /* returned by start() */
  bool destroyed;
} fake;

static fake F;

static int fake_init(bleak_client *c, const bleak_client_options *o, void **st) {
  (void)c;
  (void)o;
  *st = &F;
  return 0;
}
static void fake_destroy(bleak_client *c, void *st) {
  (void)c;
  ((fake *)st)->destroyed = true;
}
static int fake_start(bleak_client *c, bk_op *op) {
  (void)c;
  if (F.start_status)
    return F.start_status;
  F.ops[F.n_ops++] = op;
  if (F.complete_in_start) {
    if (op->kind == BK_OP_READ_CHAR)
      bk_op_done_read(op, 0, (const uint8_t *)"\x57", 1);
    else
      bk_op_done(op, 0);
  }
  return 0;
}
static void fake_abort(bleak_client *c, bk_op *op) {
  (void)c;
  F.aborts++;
  for (int i = 0; i < F.n_ops; i++)
    if (F.ops[i] == op)
      F.ops[i] = NULL;
}
static int fake_mtu(const bleak_client *c) {
  (void)c;
  return 247;
}

static const bk_client_backend fake_backend = {
    .name = "fake", .init = fake_init, .destroy = fake_destroy,
    .start = fake_start, .abort = fake_abort, .mtu = fake_mtu};

/* ---- fixtures ---- */

typedef struct ctx {
  bleak_loop *loop;
  bleak_client *c;
  int disconnected;
} ctx;

static ctx C;

static void on_disconnected(bleak_client *c, void *user) {
  (void)c;
  ((ctx *)user)->disconnected++;
}

/* Battery 1-4 (read, notify at 2), custom 5-9 (write at 6, wwr at 8). */
static bleak_gatt_services *db(void) {
  bleak_gatt_services *s = bk_gatt_services_new();
  bleak_uuid u = bleak_uuid_from_u16(0x180f);
  bk_gatt_services_add_service(s, &u, 1, 4, true);
  u = bleak_uuid_from_u16(0x2a19);
  bk_gatt_services_add_characteristic(s, 1, &u, 2, 3,
                                      BLEAK_GATT_PROP_READ | BLEAK_GATT_PROP_NOTIFY);
  u = bleak_uuid_from_u16(0x2901); /* a User Description at 4 */
  bk_gatt_services_add_descriptor(s, 2, &u, 4);
  u = bleak_uuid_from_u16(0xfff0);
  bk_gatt_services_add_service(s, &u, 5, 9, true);
  u = bleak_uuid_from_u16(0xfff1);
  bk_gatt_services_add_characteristic(s, 5, &u, 6, 7, BLEAK_GATT_PROP_WRITE);
  u = bleak_uuid_from_u16(0xfff2);
  bk_gatt_services_add_characteristic(s, 5, &u, 8, 9,
                                      BLEAK_GATT_PROP_WRITE_WITHOUT_RESPONSE);
  assert_int_equal(bk_gatt_services_finish(s), 0);
  return s;
}

static int setup(void **state) {
  memset(&F, 0, sizeof F);
  memset(&C, 0, sizeof C);
  if (bleak_loop_new(&C.loop))
    return -1;
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = C.loop;
  o.timeout_ms = 200;
  o.disconnected_callback = on_disconnected;
  o.disconnected_user_data = &C;
  if (bk_client_new_with_backend("aa:bb:cc:dd:ee:01", &o, &fake_backend, &C.c))
    return -1;
  *state = &C;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  bleak_client_free(C.c);
  assert_true(F.destroyed);
  bleak_loop_free(C.loop);
  return 0;
}

/* Completion records. */
typedef struct done {
  int calls;
  int status;
  uint8_t data[8];
  size_t len;
} done;

static void on_done(bleak_client *c, int status, void *user) {
  (void)c;
  done *d = user;
  d->calls++;
  d->status = status;
}

static void on_read(bleak_client *c, int status, const uint8_t *data, size_t len,
                    void *user) {
  (void)c;
  done *d = user;
  d->calls++;
  d->status = status;
  d->len = len;
  if (len && len <= sizeof d->data)
    memcpy(d->data, data, len);
}

/* The operation the fake backend saw last (a test failure if none). */
static bk_op *last_op(void) {
  static bk_op none;
  bk_op *op = F.n_ops ? F.ops[F.n_ops - 1] : NULL;
  if (!op) {
    fail_msg("the backend has no operation");
    return &none;
  }
  return op;
}

static void connect_with(bleak_gatt_services *services);

/* Connect through the fake: services installed, op completed from the loop. */
static void connect_now(void) { connect_with(db()); }

static void connect_with(bleak_gatt_services *services) {
  done d = {0};
  int id = bleak_client_connect_async(C.c, on_done, &d);
  assert_true(id > 0);
  bk_op *op = last_op();
  assert_int_equal(op->kind, BK_OP_CONNECT);
  bk_client_set_services(C.c, services);
  bk_op_done(op, 0);
  assert_int_equal(d.calls, 0); /* recorded: delivered from the loop */
  assert_true(bleak_client_is_connected(C.c));
  assert_int_equal(bleak_loop_dispatch(C.loop), 1);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, 0);
  assert_true(bleak_client_is_connected(C.c));
}

static const bleak_gatt_characteristic *chr(uint16_t handle) {
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_handle(C.c, handle, &ch), 0);
  return ch;
}

/* ---- tests ---- */

static void test_new_bad_input(void **state) {
  (void)state;
  bleak_client *c = (bleak_client *)1;
  static const char *bad[] = {"", "AA:BB:CC:DD:EE", "AA:BB:CC:DD:EE:0G",
                              "AA-BB-CC-DD-EE-01", "AA:BB:CC:DD:EE:011"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(bk_client_new_with_backend(bad[i], NULL, &fake_backend, &c),
                     BLEAK_ERR_INVALID_ARG);
    assert_null(c);
  }
  assert_int_equal(bk_client_new_with_backend(NULL, NULL, &fake_backend, &c),
                   BLEAK_ERR_INVALID_ARG);
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.n_services = 2; /* with services NULL */
  assert_int_equal(bk_client_new_with_backend(ADDR, &o, &fake_backend, &c),
                   BLEAK_ERR_INVALID_ARG);
  o.n_services = 0;
  o.att_timeout_ms = -1;
  assert_int_equal(bk_client_new_with_backend(ADDR, &o, &fake_backend, &c),
                   BLEAK_ERR_INVALID_ARG);
  o.att_timeout_ms = 0;
  o.backend = (bleak_backend_kind)7;
  assert_int_equal(bk_client_new_with_backend(ADDR, &o, &fake_backend, &c),
                   BLEAK_ERR_INVALID_ARG);
  bleak_client_free(NULL);
}

static void test_properties(void **state) {
  (void)state;
  assert_string_equal(bleak_client_address(C.c), ADDR); /* normalized */
  assert_string_equal(bleak_client_name(C.c), ADDR);    /* no name known */
  assert_string_equal(bleak_client_backend_id(C.c), "fake");
  assert_int_equal(bleak_client_mtu_size(C.c), 247);
  assert_ptr_equal(bleak_client_loop(C.c), C.loop);
  assert_false(bleak_client_is_connected(C.c));
  assert_null(bleak_client_services(C.c));
  bleak_gatt_services *s = (bleak_gatt_services *)1;
  assert_int_equal(bleak_client_get_services(C.c, &s), BLEAK_ERR_NOT_CONNECTED);
  assert_null(s);
}

static void test_connect_and_services(void **state) {
  (void)state;
  connect_now();
  bleak_gatt_services *s = NULL;
  assert_int_equal(bleak_client_get_services(C.c, &s), 0);
  assert_ptr_equal(s, bleak_client_services(C.c));
  assert_int_equal(bleak_gatt_services_count(s), 2);
  done d = {0};
  assert_int_equal(bleak_client_connect_async(C.c, on_done, &d), BLEAK_ERR_ALREADY);
  assert_int_equal(d.calls, 0);
}

/* A backend that completes inside start(): the callback waits for the loop. */
static void test_never_completes_before_return(void **state) {
  (void)state;
  connect_now();
  F.complete_in_start = true;
  done d = {0};
  int id = bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &d);
  assert_true(id > 0);
  assert_int_equal(d.calls, 0);
  assert_int_equal(bleak_loop_dispatch(C.loop), 1);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.len, 1);
  assert_int_equal(d.data[0], 0x57);
  assert_int_equal(bleak_loop_dispatch(C.loop), 0);
  assert_int_equal(d.calls, 1);
  /* Cancel of a completed op is NOT_FOUND. */
  assert_int_equal(bleak_client_cancel(C.c, id), BLEAK_ERR_NOT_FOUND);
}

static void test_start_error_is_a_completion(void **state) {
  (void)state;
  connect_now();
  F.start_status = BLEAK_ERR_BACKEND;
  done d = {0};
  int id = bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &d);
  assert_true(id > 0);
  assert_int_equal(d.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_BACKEND);
  assert_int_equal(d.len, 0);
}

static void test_cancel(void **state) {
  (void)state;
  connect_now();
  done d = {0};
  int id = bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &d);
  assert_int_equal(bleak_client_cancel(C.c, id), 0);
  assert_int_equal(F.aborts, 1);
  assert_int_equal(d.calls, 0); /* from the loop, not from cancel */
  assert_int_equal(bleak_client_cancel(C.c, id), BLEAK_ERR_NOT_FOUND);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_CANCELED);
  assert_int_equal(bleak_client_cancel(C.c, 0), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_client_cancel(C.c, 12345), BLEAK_ERR_NOT_FOUND);
}

static void test_connect_timeout(void **state) {
  (void)state;
  done d = {0};
  assert_true(bleak_client_connect_async(C.c, on_done, &d) > 0);
  assert_int_equal(bleak_loop_run_until(C.loop, (bool *)&(bool){false}, 50), BLEAK_ERR_TIMEOUT);
  assert_int_equal(d.calls, 0);
  while (!d.calls)
    bleak_loop_run_once(C.loop, 1000);
  assert_int_equal(d.status, BLEAK_ERR_TIMEOUT);
  assert_int_equal(F.aborts, 1);
  assert_false(bleak_client_is_connected(C.c));
  assert_int_equal(C.disconnected, 0); /* never connected */
}

/* The link drops while connect is still discovering: connect completes
 * once with DISCONNECTED, the disconnected callback stays silent (there was
 * no connection to lose), and connect works again afterwards. */
static void test_link_lost_during_discovery(void **state) {
  (void)state;
  done d = {0};
  assert_true(bleak_client_connect_async(C.c, on_done, &d) > 0);
  bk_client_disconnected(C.c, BLEAK_ERR_HCI(0x13));
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(C.disconnected, 0);
  assert_false(bleak_client_is_connected(C.c));
  assert_null(bleak_client_services(C.c));
  /* A late completion from the backend is ignored, not a second call
   * (the new connect is pending at teardown: static). */
  static done d2;
  assert_true(bleak_client_connect_async(C.c, on_done, &d2) > 0);
  assert_int_equal(d.calls, 1);
}

/* A disconnect the backend fails leaves the client usable: connected as
 * far as anyone knows, so disconnect can be retried, and free works. */
static void test_failed_disconnect_is_not_stuck(void **state) {
  (void)state;
  connect_now();
  done d = {0};
  assert_true(bleak_client_disconnect_async(C.c, on_done, &d) > 0);
  bk_op_done(last_op(), BLEAK_ERR_TIMEOUT);
  assert_int_equal(d.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, BLEAK_ERR_TIMEOUT);
  assert_true(bleak_client_is_connected(C.c));
  assert_int_equal(C.disconnected, 0);
  /* Retry: now the link goes down; the callback fires once. */
  done d2 = {0};
  assert_true(bleak_client_disconnect_async(C.c, on_done, &d2) > 0);
  bk_client_disconnected(C.c, 0);
  assert_int_equal(d2.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d2.calls, 1);
  assert_int_equal(d2.status, 0);
  assert_int_equal(C.disconnected, 1);
  assert_false(bleak_client_is_connected(C.c));
  /* And connect is possible again (pending at teardown: static). */
  static done c2;
  assert_true(bleak_client_connect_async(C.c, on_done, &c2) > 0);
}

/* Notifications before and after subscription. */
typedef struct nrec {
  int count;
} nrec;
static void on_value(bleak_client *c, const bleak_gatt_characteristic *ch,
                     const uint8_t *data, size_t len, void *user) {
  (void)c;
  (void)ch;
  (void)data;
  (void)len;
  ((nrec *)user)->count++;
}

static void test_disconnect_fails_pending_once(void **state) {
  (void)state;
  connect_now();
  done r = {0}, w = {0}, n = {0};
  nrec values = {0};
  const uint8_t v[2] = {1, 2};
  assert_true(bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &r) > 0);
  assert_true(bleak_client_write_gatt_char_async(C.c, chr(6), v, 2, BLEAK_WRITE_AUTO,
                                                 on_done, &w) > 0);
  assert_true(bleak_client_start_notify_async(C.c, chr(2), on_value, &values,
                                              on_done, &n) > 0);
  bk_client_notify(C.c, chr(2), v, 2); /* pending subscription: delivered */
  assert_int_equal(values.count, 1);
  bk_client_disconnected(C.c, BLEAK_ERR_HCI(0x13));
  /* Recorded, not delivered inside the backend's report. */
  assert_int_equal(r.calls + w.calls + n.calls + C.disconnected, 0);
  assert_false(bleak_client_is_connected(C.c));
  bleak_loop_dispatch(C.loop);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(w.calls, 1);
  assert_int_equal(w.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(n.calls, 1);
  assert_int_equal(n.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(F.aborts, 3);
  assert_int_equal(C.disconnected, 1);
  assert_false(bleak_client_is_connected(C.c));
  assert_null(bleak_client_services(C.c));
  /* Nothing fires twice. */
  bleak_loop_dispatch(C.loop);
  assert_int_equal(r.calls + w.calls + n.calls, 3);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_handle(C.c, 2, &ch), BLEAK_ERR_NOT_CONNECTED);
}

static void test_local_disconnect(void **state) {
  (void)state;
  connect_now();
  done d = {0};
  assert_true(bleak_client_disconnect_async(C.c, on_done, &d) > 0);
  assert_int_equal(last_op()->kind, BK_OP_DISCONNECT);
  assert_int_equal(d.calls, 0);
  bk_client_disconnected(C.c, 0); /* the backend saw the link go */
  assert_int_equal(C.disconnected + d.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(C.disconnected, 1);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, 0);
  /* Disconnecting a disconnected client succeeds, from the loop. */
  done d2 = {0};
  assert_true(bleak_client_disconnect_async(C.c, on_done, &d2) > 0);
  assert_int_equal(d2.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d2.calls, 1);
  assert_int_equal(d2.status, 0);
  assert_int_equal(C.disconnected, 1);
}

static void test_free_completes_pending(void **state) {
  (void)state;
  connect_now();
  done r = {0};
  assert_true(bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &r) > 0);
  bleak_client_free(C.c);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, BLEAK_ERR_DISCONNECTED);
  assert_int_equal(C.disconnected, 0);
  assert_true(F.destroyed);
  /* A fresh client for teardown. */
  assert_int_equal(bk_client_new_with_backend(ADDR, &(bleak_client_options){.loop = C.loop},
                                              &fake_backend, &C.c), 0);
}

static void test_notifications_stop_at_stop_notify(void **state) {
  (void)state;
  connect_now();
  /* Static: the last subscription is still pending at teardown, when
   * free completes it. */
  static nrec values;
  static done n, s;
  const uint8_t v[1] = {7};
  assert_true(bleak_client_start_notify_async(C.c, chr(2), on_value, &values, on_done, &n) > 0);
  bk_op_done(last_op(), 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(n.calls, 1);
  assert_int_equal(n.status, 0);
  bk_client_notify(C.c, chr(2), v, 1);
  bk_client_notify(C.c, chr(6), v, 1); /* not subscribed: dropped */
  assert_int_equal(values.count, 1);
  assert_true(bleak_client_stop_notify_async(C.c, chr(2), on_done, &s) > 0);
  bk_client_notify(C.c, chr(2), v, 1); /* stop requested: no more values */
  assert_int_equal(values.count, 1);
  assert_int_equal(bleak_client_stop_notify_async(C.c, chr(2), on_done, &s),
                   BLEAK_ERR_NOT_FOUND);
  bk_op_done(last_op(), 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(s.calls, 1);
  /* Now it can be subscribed again; twice is ALREADY. */
  assert_true(bleak_client_start_notify_async(C.c, chr(2), on_value, &values, on_done, &n) > 0);
  assert_int_equal(bleak_client_start_notify_async(C.c, chr(2), on_value, &values, on_done, &n),
                   BLEAK_ERR_ALREADY);
  assert_int_equal(bleak_client_start_notify_async(C.c, chr(6), on_value, &values, on_done, &n),
                   BLEAK_ERR_NOT_SUPPORTED);
}

/* use_cached on a backend without a cache of its own: the first read goes
 * to the backend with use_cached still set (bluez answers from BlueZ's
 * Value when it has one; a backend without one asks the peer), later ones are answered by the core
 * from the last value read or notified, from the loop; the values go with
 * the link. */
static void test_use_cached(void **state) {
  (void)state;
  connect_now();
  const bleak_read_options cached = {.use_cached = true};
  done d = {0};
  assert_true(bleak_client_read_gatt_char_opts_async(C.c, chr(2), &cached, on_read, &d) > 0);
  assert_int_equal(F.n_ops, 2); /* nothing seen yet: the backend is asked */
  assert_true(last_op()->use_cached);
  bk_op_done_read(last_op(), 0, (const uint8_t *)"\x11\x22", 2);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
  /* Now from the cache: no backend op, not before the call returns. */
  memset(&d, 0, sizeof d);
  assert_true(bleak_client_read_gatt_char_opts_async(C.c, chr(2), &cached, on_read, &d) > 0);
  assert_int_equal(F.n_ops, 2);
  assert_int_equal(d.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.len, 2);
  assert_memory_equal(d.data, "\x11\x22", 2);
  /* A notified value replaces it (subscribed or not); a plain read still
   * goes to the peer. */
  bk_client_notify(C.c, chr(2), (const uint8_t *)"\x33\x44\x55", 3);
  uint8_t buf[8];
  size_t len = 0;
  assert_int_equal(bleak_client_read_gatt_char_opts(C.c, chr(2), &cached, buf, sizeof buf, &len),
                   0);
  assert_int_equal(len, 3);
  assert_memory_equal(buf, "\x33\x44\x55", 3);
  memset(&d, 0, sizeof d);
  assert_true(bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &d) > 0);
  assert_int_equal(F.n_ops, 3);
  bk_op_done_read(last_op(), 0, NULL, 0); /* an empty value is a value */
  bleak_loop_dispatch(C.loop);
  assert_int_equal(bleak_client_read_gatt_char_opts(C.c, chr(2), &cached, buf, sizeof buf, &len),
                   0);
  assert_int_equal(len, 0);
  assert_int_equal(F.n_ops, 3);
  /* Descriptors likewise, by their own handle. */
  const bleak_gatt_descriptor *ud = bleak_gatt_characteristic_descriptor_at(chr(2), 0);
  memset(&d, 0, sizeof d);
  assert_true(bleak_client_read_gatt_descriptor_opts_async(C.c, ud, &cached, on_read, &d) > 0);
  assert_int_equal(F.n_ops, 4);
  bk_op_done_read(last_op(), 0, (const uint8_t *)"ud", 2);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(bleak_client_read_gatt_descriptor_opts(C.c, ud, &cached, buf, sizeof buf, &len),
                   0);
  assert_int_equal(F.n_ops, 4);
  assert_memory_equal(buf, "ud", 2);
  /* A failed read leaves the value as it was. */
  assert_true(bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &d) > 0);
  bk_op_done_read(last_op(), BLEAK_ERR_ATT(0x02), NULL, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(bleak_client_read_gatt_char_opts(C.c, chr(2), &cached, buf, sizeof buf, &len),
                   0);
  assert_int_equal(len, 0);
  /* The link goes: so do its values. */
  bk_client_disconnected(C.c, 0);
  bleak_loop_dispatch(C.loop);
  int n = F.n_ops;
  connect_now();
  memset(&d, 0, sizeof d);
  assert_true(bleak_client_read_gatt_char_opts_async(C.c, chr(2), &cached, on_read, &d) > 0);
  assert_int_equal(F.n_ops, n + 2); /* the connect, then the read to the peer */
  bk_op_done_read(last_op(), 0, (const uint8_t *)"\x01", 1);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(d.calls, 1);
}

/* Bleak 3.0: the CCCD is start_notify's; writing it is refused at once,
 * with a detail that says so. Other descriptors are written. */
static void test_cccd_write_refused(void **state) {
  (void)state;
  bleak_gatt_services *s = bk_gatt_services_new();
  bleak_uuid u = bleak_uuid_from_u16(0x180f);
  bk_gatt_services_add_service(s, &u, 1, 5, true);
  u = bleak_uuid_from_u16(0x2a19);
  bk_gatt_services_add_characteristic(s, 1, &u, 2, 3, BLEAK_GATT_PROP_READ | BLEAK_GATT_PROP_NOTIFY);
  u = bleak_uuid_from_u16(0x2902);
  bk_gatt_services_add_descriptor(s, 2, &u, 4);
  u = bleak_uuid_from_u16(0x2901);
  bk_gatt_services_add_descriptor(s, 2, &u, 5);
  assert_int_equal(bk_gatt_services_finish(s), 0);
  connect_with(s);
  const bleak_gatt_characteristic *ch = chr(2);
  bleak_uuid cccd = bleak_uuid_from_u16(0x2902), cud = bleak_uuid_from_u16(0x2901);
  const bleak_gatt_descriptor *d = bleak_gatt_characteristic_get_descriptor(ch, &cccd);
  assert_non_null(d);
  static const uint8_t on[2] = {1, 0};
  done w = {0};
  int n = F.n_ops;
  assert_int_equal(bleak_client_write_gatt_descriptor_async(C.c, d, on, 2, on_done, &w),
                   BLEAK_ERR_INVALID_ARG);
  assert_non_null(strstr(bleak_error_detail(), "start_notify"));
  assert_int_equal(bleak_client_write_gatt_descriptor(C.c, d, on, 2), BLEAK_ERR_INVALID_ARG);
  assert_int_equal(F.n_ops, n);
  d = bleak_gatt_characteristic_get_descriptor(ch, &cud);
  assert_true(bleak_client_write_gatt_descriptor_async(C.c, d, on, 2, on_done, &w) > 0);
  assert_int_equal(F.n_ops, n + 1);
  bk_op_done(last_op(), 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(w.calls, 1);
}

/* use_start_notify reaches the backend; the default is AcquireNotify's
 * (false); the default connect timeout is Bleak 2.1.1's 30 s. */
static void test_notify_options_and_defaults(void **state) {
  (void)state;
  bleak_client_options o;
  bleak_client_options_init(&o);
  assert_int_equal(o.timeout_ms, 30000);
  connect_now();
  static nrec values;
  static done n;
  assert_true(bleak_client_start_notify_async(C.c, chr(2), on_value, &values, on_done, &n) > 0);
  assert_false(last_op()->use_start_notify);
  bk_op_done(last_op(), 0);
  bleak_loop_dispatch(C.loop);
  assert_true(bleak_client_stop_notify_async(C.c, chr(2), on_done, &n) > 0);
  bk_op_done(last_op(), 0);
  bleak_loop_dispatch(C.loop);
  const bleak_notify_options no = {.use_start_notify = true};
  assert_true(bleak_client_start_notify_opts_async(C.c, chr(2), &no, on_value, &values, on_done, &n) > 0);
  assert_true(last_op()->use_start_notify);
  bk_op_done(last_op(), 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(n.status, 0);
}

static void test_write_modes_and_sizes(void **state) {
  (void)state;
  connect_now();
  static done d; /* the writes are still pending at teardown */
  uint8_t big[600] = {0};
  /* AUTO: "write" present -> with response. */
  assert_true(bleak_client_write_gatt_char_async(C.c, chr(6), big, 3, BLEAK_WRITE_AUTO, on_done, &d) > 0);
  assert_true(last_op()->with_response);
  assert_int_equal(last_op()->len, 3);
  /* AUTO: only write-without-response -> without. */
  assert_true(bleak_client_write_gatt_char_async(C.c, chr(8), big, 3, BLEAK_WRITE_AUTO, on_done, &d) > 0);
  assert_false(last_op()->with_response);
  /* Without response: at most MTU - 3 (collection MTU 23 -> 20). */
  assert_int_equal(bleak_client_write_gatt_char_async(C.c, chr(8), big, 21,
                                                      BLEAK_WRITE_WITHOUT_RESPONSE, on_done, &d),
                   BLEAK_ERR_TOO_LONG);
  assert_int_equal(bleak_client_write_gatt_char_async(C.c, chr(6), big, 513,
                                                      BLEAK_WRITE_WITH_RESPONSE, on_done, &d),
                   BLEAK_ERR_TOO_LONG);
  /* Without response where the characteristic does not offer it. */
  assert_int_equal(bleak_client_write_gatt_char_async(C.c, chr(6), big, 3,
                                                      BLEAK_WRITE_WITHOUT_RESPONSE, on_done, &d),
                   BLEAK_ERR_NOT_SUPPORTED);
  assert_int_equal(bleak_client_write_gatt_char_async(C.c, chr(6), big, 3,
                                                      (bleak_write_mode)9, on_done, &d),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_client_write_gatt_char_async(C.c, chr(6), NULL, 3,
                                                      BLEAK_WRITE_AUTO, on_done, &d),
                   BLEAK_ERR_INVALID_ARG);
  /* The data was copied: changing ours does not change the op's. */
  const uint8_t *copy = last_op()->data;
  big[0] = 0x55;
  assert_int_equal(copy[0], 0);
}

static void test_foreign_characteristic_refused(void **state) {
  (void)state;
  connect_now();
  bleak_gatt_services *other = db();
  const bleak_gatt_characteristic *foreign =
      bleak_gatt_services_get_characteristic_by_handle(other, 2);
  done d = {0};
  assert_int_equal(bleak_client_read_gatt_char_async(C.c, foreign, on_read, &d),
                   BLEAK_ERR_NOT_FOUND);
  assert_int_equal(bleak_client_read_gatt_char_async(C.c, NULL, on_read, &d),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(bleak_client_read_gatt_char_async(C.c, chr(2), NULL, &d),
                   BLEAK_ERR_INVALID_ARG);
  assert_int_equal(d.calls, 0);
  bleak_gatt_services_unref(other);
}

/* Blocking calls: a read into a small buffer; nesting refused. */
static void complete_from_loop(bleak_source *src, void *user) {
  (void)user;
  bleak_source_free(src);
  for (int i = F.n_ops - 1; i >= 0; i--)
    if (F.ops[i]) {
      bk_op *op = F.ops[i];
      F.ops[i] = NULL;
      bk_op_done_read(op, 0, (const uint8_t *)"abcdef", 6);
      return;
    }
}

static void test_blocking_read(void **state) {
  (void)state;
  connect_now();
  bleak_source *t;
  uint8_t buf[4];
  size_t len = 0;
  assert_int_equal(bleak_loop_add_timer(C.loop, 1, complete_from_loop, NULL, &t), 0);
  assert_int_equal(bleak_client_read_gatt_char(C.c, chr(2), buf, sizeof buf, &len),
                   BLEAK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 6);
  uint8_t big[16];
  assert_int_equal(bleak_loop_add_timer(C.loop, 1, complete_from_loop, NULL, &t), 0);
  assert_int_equal(bleak_client_read_gatt_char(C.c, chr(2), big, sizeof big, &len), 0);
  assert_int_equal(len, 6);
  assert_memory_equal(big, "abcdef", 6);
}

static void nested_read(bleak_client *c, int status, void *user) {
  (void)status;
  uint8_t buf[4];
  size_t len;
  *(int *)user = bleak_client_read_gatt_char(c, chr(2), buf, sizeof buf, &len);
}

static void test_blocking_inside_callback_refused(void **state) {
  (void)state;
  connect_now();
  int nested = 0;
  F.complete_in_start = true;
  assert_true(bleak_client_write_gatt_char_async(C.c, chr(6), (const uint8_t *)"x", 1,
                                                 BLEAK_WRITE_AUTO, nested_read, &nested) > 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(nested, BLEAK_ERR_STATE);
}

static void test_not_connected_errors(void **state) {
  (void)state;
  uint8_t buf[4];
  size_t len;
  done d = {0};
  assert_int_equal(bleak_client_read_gatt_char(C.c, NULL, buf, 4, &len), BLEAK_ERR_NOT_CONNECTED);
  assert_int_equal(bleak_client_pair_async(C.c, on_done, &d), BLEAK_ERR_NOT_CONNECTED);
  assert_int_equal(bleak_client_read_gatt_char(NULL, NULL, buf, 4, &len), BLEAK_ERR_INVALID_ARG);
  assert_false(bleak_client_is_connected(NULL));
  assert_null(bleak_client_address(NULL));
  assert_int_equal(d.calls, 0);
}


/* ---- the contract, for every op kind: what a completion callback may do ----
 *
 * Each kind is started and completed by the backend from inside its
 * handler (here: right away); the callback must wait for the loop, and
 * from there it may cancel another op, start new ones, or free the client
 * (deferred until the callback has returned). Every op completes once. */

typedef enum action { ACT_CANCEL, ACT_START, ACT_FREE } action;

typedef struct probe {
  action act;
  int calls;
  int status;
  int other_id;  /* ACT_CANCEL: the op to cancel */
  done other;    /* the other op's completion */
  int started_id; /* ACT_START: the op started from the callback */
} probe;

static void probe_act(bleak_client *c, probe *p) {
  switch (p->act) {
  case ACT_CANCEL: {
    /* Pending still, unless the link's end completed it first. */
    int before = p->other.calls;
    assert_int_equal(bleak_client_cancel(c, p->other_id), before ? BLEAK_ERR_NOT_FOUND : 0);
    assert_int_equal(p->other.calls, before); /* not from inside cancel */
    break;
  }
  case ACT_START: {
    const bleak_gatt_characteristic *ch = NULL;
    if (bleak_client_char_by_handle(c, 2, &ch) == 0) /* still connected */
      p->started_id = bleak_client_read_gatt_char_async(c, ch, on_read, &p->other);
    else
      assert_false(bleak_client_is_connected(c));
    break;
  }
  case ACT_FREE:
    bleak_client_free(c); /* deferred: this callback is still running */
    assert_false(F.destroyed);
    break;
  }
}

static void probe_done(bleak_client *c, int status, void *user) {
  probe *p = user;
  p->calls++;
  p->status = status;
  probe_act(c, p);
}

TEST_READ_AS_DONE(probe_read, probe_done)


static int start_kind(bk_op_kind kind, probe *p) {
  static const uint8_t v[2] = {1, 0};
  const bleak_gatt_descriptor *d = NULL;
  if (kind == BK_OP_READ_DESC || kind == BK_OP_WRITE_DESC)
    d = bleak_gatt_characteristic_descriptor_at(chr(2), 0);
  switch (kind) {
  case BK_OP_CONNECT:
    return bleak_client_connect_async(C.c, probe_done, p);
  case BK_OP_DISCONNECT:
    return bleak_client_disconnect_async(C.c, probe_done, p);
  case BK_OP_READ_CHAR:
    return bleak_client_read_gatt_char_async(C.c, chr(2), probe_read, p);
  case BK_OP_WRITE_CHAR:
    return bleak_client_write_gatt_char_async(C.c, chr(6), v, 2, BLEAK_WRITE_AUTO, probe_done, p);
  case BK_OP_START_NOTIFY:
    return bleak_client_start_notify_async(C.c, chr(2), test_ignore_value, NULL, probe_done, p);
  case BK_OP_STOP_NOTIFY:
    return bleak_client_stop_notify_async(C.c, chr(2), probe_done, p);
  case BK_OP_READ_DESC:
    return bleak_client_read_gatt_descriptor_async(C.c, d, probe_read, p);
  case BK_OP_WRITE_DESC:
    return bleak_client_write_gatt_descriptor_async(C.c, d, v, 2, probe_done, p);
  case BK_OP_PAIR:
    return bleak_client_pair_async(C.c, probe_done, p);
  case BK_OP_UNPAIR:
    return bleak_client_unpair_async(C.c, probe_done, p);
  }
  return -1;
}

static void contract_case(bk_op_kind kind, action act) {
  memset(&F, 0, sizeof F);
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = C.loop;
  o.timeout_ms = 5000;
  assert_int_equal(bk_client_new_with_backend(ADDR, &o, &fake_backend, &C.c), 0);
  if (kind != BK_OP_CONNECT)
    connect_now();
  if (kind == BK_OP_STOP_NOTIFY) { /* subscribed first */
    static done sub;
    assert_true(bleak_client_start_notify_async(C.c, chr(2), test_ignore_value, NULL, on_done, &sub) > 0);
    bk_op_done(last_op(), 0);
    bleak_loop_dispatch(C.loop);
  }
  probe p = {.act = act};
  if (act == ACT_CANCEL) { /* another op, pending, for the callback to cancel */
    if (kind == BK_OP_CONNECT)
      p.other_id = bleak_client_disconnect_async(C.c, on_done, &p.other);
    else
      p.other_id = bleak_client_read_gatt_char_async(C.c, chr(2), on_read, &p.other);
  }
  int id = start_kind(kind, &p);
  assert_true(id > 0);
  bk_op *op = last_op();
  assert_int_equal(op->kind, kind);
  if (kind == BK_OP_CONNECT)
    bk_client_set_services(C.c, db());
  if (kind == BK_OP_DISCONNECT)
    bk_client_disconnected(C.c, 0);
  else if (kind == BK_OP_READ_CHAR || kind == BK_OP_READ_DESC)
    bk_op_done_read(op, 0, (const uint8_t *)"\x42", 1);
  else
    bk_op_done(op, 0);
  assert_int_equal(p.calls, 0); /* recorded, not delivered inside the backend */
  for (int i = 0; i < 4; i++)
    bleak_loop_dispatch(C.loop);
  assert_int_equal(p.calls, 1);
  if (kind == BK_OP_CONNECT && act == ACT_CANCEL) {
    /* a disconnect started during the connect cancels the connect: skip */
  }
  switch (act) {
  case ACT_CANCEL:
    break;
  case ACT_START:
    if (p.started_id > 0) { /* the backend completes it; delivered later */
      bk_op_done_read(last_op(), 0, (const uint8_t *)"\x43", 1);
      assert_int_equal(p.other.calls, 0);
      bleak_loop_dispatch(C.loop);
      assert_int_equal(p.other.calls, 1);
      assert_int_equal(p.other.data[0], 0x43);
    }
    break;
  case ACT_FREE:
    assert_true(F.destroyed);
    C.c = NULL; /* freed by the callback's request */
    break;
  }
  if (act != ACT_FREE) {
    bleak_client_free(C.c);
    C.c = NULL;
  }
  if (act == ACT_CANCEL)
    assert_int_equal(p.other.calls, 1); /* the canceled op, once */
}

static void test_callbacks_may_cancel_start_or_free(void **state) {
  (void)state;
  bleak_client_free(C.c); /* the fixture's; each case makes its own */
  C.c = NULL;
  for (int k = BK_OP_CONNECT; k <= BK_OP_UNPAIR; k++)
    for (int a = ACT_CANCEL; a <= ACT_FREE; a++) {
      if (k == BK_OP_CONNECT && a == ACT_CANCEL)
        continue; /* a disconnect during connect cancels the connect itself */
      contract_case((bk_op_kind)k, (action)a);
    }
}

/* A backend's pairing question reaches the callback from the loop, not
 * from inside the backend; a newer question replaces one not yet asked. */
typedef struct asked {
  int calls;
  bleak_pairing_request kind;
  uint32_t passkey;
} asked;

static void on_pairing(bleak_client *c, bleak_pairing_request kind, uint32_t passkey, void *u) {
  (void)c;
  asked *a = u;
  a->calls++;
  a->kind = kind;
  a->passkey = passkey;
}

static void test_pairing_questions_from_the_loop(void **state) {
  (void)state;
  bleak_client_free(C.c);
  static asked a;
  memset(&a, 0, sizeof a);
  bleak_client_options o;
  bleak_client_options_init(&o);
  o.loop = C.loop;
  o.pairing_callback = on_pairing;
  o.pairing_user_data = &a;
  assert_int_equal(bk_client_new_with_backend(ADDR, &o, &fake_backend, &C.c), 0);
  bk_client_ask_pairing(C.c, BLEAK_PAIRING_DISPLAY_PASSKEY, 123456);
  assert_int_equal(a.calls, 0);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.kind, BLEAK_PAIRING_DISPLAY_PASSKEY);
  assert_int_equal(a.passkey, 123456);
  bk_client_ask_pairing(C.c, BLEAK_PAIRING_AUTHORIZE, 0);
  bk_client_ask_pairing(C.c, BLEAK_PAIRING_CONFIRM, 654321);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(a.calls, 2);
  assert_int_equal(a.kind, BLEAK_PAIRING_CONFIRM);
  assert_int_equal(a.passkey, 654321);
  bleak_loop_dispatch(C.loop);
  assert_int_equal(a.calls, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_bad_input),
      cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_and_services, setup, teardown),
      cmocka_unit_test_setup_teardown(test_never_completes_before_return, setup, teardown),
      cmocka_unit_test_setup_teardown(test_start_error_is_a_completion, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_fails_pending_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_disconnect_is_not_stuck, setup, teardown),
      cmocka_unit_test_setup_teardown(test_link_lost_during_discovery, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_disconnect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_completes_pending, setup, teardown),
      cmocka_unit_test_setup_teardown(test_notifications_stop_at_stop_notify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_modes_and_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_use_cached, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cccd_write_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_notify_options_and_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_foreign_characteristic_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_blocking_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_blocking_inside_callback_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_connected_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_callbacks_may_cancel_start_or_free, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pairing_questions_from_the_loop, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
