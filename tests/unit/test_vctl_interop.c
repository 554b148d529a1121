/* SPDX-License-Identifier: MIT */
/* The hci backend's own GATT client (att_bearer.c, gatt_client.c) against
 * the virtual peripheral's ATT server, in one process: PDUs pass through
 * two queues, time is a fake clock. What the conformance suite will do
 * over the virtual controller, without it: discovery finds the fixture's
 * database as cli_compare.py expects it, long reads and writes round-trip,
 * notifications and indications arrive. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend/hci/att_bearer.h"
#include "backend/hci/gatt_client.h"
#include "bleak/error.h"
#include "bleak/gatt.h"
#include "vctl/att_server.h"
#include "vctl/peripheral.h"

typedef struct pdu_q {
  uint8_t pdu[64][520];
  size_t len[64];
  size_t head, n;
} pdu_q;

typedef struct link {
  vctl_peripheral **list;
  size_t n_list;
  vctl_att_conn *server;
  bk_att client;
  pdu_q to_server, to_client;
  uint64_t now;
  int values;
  uint16_t last_handle;
  uint8_t last[520];
  size_t last_len;
  bool last_indication;
  int status;
  bool done;
  uint8_t read[600];
  size_t read_len;
  bleak_gatt_services *services;
  unsigned requests;
} link;

static void push(pdu_q *q, const uint8_t *pdu, size_t len) {
  assert_true(q->n < 64 && len <= 520);
  size_t at = (q->head + q->n) % 64;
  memcpy(q->pdu[at], pdu, len);
  q->len[at] = len;
  q->n++;
}

static int client_send(void *owner, const uint8_t *pdu, size_t len) {
  push(&((link *)owner)->to_server, pdu, len);
  return 0;
}

static void client_value(void *owner, uint16_t handle, const uint8_t *value, size_t len,
                         bool indication) {
  link *l = owner;
  l->values++;
  l->last_handle = handle;
  memcpy(l->last, value, len);
  l->last_len = len;
  l->last_indication = indication;
}

static void client_timeout(void *owner) { (void)owner; fail_msg("ATT timeout"); }

static const bk_att_ops client_ops = {client_send, client_value, client_timeout};

static bool server_send(void *ctx, const uint8_t *pdu, size_t len) {
  push(&((link *)ctx)->to_client, pdu, len);
  return true;
}

static void server_disconnect(void *ctx, uint8_t reason) {
  (void)ctx;
  fail_msg("disconnect 0x%02x", reason);
}

/* Deliver until both queues are empty (the bearer confirms indications
 * itself). */
static void pump(link *l) {
  while (l->to_server.n || l->to_client.n) {
    if (l->to_server.n) {
      pdu_q *q = &l->to_server;
      uint8_t pdu[520];
      size_t len = q->len[q->head];
      memcpy(pdu, q->pdu[q->head], len);
      q->head = (q->head + 1) % 64;
      q->n--;
      vctl_att_conn_input(l->server, pdu, len, l->now);
    } else {
      pdu_q *q = &l->to_client;
      uint8_t pdu[520];
      size_t len = q->len[q->head];
      memcpy(pdu, q->pdu[q->head], len);
      q->head = (q->head + 1) % 64;
      q->n--;
      bk_att_recv(&l->client, pdu, len, l->now);
    }
  }
}

static void open_link(link *l, uint16_t client_mtu) {
  memset(l, 0, sizeof *l);
  char err[256];
  if (vctl_peripherals_load(BLEAK_FIXTURE_DB, &l->list, &l->n_list, err, sizeof err))
    fail_msg("%s", err);
  const vctl_att_io io = {server_send, server_disconnect, l};
  l->server = vctl_att_conn_new(l->list[0], 517, &io);
  bk_att_init(&l->client, &client_ops, l, client_mtu);
}

static void close_link(link *l) {
  bk_att_close(&l->client, BLEAK_ERR_DISCONNECTED);
  vctl_att_conn_free(l->server);
  vctl_peripherals_free(l->list, l->n_list);
  bleak_gatt_services_unref(l->services);
}

static void on_mtu(void *user, int status, const bk_att_pdu *rsp, uint64_t now) {
  (void)rsp;
  (void)now;
  link *l = user;
  l->status = status;
  l->done = true;
}

static void on_discovered(void *user, int status, bleak_gatt_services *s, unsigned requests) {
  link *l = user;
  l->status = status;
  l->services = s;
  l->requests = requests;
  l->done = true;
}

static void on_value(void *user, int status, const uint8_t *value, size_t len) {
  link *l = user;
  l->status = status;
  l->done = true;
  if (status == 0) {
    memcpy(l->read, value, len);
    l->read_len = len;
  }
}

static void on_done(void *user, int status) {
  link *l = user;
  l->status = status;
  l->done = true;
}

static void connect_and_discover(link *l) {
  assert_int_equal(bk_att_exchange_mtu(&l->client, on_mtu, l, 0), 0);
  pump(l);
  assert_true(l->done);
  l->done = false;
  assert_int_equal(bk_gattc_discover(&l->client, on_discovered, l, 0, NULL), 0);
  pump(l);
  assert_true(l->done);
  assert_int_equal(l->status, 0);
}

static uint16_t value_handle(link *l, const char *uuid, size_t nth) {
  bleak_uuid u;
  assert_int_equal(bleak_uuid_parse(uuid, &u), 0);
  for (size_t i = 0; i < bleak_gatt_services_count(l->services); i++) {
    const bleak_gatt_service *s = bleak_gatt_services_at(l->services, i);
    for (size_t k = 0; k < bleak_gatt_service_characteristic_count(s); k++) {
      const bleak_gatt_characteristic *ch = bleak_gatt_service_characteristic_at(s, k);
      if (bleak_uuid_equal(bleak_gatt_characteristic_uuid(ch), &u) && nth-- == 0)
        return bleak_gatt_characteristic_value_handle(ch);
    }
  }
  fail_msg("%s not discovered", uuid);
  return 0;
}

static void read_value(link *l, uint16_t handle) {
  l->done = false;
  assert_int_equal(bk_gattc_read(&l->client, handle, on_value, l, l->now, NULL), 0);
  pump(l);
  assert_true(l->done);
}

static void write_value(link *l, uint16_t handle, const uint8_t *v, size_t len) {
  l->done = false;
  assert_int_equal(bk_gattc_write(&l->client, handle, v, len, false, on_done, l, l->now, NULL), 0);
  pump(l);
  assert_true(l->done);
}

static void test_discovery(void **state) {
  (void)state;
  link *l = calloc(1, sizeof *l);
  open_link(l, 517);
  connect_and_discover(l);
  assert_int_equal(l->client.mtu, 517);
  /* GAP, GATT and the fixture's five, at BlueZ's handles. */
  assert_int_equal(bleak_gatt_services_count(l->services), 7);
  static const uint16_t starts[] = {0x01, 0x06, 0x10, 0x14, 0x1a, 0x1f, 0x3c};
  for (size_t i = 0; i < 7; i++)
    assert_int_equal(bleak_gatt_service_handle(bleak_gatt_services_at(l->services, i)), starts[i]);
  const bleak_gatt_service *custom = bleak_gatt_services_at(l->services, 5);
  assert_int_equal(bleak_gatt_service_characteristic_count(custom), 12);
  assert_int_equal(bleak_gatt_service_end_handle(custom), 0x3b);
  /* c(9)'s two descriptors; 2a37's CCCD. */
  const bleak_gatt_characteristic *c9 = bleak_gatt_service_characteristic_at(custom, 8);
  assert_int_equal(bleak_gatt_characteristic_descriptor_count(c9), 2);
  assert_int_equal(bleak_gatt_descriptor_handle(bleak_gatt_characteristic_descriptor_at(c9, 1)),
                   0x35);
  assert_int_equal(value_handle(l, "2a37", 0), 0x16);
  assert_int_equal(value_handle(l, "b1e5000a-7e57-4c0d-9e00-000000000001", 1), 0x39);
  assert_int_equal(value_handle(l, "6e400002-b5a3-f393-e0a9-e50e24dcca9e", 0), 0x41);
  close_link(l);
  free(l);
}

static void test_long_values_at_mtu_23(void **state) {
  (void)state;
  link *l = calloc(1, sizeof *l);
  open_link(l, 23);
  connect_and_discover(l);
  assert_int_equal(l->client.mtu, 23);
  read_value(l, 0x31); /* 512 bytes in Read Blobs */
  assert_int_equal(l->status, 0);
  assert_int_equal(l->read_len, 512);
  for (size_t i = 0; i < 512; i++)
    assert_int_equal(l->read[i], (uint8_t)i);
  uint8_t v[300];
  for (size_t i = 0; i < sizeof v; i++)
    v[i] = (uint8_t)(0xff - i);
  write_value(l, 0x31, v, sizeof v); /* a long write: Prepare + Execute */
  assert_int_equal(l->status, 0);
  read_value(l, 0x31);
  assert_int_equal(l->read_len, 300);
  assert_memory_equal(l->read, v, 300);
  /* The refusals reach the client as ATT errors. */
  write_value(l, 0x21, v, 2);
  assert_int_equal(l->status, BLEAK_ERR_ATT(BLEAK_ATT_WRITE_NOT_PERMITTED));
  read_value(l, 0x3b);
  assert_int_equal(l->status, BLEAK_ERR_ATT(BLEAK_ATT_INSUFFICIENT_ENCRYPTION));
  close_link(l);
  free(l);
}

static void test_notifications_and_indications(void **state) {
  (void)state;
  link *l = calloc(1, sizeof *l);
  open_link(l, 517);
  connect_and_discover(l);
  static const uint8_t notify_on[2] = {1, 0}, indicate_on[2] = {2, 0};
  write_value(l, 0x17, notify_on, 2); /* heart rate */
  for (int i = 0; i < 5; i++) {
    l->now = vctl_att_conn_deadline(l->server);
    vctl_att_conn_tick(l->server, l->now);
    pump(l);
  }
  assert_int_equal(l->values, 5);
  assert_int_equal(l->last_handle, 0x16);
  assert_int_equal(l->last_len, 2);
  write_value(l, 0x2f, indicate_on, 2); /* c(7): one at once */
  assert_int_equal(l->values, 6);
  assert_true(l->last_indication);
  assert_int_equal(l->last[0], 1);
  static const uint8_t once[] = {0x03};
  write_value(l, 0x29, once, 1); /* and one on command (the first was confirmed) */
  assert_int_equal(l->values, 7);
  assert_int_equal(l->last[0], 2);
  /* A burst of 20 x 8 bytes, as conformance asks. */
  write_value(l, 0x2c, notify_on, 2);
  static const uint8_t burst[] = {0x02, 20, 0, 8, 0};
  write_value(l, 0x29, burst, sizeof burst);
  int before = l->values;
  while (vctl_att_conn_deadline(l->server) <= l->now + 1) {
    vctl_att_conn_tick(l->server, l->now);
    pump(l);
  }
  assert_int_equal(l->values - before, 20);
  assert_int_equal(l->last_len, 8);
  assert_int_equal(l->last[0], 19);
  close_link(l);
  free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_discovery),
      cmocka_unit_test(test_long_values_at_mtu_23),
      cmocka_unit_test(test_notifications_and_indications),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
