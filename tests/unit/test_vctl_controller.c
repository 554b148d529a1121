/* SPDX-License-Identifier: MIT */
/* The virtual controller (src/vctl/controller.c) as a host sees it: H4
 * bytes in, H4 packets out, on a fake clock. The init commands, unknown and
 * malformed commands, scanning a peripheral loaded from JSON, connecting,
 * ATT over ACL, disconnecting, and the buffer credits (unlimited and
 * modeled air). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vctl/controller.h"
#include "vctl/peripheral.h"

/* The docs' example peripheral (docs/vctl.md). */
static const char periph_json[] =
    "{\"address\": \"C0:DE:00:00:00:01\", \"address_type\": \"random\",\n"
    " \"advertisement\": {\"local_name\": \"bleak-fx\", \"service_uuids\": [\"180d\"]},\n"
    " \"services\": [{\"uuid\": \"180d\", \"characteristics\": [\n"
    "   {\"uuid\": \"2a37\", \"properties\": [\"notify\"]},\n"
    "   {\"uuid\": \"2a38\", \"properties\": [\"read\"], \"value_hex\": \"01\"}]}]}\n";
static const uint8_t periph_addr[6] = {0x01, 0x00, 0x00, 0x00, 0xde, 0xc0};

#define MAX_PKTS 256
typedef struct host {
  vctl_peripheral **list;
  size_t n_list;
  vctl_controller *ctl;
  uint64_t now;
  uint8_t pkt[MAX_PKTS][300];
  size_t len[MAX_PKTS];
  size_t n;
} host;

static void on_out(void *user, const uint8_t *h4, size_t len) {
  host *h = user;
  assert_true(h->n < MAX_PKTS);
  assert_true(len <= sizeof h->pkt[0]);
  memcpy(h->pkt[h->n], h4, len);
  h->len[h->n++] = len;
}

static host *host_new(const char *link) {
  host *h = calloc(1, sizeof *h);
  assert_non_null(h);
  char err[256];
  assert_int_equal(vctl_peripherals_load_string(periph_json, "test.json", &h->list, &h->n_list,
                                                err, sizeof err),
                   0);
  assert_int_equal(h->n_list, 1);
  vctl_controller_config cfg;
  vctl_controller_config_init(&cfg);
  cfg.acl_buffers = 4;
  if (link)
    assert_int_equal(vctl_link_parse(link, &cfg.link, err, sizeof err), 0);
  h->ctl = vctl_controller_new(&cfg, h->list, h->n_list, on_out, h);
  assert_non_null(h->ctl);
  h->now = 1000;
  return h;
}

/* What every host sends first: the LE meta event is off by default (bit
 * 61 of the mask), so without this no LE event comes. */
static void host_init(host *h) {
  static const uint8_t mask[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f};
  static const uint8_t le_mask[8] = {0xff, 0xff, 0x0f, 0, 0, 0, 0, 0};
  uint8_t b[12] = {0x01, 0x01, 0x0c, 8};
  memcpy(b + 4, mask, 8);
  vctl_controller_input(h->ctl, b, 12, h->now);
  b[1] = 0x01, b[2] = 0x20;
  memcpy(b + 4, le_mask, 8);
  /* Legacy LE Connection Complete: the enhanced one (bit 9) off. */
  b[5] &= (uint8_t)~0x02;
  vctl_controller_input(h->ctl, b, 12, h->now);
  h->n = 0;
}

static void host_free(host *h) {
  vctl_controller_free(h->ctl);
  vctl_peripherals_free(h->list, h->n_list);
  free(h);
}

static void feed(host *h, const uint8_t *b, size_t n) {
  vctl_controller_input(h->ctl, b, n, h->now);
}

static void cmd(host *h, uint16_t op, const uint8_t *p, size_t n) {
  uint8_t b[4 + 255] = {0x01, (uint8_t)op, (uint8_t)(op >> 8), (uint8_t)n};
  if (n)
    memcpy(b + 4, p, n);
  feed(h, b, 4 + n);
}

/* The index of the first event @p code (and LE subevent @p sub when
 * code is 0x3e) from @p from on, or -1. */
static int find_event(const host *h, size_t from, uint8_t code, uint8_t sub) {
  for (size_t i = from; i < h->n; i++)
    if (h->pkt[i][0] == 0x04 && h->pkt[i][1] == code && (code != 0x3e || h->pkt[i][3] == sub))
      return (int)i;
  return -1;
}

/* The return parameters of the Command Complete for @p op (status
 * first), asserted to be the only packet out; the output is cleared. */
static const uint8_t *complete(host *h, uint16_t op, uint8_t *out, size_t *n) {
  assert_int_equal(h->n, 1);
  const uint8_t *e = h->pkt[0];
  assert_int_equal(e[0], 0x04);
  assert_int_equal(e[1], 0x0e);
  assert_int_equal(e[2], h->len[0] - 3);
  assert_int_equal(e[3], 1); /* Num_HCI_Command_Packets */
  assert_int_equal(e[4] | e[5] << 8, op);
  *n = h->len[0] - 6;
  memcpy(out, e + 6, *n);
  h->n = 0;
  return out;
}

static uint8_t cmd_status(host *h, uint16_t op, const uint8_t *p, size_t n) {
  h->n = 0;
  cmd(h, op, p, n);
  uint8_t r[255];
  size_t rn;
  complete(h, op, r, &rn);
  assert_true(rn >= 1);
  return r[0];
}

static void test_init_commands(void **state) {
  (void)state;
  host *h = host_new(NULL);
  uint8_t r[255];
  size_t n;
  cmd(h, 0x0c03, NULL, 0); /* Reset */
  complete(h, 0x0c03, r, &n);
  assert_int_equal(n, 1);
  assert_int_equal(r[0], 0);

  cmd(h, 0x1001, NULL, 0); /* Read Local Version Information */
  complete(h, 0x1001, r, &n);
  assert_int_equal(n, 9);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], 0x0b); /* HCI 5.2 */
  assert_int_equal(r[5] | r[6] << 8, 0x05f1);

  cmd(h, 0x1009, NULL, 0); /* Read BD_ADDR */
  complete(h, 0x1009, r, &n);
  assert_int_equal(n, 7);
  static const uint8_t bdaddr[6] = {0x01, 0x00, 0x5a, 0x1c, 0x7c, 0x00};
  assert_memory_equal(r + 1, bdaddr, 6);

  cmd(h, 0x1002, NULL, 0); /* Read Local Supported Commands */
  complete(h, 0x1002, r, &n);
  assert_int_equal(n, 65);
  assert_true(r[1 + 5] & 0x80);  /* Reset */
  assert_true(r[1 + 37] & 0x80); /* LE Extended Create Connection */

  cmd(h, 0x1003, NULL, 0); /* Read Local Supported Features */
  complete(h, 0x1003, r, &n);
  assert_int_equal(n, 9);
  assert_int_equal(r[1 + 4], 0x60); /* LE only */

  cmd(h, 0x2002, NULL, 0); /* LE Read Buffer Size */
  complete(h, 0x2002, r, &n);
  assert_int_equal(n, 4);
  assert_int_equal(r[1] | r[2] << 8, 251);
  assert_int_equal(r[3], 4);

  cmd(h, 0x2060, NULL, 0); /* LE Read Buffer Size v2: no ISO */
  complete(h, 0x2060, r, &n);
  assert_int_equal(n, 7);
  assert_int_equal(r[3], 4);
  assert_int_equal(r[4] | r[5] << 8 | r[6], 0);

  cmd(h, 0x2003, NULL, 0); /* LE Read Local Supported Features */
  complete(h, 0x2003, r, &n);
  assert_int_equal(n, 9);
  assert_true(r[1] & 0x20);  /* Data Packet Length Extension */
  assert_true(r[2] & 0x10);  /* Extended Advertising */

  cmd(h, 0x202f, NULL, 0); /* LE Read Maximum Data Length */
  complete(h, 0x202f, r, &n);
  assert_int_equal(n, 9);
  assert_int_equal(r[1] | r[2] << 8, 251);
  assert_int_equal(r[3] | r[4] << 8, 2120);

  static const uint8_t mask[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f};
  assert_int_equal(cmd_status(h, 0x0c01, mask, 8), 0); /* Set Event Mask */
  assert_int_equal(cmd_status(h, 0x2001, mask, 8), 0); /* LE Set Event Mask */
  static const uint8_t le_host[2] = {1, 0};
  assert_int_equal(cmd_status(h, 0x0c6d, le_host, 2), 0); /* Write LE Host Supported */
  assert_int_equal(cmd_status(h, 0x2010, NULL, 0), 0);    /* LE Clear Accept List */
  assert_int_equal(cmd_status(h, 0x2029, NULL, 0), 0);    /* LE Clear Resolving List */

  cmd(h, 0x2018, NULL, 0); /* LE Rand: 8 bytes, not all zero */
  complete(h, 0x2018, r, &n);
  assert_int_equal(n, 9);
  static const uint8_t zero[8];
  assert_memory_not_equal(r + 1, zero, 8);

  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.commands, 15);
  assert_int_equal(st.unknown_commands, 0);
  assert_int_equal(st.bad_commands, 0);
  host_free(h);
}

static void test_unknown_and_bad_commands(void **state) {
  (void)state;
  host *h = host_new(NULL);
  /* A vendor command and a BR/EDR one we do not speak: Unknown HCI Command. */
  assert_int_equal(cmd_status(h, 0xfc01, NULL, 0), 0x01);
  static const uint8_t inq[5] = {0x33, 0x8b, 0x9e, 8, 0};
  assert_int_equal(cmd_status(h, 0x0401, inq, 5), 0x01); /* Inquiry */
  /* Wrong lengths: Invalid HCI Command Parameters. */
  static const uint8_t one[1] = {0};
  assert_int_equal(cmd_status(h, 0x0c03, one, 1), 0x12);                 /* Reset + 1 */
  assert_int_equal(cmd_status(h, 0x0c01, one, 1), 0x12);                 /* Set Event Mask */
  static const uint8_t scan6[6] = {1, 0x10, 0, 0x10, 0, 0};
  assert_int_equal(cmd_status(h, 0x200b, scan6, 6), 0x12);               /* LE Set Scan Params */
  assert_int_equal(cmd_status(h, 0x1001, one, 1), 0x12);                 /* Read Local Version */
  /* A link command too short: Command Status 0x12. */
  h->n = 0;
  static const uint8_t disc2[2] = {1, 0};
  cmd(h, 0x0406, disc2, 2);
  assert_int_equal(h->n, 1);
  static const uint8_t want[7] = {0x04, 0x0f, 4, 0x12, 1, 0x06, 0x04};
  assert_memory_equal(h->pkt[0], want, 7);
  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.unknown_commands, 2);
  assert_int_equal(st.bad_commands, 1); /* counted on the paths that count them */
  host_free(h);
}

static void start_scan(host *h, bool filter_dup) {
  static const uint8_t params[7] = {0x01, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00}; /* active */
  assert_int_equal(cmd_status(h, 0x200b, params, 7), 0);
  uint8_t enable[2] = {1, filter_dup};
  assert_int_equal(cmd_status(h, 0x200c, enable, 2), 0);
}

static void test_scan_reports(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  start_scan(h, false);
  /* The first advertisement comes a millisecond after the enable. */
  uint64_t dl = vctl_controller_deadline(h->ctl);
  assert_int_equal(dl, h->now + 1);
  h->now = dl;
  vctl_controller_tick(h->ctl, h->now);
  int i = find_event(h, 0, 0x3e, 0x02);
  assert_true(i >= 0);
  const uint8_t *e = h->pkt[i];
  assert_int_equal(e[4], 1);    /* one report */
  assert_int_equal(e[5], 0x00); /* ADV_IND */
  assert_int_equal(e[6], 1);    /* random address */
  assert_memory_equal(e + 7, periph_addr, 6);
  size_t dlen = e[13];
  assert_true(dlen >= 10 && dlen <= 31);
  /* The AD: the complete local name among its structures. */
  bool name = false;
  for (size_t o = 0; o + 1 < dlen; o += 1 + e[14 + o])
    if (e[15 + o] == 0x09 && e[14 + o] == 9 && !memcmp(e + 16 + o, "bleak-fx", 8))
      name = true;
  assert_true(name);
  assert_int_equal((int8_t)e[14 + dlen], -50); /* RSSI */

  /* Again at the next interval, unless duplicates are filtered. */
  h->n = 0;
  dl = vctl_controller_deadline(h->ctl);
  assert_true(dl > h->now && dl != UINT64_MAX);
  h->now = dl;
  vctl_controller_tick(h->ctl, h->now);
  assert_true(find_event(h, 0, 0x3e, 0x02) >= 0);

  static const uint8_t off[2] = {0, 0};
  assert_int_equal(cmd_status(h, 0x200c, off, 2), 0);
  assert_int_equal(vctl_controller_deadline(h->ctl), UINT64_MAX);
  start_scan(h, true);
  for (int k = 0; k < 3; k++) {
    h->now = vctl_controller_deadline(h->ctl);
    vctl_controller_tick(h->ctl, h->now);
  }
  /* Filtered: one ADV_IND and one (empty) SCAN_RSP in three intervals. */
  int adv_ind = 0, scan_rsp = 0;
  for (int j = 0; (j = find_event(h, (size_t)j, 0x3e, 0x02)) >= 0; j++) {
    adv_ind += h->pkt[j][5] == 0x00;
    scan_rsp += h->pkt[j][5] == 0x04;
  }
  assert_int_equal(adv_ind, 1);
  assert_int_equal(scan_rsp, 1);
  host_free(h);
}

/* LE Create Connection to the peripheral: Command Status, then LE
 * Connection Complete. Returns the handle. */
static uint16_t connect_periph(host *h) {
  uint8_t p[25] = {0x60, 0x00, 0x30, 0x00, 0x00, 0x01};
  memcpy(p + 6, periph_addr, 6);
  p[12] = 0;                        /* own address public */
  p[13] = 0x18, p[14] = 0;          /* interval min 30 ms */
  p[15] = 0x28, p[16] = 0;          /* max 50 ms */
  p[17] = 0, p[18] = 0;             /* latency */
  p[19] = 0xc8, p[20] = 0;          /* supervision timeout 2 s */
  h->n = 0;
  cmd(h, 0x200d, p, sizeof p);
  assert_int_equal(h->n, 2);
  static const uint8_t status[7] = {0x04, 0x0f, 4, 0x00, 1, 0x0d, 0x20};
  assert_memory_equal(h->pkt[0], status, 7);
  const uint8_t *e = h->pkt[1];
  assert_int_equal(e[1], 0x3e);
  assert_int_equal(e[2], 19);
  assert_int_equal(e[3], 0x01); /* LE Connection Complete */
  assert_int_equal(e[4], 0);    /* success */
  uint16_t handle = (uint16_t)(e[5] | e[6] << 8);
  assert_int_equal(e[7], 0); /* central */
  assert_int_equal(e[8], 1);
  assert_memory_equal(e + 9, periph_addr, 6);
  assert_int_equal(e[15] | e[16] << 8, 0x18); /* the host's minimum interval */
  assert_int_equal(e[19] | e[20] << 8, 0xc8);
  h->n = 0;
  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.links, 1);
  return handle;
}

static void test_connect(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  uint16_t handle = connect_periph(h);
  assert_int_equal(handle, 1);
  /* Connected, the peripheral is off the air: a scan hears nothing. */
  start_scan(h, false);
  for (int k = 0; k < 2; k++) {
    h->now = vctl_controller_deadline(h->ctl);
    vctl_controller_tick(h->ctl, h->now);
  }
  assert_int_equal(find_event(h, 0, 0x3e, 0x02), -1);
  /* A second Create Connection to it waits; its cancel answers 0x02. */
  uint8_t p[25] = {0x60, 0x00, 0x30, 0x00, 0x00, 0x01};
  memcpy(p + 6, periph_addr, 6);
  p[13] = 0x18, p[15] = 0x28, p[19] = 0xc8;
  h->n = 0;
  cmd(h, 0x200d, p, sizeof p);
  assert_int_equal(h->n, 1);
  h->n = 0;
  cmd(h, 0x200e, NULL, 0);
  assert_int_equal(h->n, 2);
  assert_int_equal(h->pkt[0][6], 0);    /* the cancel's Command Complete: success */
  assert_int_equal(h->pkt[1][3], 0x01); /* LE Connection Complete ... */
  assert_int_equal(h->pkt[1][4], 0x02); /* ... Unknown Connection Identifier */
  host_free(h);
}

/* An ACL packet from the host: one whole L2CAP PDU on @p cid. */
static void acl(host *h, uint16_t handle, uint16_t cid, const uint8_t *pdu, size_t len) {
  uint8_t b[1 + 4 + 4 + 64] = {0x02, (uint8_t)handle, (uint8_t)(handle >> 8),
                               (uint8_t)(len + 4), (uint8_t)((len + 4) >> 8),
                               (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)cid,
                               (uint8_t)(cid >> 8)};
  assert_true(len <= 64);
  memcpy(b + 9, pdu, len);
  feed(h, b, 9 + len);
}

/* The ATT PDU of the first ACL packet out (one whole PDU), or NULL. */
static const uint8_t *att_out(const host *h, uint16_t handle, size_t *len) {
  for (size_t i = 0; i < h->n; i++) {
    const uint8_t *p = h->pkt[i];
    if (p[0] != 0x02)
      continue;
    assert_int_equal(p[1] | (p[2] & 0x0f) << 8, handle);
    assert_int_equal(p[2] >> 4, 0x2); /* PB: first automatically flushable */
    size_t dl = (size_t)(p[3] | p[4] << 8);
    assert_int_equal(dl + 5, h->len[i]);
    assert_int_equal(p[5] | p[6] << 8, dl - 4);
    assert_int_equal(p[7] | p[8] << 8, 0x0004);
    *len = dl - 4;
    return p + 9;
  }
  return NULL;
}

/* The credits of the Number Of Completed Packets event, or -1 if none. */
static int credits(const host *h, uint16_t handle) {
  int i = find_event(h, 0, 0x13, 0);
  if (i < 0)
    return -1;
  const uint8_t *e = h->pkt[i];
  assert_int_equal(e[3], 1);
  assert_int_equal(e[4] | e[5] << 8, handle);
  return e[6] | e[7] << 8;
}

static void test_att_over_acl(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  uint16_t handle = connect_periph(h);
  static const uint8_t mtu_req[3] = {0x02, 0x00, 0x02}; /* Exchange MTU, 512 */
  acl(h, handle, 4, mtu_req, 3);
  size_t n;
  const uint8_t *pdu = att_out(h, handle, &n);
  assert_non_null(pdu);
  assert_int_equal(n, 3);
  assert_int_equal(pdu[0], 0x03);
  assert_int_equal(pdu[1] | pdu[2] << 8, 517);
  assert_int_equal(credits(h, handle), 1);

  /* Read By Group Type of primary services over the whole range. */
  h->n = 0;
  static const uint8_t rbgt[7] = {0x10, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28};
  acl(h, handle, 4, rbgt, 7);
  pdu = att_out(h, handle, &n);
  assert_non_null(pdu);
  assert_int_equal(pdu[0], 0x11);
  assert_int_equal(pdu[1], 6); /* 16-bit UUIDs: handle, end, UUID */
  assert_int_equal((n - 2) % 6, 0);
  assert_int_equal(pdu[2] | pdu[3] << 8, 0x0001); /* the first service starts at 1 */
  bool hr = false;
  uint16_t prev_end = 0;
  for (size_t o = 2; o + 6 <= n; o += 6) {
    uint16_t start = (uint16_t)(pdu[o] | pdu[o + 1] << 8);
    uint16_t end = (uint16_t)(pdu[o + 2] | pdu[o + 3] << 8);
    assert_true(start > prev_end && end >= start);
    prev_end = end;
    hr |= (pdu[o + 4] | pdu[o + 5] << 8) == 0x180d;
  }
  assert_true(hr);
  assert_int_equal(credits(h, handle), 1);

  /* A PDU in two ACL fragments (start, then continuation) is one request. */
  h->n = 0;
  uint8_t b1[1 + 4 + 4 + 2] = {0x02, (uint8_t)handle, 0x00, 6, 0, 3, 0, 4, 0, 0x02, 0x17};
  uint8_t b2[1 + 4 + 1] = {0x02, (uint8_t)handle, 0x10, 1, 0, 0x00};
  feed(h, b1, sizeof b1);
  assert_null(att_out(h, handle, &n));
  assert_int_equal(credits(h, handle), 1);
  h->n = 0;
  feed(h, b2, sizeof b2);
  pdu = att_out(h, handle, &n);
  assert_non_null(pdu);
  assert_int_equal(pdu[0], 0x03);
  assert_int_equal(credits(h, handle), 1);

  /* SMP: Pairing Not Supported. */
  h->n = 0;
  static const uint8_t pair_req[7] = {0x01, 0x03, 0x00, 0x01, 0x10, 0x07, 0x07};
  acl(h, handle, 6, pair_req, 7);
  int i = -1;
  for (size_t k = 0; k < h->n; k++)
    if (h->pkt[k][0] == 0x02)
      i = (int)k;
  assert_true(i >= 0);
  static const uint8_t refused[2] = {0x05, 0x05};
  assert_int_equal(h->pkt[i][7], 6);
  assert_memory_equal(h->pkt[i] + 9, refused, 2);
  host_free(h);
}

static void test_disconnect(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  uint16_t handle = connect_periph(h);
  uint8_t p[3] = {(uint8_t)handle, (uint8_t)(handle >> 8), 0x13};
  cmd(h, 0x0406, p, 3);
  assert_int_equal(h->n, 2);
  static const uint8_t status[7] = {0x04, 0x0f, 4, 0x00, 1, 0x06, 0x04};
  assert_memory_equal(h->pkt[0], status, 7);
  const uint8_t want[7] = {0x04, 0x05, 4, 0x00, (uint8_t)handle, (uint8_t)(handle >> 8), 0x16};
  assert_int_equal(h->len[1], 7);
  assert_memory_equal(h->pkt[1], want, 7);
  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.links, 0);
  /* Data for the gone link is dropped without a credit; a second
   * Disconnect is Unknown Connection Identifier. */
  h->n = 0;
  static const uint8_t mtu_req[3] = {0x02, 0x00, 0x02};
  acl(h, handle, 4, mtu_req, 3);
  assert_int_equal(h->n, 0);
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.acl_dropped, 1);
  cmd(h, 0x0406, p, 3);
  assert_int_equal(h->n, 1);
  assert_int_equal(h->pkt[0][3], 0x02);
  /* The peripheral is on the air again: connectable. */
  assert_int_equal(connect_periph(h), 2);
  host_free(h);
}

static void test_credits_unlimited(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  uint16_t handle = connect_periph(h);
  /* Three packets in one write: one event gives all three credits back. */
  static const uint8_t wcmd[5] = {0x52, 0x03, 0x00, 0xaa, 0xbb}; /* Write Command */
  uint8_t b[3 * 14];
  for (int k = 0; k < 3; k++) {
    uint8_t *q = b + 14 * k;
    const uint8_t hdr[9] = {0x02, (uint8_t)handle, 0x00, 9, 0, 5, 0, 4, 0};
    memcpy(q, hdr, 9);
    memcpy(q + 9, wcmd, 5);
  }
  feed(h, b, sizeof b);
  assert_int_equal(h->n, 1);
  assert_int_equal(credits(h, handle), 3);
  /* Byte by byte: the same, one credit when the packet is whole. */
  h->n = 0;
  for (size_t k = 0; k < 13; k++)
    feed(h, b + k, 1);
  assert_int_equal(h->n, 0);
  feed(h, b + 13, 1);
  assert_int_equal(credits(h, handle), 1);
  host_free(h);
}

static void test_credits_modeled(void **state) {
  (void)state;
  host *h = host_new("1m,interval=10");
  host_init(h);
  uint16_t handle = connect_periph(h);
  static const uint8_t mtu_req[3] = {0x02, 0x00, 0x02};
  acl(h, handle, 4, mtu_req, 3);
  /* Nothing before the link's next connection event. */
  assert_int_equal(h->n, 0);
  uint64_t dl = vctl_controller_deadline(h->ctl);
  assert_true(dl > h->now && dl <= h->now + 50);
  h->now = dl;
  vctl_controller_tick(h->ctl, h->now);
  assert_int_equal(credits(h, handle), 1);
  /* The answer goes at that event or the next. */
  size_t n;
  for (int k = 0; k < 3 && !att_out(h, handle, &n); k++) {
    dl = vctl_controller_deadline(h->ctl);
    assert_true(dl != UINT64_MAX);
    h->now = dl;
    vctl_controller_tick(h->ctl, h->now);
  }
  const uint8_t *pdu = att_out(h, handle, &n);
  assert_non_null(pdu);
  assert_int_equal(pdu[0], 0x03);
  host_free(h);
}

/* Hardware Error: the event, and nothing else changes. */
static void test_hardware_error(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  uint16_t handle = connect_periph(h);
  h->n = 0;
  vctl_controller_hardware_error(h->ctl, 0x42, h->now);
  assert_int_equal(h->n, 1);
  static const uint8_t want[4] = {0x04, 0x10, 1, 0x42};
  assert_int_equal(h->len[0], 4);
  assert_memory_equal(h->pkt[0], want, 4);
  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.links, 1);
  /* The link still answers. */
  h->n = 0;
  static const uint8_t mtu_req[3] = {0x02, 0x00, 0x02};
  acl(h, handle, 4, mtu_req, 3);
  size_t n;
  assert_non_null(att_out(h, handle, &n));
  host_free(h);
}

/* Lost state: the link gone without a Disconnection Complete, the scan
 * stopped, the masks at their power-on values, then Hardware Error 0x01. */
static void test_lose_state(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  uint16_t handle = connect_periph(h);
  start_scan(h, false);
  h->n = 0;
  vctl_controller_lose_state(h->ctl, h->now);
  assert_int_equal(h->n, 1);
  static const uint8_t want[4] = {0x04, 0x10, 1, 0x01};
  assert_memory_equal(h->pkt[0], want, 4);
  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.links, 0);
  assert_int_equal(vctl_controller_deadline(h->ctl), UINT64_MAX); /* no scan, no link */
  /* Data for the old handle is dropped; Disconnect knows no such link. */
  h->n = 0;
  static const uint8_t mtu_req[3] = {0x02, 0x00, 0x02};
  acl(h, handle, 4, mtu_req, 3);
  assert_int_equal(h->n, 0);
  uint8_t p[3] = {(uint8_t)handle, (uint8_t)(handle >> 8), 0x13};
  cmd(h, 0x0406, p, 3);
  assert_int_equal(h->n, 1);
  assert_int_equal(h->pkt[0][3], 0x02);
  /* The LE meta event is masked again (power-on): init, then connect. */
  host_init(h);
  assert_true(connect_periph(h) > 0);
  host_free(h);
}

/* A drop from the peripheral's side: Disconnection Complete with the
 * reason, the peripheral on the air again. */
static void test_disconnect_peripheral(void **state) {
  (void)state;
  host *h = host_new(NULL);
  host_init(h);
  assert_int_equal(vctl_controller_disconnect_peripheral(h->ctl, 0, 0x08, h->now), 0);
  assert_int_equal(vctl_controller_disconnect_peripheral(h->ctl, 1, 0x08, h->now), -1);
  assert_int_equal(h->n, 0);
  uint16_t handle = connect_periph(h);
  h->n = 0;
  assert_int_equal(vctl_controller_disconnect_peripheral(h->ctl, 0, 0x08, h->now), 1);
  assert_int_equal(h->n, 1);
  const uint8_t want[7] = {0x04, 0x05, 4, 0x00, (uint8_t)handle, (uint8_t)(handle >> 8), 0x08};
  assert_int_equal(h->len[0], 7);
  assert_memory_equal(h->pkt[0], want, 7);
  vctl_controller_stats st;
  vctl_controller_stats_get(h->ctl, &st);
  assert_int_equal(st.links, 0);
  /* Reason 0 means none given: Remote User Terminated Connection. */
  handle = connect_periph(h);
  h->n = 0;
  assert_int_equal(vctl_controller_disconnect_peripheral(h->ctl, 0, 0, h->now), 1);
  assert_int_equal(h->pkt[0][6], 0x13);
  assert_true(connect_periph(h) > 0);
  host_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_commands),
      cmocka_unit_test(test_unknown_and_bad_commands),
      cmocka_unit_test(test_scan_reports),
      cmocka_unit_test(test_connect),
      cmocka_unit_test(test_att_over_acl),
      cmocka_unit_test(test_disconnect),
      cmocka_unit_test(test_credits_unlimited),
      cmocka_unit_test(test_credits_modeled),
      cmocka_unit_test(test_hardware_error),
      cmocka_unit_test(test_lose_state),
      cmocka_unit_test(test_disconnect_peripheral),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
