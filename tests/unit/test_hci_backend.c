/* SPDX-License-Identifier: MIT */
/*
 * The hci backend end to end, without a radio: the public API (scanner and
 * client) on a fake controller that the test serves on a unix socket, in
 * the same loop. The fake speaks just enough HCI (init, scan, connect,
 * disconnect, buffer credits) and ATT (a Battery Service with a CCCD) to
 * drive the transport, controller, ATT bearer and GATT client glue; then
 * it goes away mid-read, and the read must complete once with an I/O
 * error and the disconnected callback fire once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/hci/l2cap.h"
#include "bleak/bleak.h"
#include "core/internal.h"
#include "transport/h4.h"

#define PEER "11:22:33:44:55:66"

typedef struct fake {
  int lfd, fd;
  bleak_source *lsrc, *src;
  bk_h4 h4;
  bk_l2cap_rx rx;
  bool linked, silent_reads;
  int reads_seen;
  char path[108];
} fake;

static fake F;
static bleak_loop *L;

static void out(const uint8_t *b, size_t n) {
  if (F.fd < 0)
    return;
  ssize_t w = write(F.fd, b, n);
  assert_int_equal(w, (ssize_t)n);
}

static void cmd_complete(uint16_t op, const uint8_t *ret, size_t n) {
  uint8_t b[64] = {4, 0x0e, (uint8_t)(3 + n), 1, (uint8_t)op, (uint8_t)(op >> 8)};
  memcpy(b + 6, ret, n);
  out(b, 6 + n);
}

static void cmd_status(uint16_t op) {
  uint8_t b[7] = {4, 0x0f, 4, 0, 1, (uint8_t)op, (uint8_t)(op >> 8)};
  out(b, sizeof b);
}

static void att_out(const uint8_t *pdu, size_t n) {
  uint8_t b[80] = {2, 0x40, 0x20, (uint8_t)(n + 4), 0, (uint8_t)n, 0, 4, 0};
  memcpy(b + 9, pdu, n);
  out(b, 9 + n);
}

static void att_error(uint8_t op, const uint8_t *h, uint8_t code) {
  uint8_t e[5] = {1, op, h[0], h[1], code};
  att_out(e, 5);
}

static void on_att(const uint8_t *p, size_t n) {
  uint16_t start = n >= 3 ? bk_get_le16(p + 1) : 0;
  switch (p[0]) {
  case 0x02: {
    static const uint8_t r[] = {0x03, 64, 0};
    att_out(r, sizeof r);
    break;
  }
  case 0x10:
    if (start <= 1) {
      static const uint8_t r[] = {0x11, 6, 1, 0, 4, 0, 0x0f, 0x18};
      att_out(r, sizeof r);
    } else {
      att_error(0x10, p + 1, 0x0a);
    }
    break;
  case 0x08:
    if (start <= 2 && n == 7 && bk_get_le16(p + 5) == 0x2803) {
      static const uint8_t r[] = {0x09, 7, 2, 0, 0x12, 3, 0, 0x19, 0x2a};
      att_out(r, sizeof r);
    } else {
      att_error(0x08, p + 1, 0x0a);
    }
    break;
  case 0x04:
    if (start <= 4 && bk_get_le16(p + 3) >= 4) {
      static const uint8_t r[] = {0x05, 1, 4, 0, 0x02, 0x29};
      att_out(r, sizeof r);
    } else {
      att_error(0x04, p + 1, 0x0a);
    }
    break;
  case 0x0a:
    F.reads_seen++;
    if (start == 3 && F.silent_reads)
      break;
    if (start == 3) {
      static const uint8_t r[] = {0x0b, 0x57};
      att_out(r, sizeof r);
    } else {
      att_error(0x0a, p + 1, 0x01);
    }
    break;
  case 0x12:
    if (start == 4) {
      static const uint8_t r[] = {0x13};
      att_out(r, 1);
      if (n == 5 && p[3] == 1) { /* subscribed: one notification */
        static const uint8_t nt[] = {0x1b, 3, 0, 0x58};
        att_out(nt, sizeof nt);
      }
    } else {
      att_error(0x12, p + 1, 0x03);
    }
    break;
  default:
    if (!(p[0] & 0x40) && p[0] != 0x1e && p[0] != 0x01 && !(p[0] & 1)) {
      static const uint8_t z[2] = {0, 0};
      att_error(p[0], z, 0x06);
    }
    break;
  }
}

static void on_command(uint16_t op, const uint8_t *par, size_t n) {
  static const uint8_t ok[1] = {0};
  switch (op) {
  case 0x1001: {
    static const uint8_t r[9] = {0, 9};
    cmd_complete(op, r, sizeof r);
    break;
  }
  case 0x1009: {
    static const uint8_t r[7] = {0, 1, 2, 3, 4, 5, 6};
    cmd_complete(op, r, sizeof r);
    break;
  }
  case 0x2002: {
    static const uint8_t r[4] = {0, 27, 0, 4};
    cmd_complete(op, r, sizeof r);
    break;
  }
  case 0x2003: {
    static const uint8_t r[9] = {0};
    cmd_complete(op, r, sizeof r);
    break;
  }
  case 0x200c:
    cmd_complete(op, ok, 1);
    if (n >= 1 && par[0] == 1) { /* scanning: the peer advertises, named */
      static const uint8_t adv[] = {4, 0x3e, 22, 0x02, 1, 0x00, 0x00, 0x66, 0x55, 0x44, 0x33,
                                    0x22, 0x11, 10, 2, 1, 6, 5, 9, 'f', 'a', 'k', 'e', 0, 0xc4};
      out(adv, sizeof adv);
    }
    break;
  case 0x200d: {
    cmd_status(op);
    uint8_t ev[22] = {4, 0x3e, 19, 0x01, 0, 0x40, 0, 0, par[5]};
    memcpy(ev + 9, par + 6, 6);
    ev[15] = 0x18;
    ev[19] = 0xf4;
    ev[20] = 0x01;
    out(ev, sizeof ev);
    F.linked = true;
    bk_l2cap_rx_init(&F.rx, BK_L2CAP_MAX_PDU);
    break;
  }
  case 0x0406: {
    cmd_status(op);
    static const uint8_t ev[] = {4, 0x05, 4, 0, 0x40, 0, 0x16};
    out(ev, sizeof ev);
    F.linked = false;
    break;
  }
  default:
    cmd_complete(op, ok, 1); /* every other command just works */
    break;
  }
}

static void on_packet(void *user, uint8_t type, const uint8_t *pkt, size_t len) {
  (void)user;
  if (type == BK_H4_COMMAND && len >= 3) {
    on_command(bk_get_le16(pkt), pkt + 3, pkt[2]);
  } else if (type == BK_H4_ACL && F.linked) {
    uint16_t h, cid;
    uint8_t pb;
    const uint8_t *d, *pdu;
    size_t dl, pl;
    assert_int_equal(bk_acl_parse(pkt, len, &h, &pb, &d, &dl), 0);
    static const uint8_t nocp[] = {4, 0x13, 5, 1, 0x40, 0, 1, 0}; /* the buffer is free */
    out(nocp, sizeof nocp);
    if (bk_l2cap_rx_feed(&F.rx, pb == 0 ? BK_ACL_PB_START : pb, d, dl, &cid, &pdu, &pl) == 1 &&
        cid == 4)
      on_att(pdu, pl);
  }
}

static void on_fake_io(bleak_source *s, int fd, uint32_t ev, void *u) {
  (void)s;
  (void)u;
  (void)ev;
  uint8_t buf[512];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0)
    bk_h4_feed(&F.h4, buf, (size_t)n);
}

static void on_accept(bleak_source *s, int fd, uint32_t ev, void *u) {
  (void)s;
  (void)u;
  (void)ev;
  assert_true(F.fd < 0); /* one controller per connection */
  F.fd = accept(fd, NULL, NULL);
  assert_true(F.fd >= 0);
  assert_int_equal(bleak_loop_add_io(L, F.fd, BLEAK_IO_READ, on_fake_io, NULL, &F.src), 0);
}

/* The controller goes away: its end of the socket closes. */
static void fake_unplug(void) {
  bleak_source_free(F.src);
  F.src = NULL;
  close(F.fd);
  F.fd = -1;
  F.linked = false;
}

static int setup(void **state) {
  (void)state;
  memset(&F, 0, sizeof F);
  F.fd = -1;
  assert_int_equal(bleak_loop_new(&L), 0);
  snprintf(F.path, sizeof F.path, "/tmp/bleak-test-hci-%d.sock", (int)getpid());
  unlink(F.path);
  F.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, F.path);
  assert_int_equal(bind(F.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(F.lfd, 4), 0);
  assert_int_equal(bleak_loop_add_io(L, F.lfd, BLEAK_IO_READ, on_accept, NULL, &F.lsrc), 0);
  bk_h4_init(&F.h4, on_packet, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (F.fd >= 0)
    fake_unplug();
  bleak_source_free(F.lsrc);
  close(F.lfd);
  unlink(F.path);
  bleak_loop_free(L);
  return 0;
}

static char transport[128];

static void client_opts(bleak_client_options *o) {
  bleak_client_options_init(o);
  snprintf(transport, sizeof transport, "unix:%s", F.path);
  o->loop = L;
  o->backend = BLEAK_BACKEND_HCI;
  o->hci_transport = transport;
  o->timeout_ms = 5000;
}

static void test_scan(void **state) {
  (void)state;
  bleak_scanner_options so;
  bleak_scanner_options_init(&so);
  snprintf(transport, sizeof transport, "unix:%s", F.path);
  so.loop = L;
  so.backend = BLEAK_BACKEND_HCI;
  so.hci_transport = transport;
  bleak_scanner *s = NULL;
  assert_int_equal(bleak_scanner_new(&so, &s), 0);
  assert_int_equal(bleak_scanner_discover(s, 300), 0);
  assert_int_equal(bleak_scanner_device_count(s), 1);
  const bleak_device *d = bleak_scanner_device_at(s, 0);
  assert_string_equal(bleak_device_address(d), PEER);
  assert_string_equal(bleak_device_name(d), "fake");
  assert_int_equal(bleak_scanner_adv_at(s, 0)->rssi, -60);
  bleak_scanner_free(s);
}

static int notes, disconnects;
static uint8_t note_value;
static void on_note(bleak_client *c, const bleak_gatt_characteristic *ch, const uint8_t *d,
                    size_t n, void *u) {
  (void)c;
  (void)ch;
  (void)u;
  notes++;
  note_value = n ? d[0] : 0;
}
static void on_disc(bleak_client *c, void *u) {
  (void)c;
  (void)u;
  disconnects++;
}

static void test_connect_read_notify(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.disconnected_callback = on_disc;
  disconnects = notes = 0;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  assert_true(bleak_client_is_connected(c));
  assert_int_equal(bleak_client_mtu_size(c), 64);
  assert_string_equal(bleak_client_name(c), "fake");
  const bleak_gatt_services *s = bleak_client_services(c);
  assert_int_equal(bleak_gatt_services_count(s), 1);
  assert_int_equal(bleak_gatt_services_characteristic_count(s), 1);
  assert_int_equal(bleak_gatt_services_descriptor_count(s), 1);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  uint8_t v[8];
  size_t n = 0;
  assert_int_equal(bleak_client_read_gatt_char(c, ch, v, sizeof v, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(v[0], 0x57);
  assert_int_equal(bleak_client_start_notify(c, ch, on_note, NULL), 0);
  bool never = false;
  for (int i = 0; i < 50 && notes == 0; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(notes, 1);
  assert_int_equal(note_value, 0x58);
  assert_int_equal(bleak_client_disconnect(c), 0);
  assert_false(bleak_client_is_connected(c));
  assert_int_equal(disconnects, 1);
  bleak_client_free(c);
}

static int read_status = 1, read_calls;
static void on_read(bleak_client *c, int st, const uint8_t *d, size_t n, void *u) {
  (void)c;
  (void)d;
  (void)n;
  (void)u;
  read_calls++;
  read_status = st;
}

/* The controller goes away mid-read: the read completes once with an
 * I/O error, the disconnected callback fires once; a new connect opens
 * the transport again. */
static void test_controller_gone(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.disconnected_callback = on_disc;
  disconnects = read_calls = 0;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), 0);
  const bleak_gatt_characteristic *ch = NULL;
  assert_int_equal(bleak_client_char_by_uuid(c, "2a19", &ch), 0);
  F.silent_reads = true;
  int seen = F.reads_seen;
  assert_true(bleak_client_read_gatt_char_async(c, ch, on_read, NULL) > 0);
  bool never = false;
  for (int i = 0; i < 100 && F.reads_seen == seen; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(F.reads_seen, seen + 1);
  fake_unplug();
  for (int i = 0; i < 100 && read_calls == 0; i++)
    bleak_loop_run_until(L, &never, 10);
  assert_int_equal(read_calls, 1);
  assert_int_equal(read_status, BLEAK_ERR_IO);
  assert_int_equal(disconnects, 1);
  assert_false(bleak_client_is_connected(c));
  /* Back: the next connect opens the transport again. */
  F.silent_reads = false;
  assert_int_equal(bleak_client_connect(c), 0);
  assert_true(bleak_client_is_connected(c));
  bleak_client_free(c);
  assert_int_equal(disconnects, 1); /* free does not call it */
}

/* Nobody advertises that address: DEVICE_NOT_FOUND before the timeout. */
static void test_not_found(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.timeout_ms = 600;
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new("66:55:44:33:22:11", &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_DEVICE_NOT_FOUND);
  bleak_client_free(c);
}

/* No transport at all: a clear error at creation. */
static void test_no_transport(void **state) {
  (void)state;
  bleak_client_options o;
  client_opts(&o);
  o.hci_transport = NULL;
  unsetenv("BLEAK_HCI");
  bleak_client *c = NULL;
  assert_int_equal(bleak_client_new(PEER, &o, &c), BLEAK_ERR_NO_BACKEND);
  o.hci_transport = "unix:/nonexistent/socket";
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_NOT_FOUND);
  bleak_client_free(c);
  o.hci_transport = "serial:/dev/null";
  assert_int_equal(bleak_client_new(PEER, &o, &c), 0);
  assert_int_equal(bleak_client_connect(c), BLEAK_ERR_INVALID_ARG);
  bleak_client_free(c);
}

int main(void) {
  /* TEST_LOG=1: the library's log, to see what the fake was told. */
  bleak_log_set_level(getenv("TEST_LOG") ? BLEAK_LOG_DEBUG : BLEAK_LOG_NONE);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_read_notify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_controller_gone, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_transport, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
