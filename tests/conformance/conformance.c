/* SPDX-License-Identifier: MIT */
/*
 * The conformance suite: the public API against the peripheral fixture
 * (tests/vm/README.md), backend-neutral (BLEAK_BACKEND picks the backend).
 *
 *   conformance ADDRESS [--adapter hciN] [--second ADDRESS2 [--second-adapter hciM]]
 *
 * --second: a second fixture for the two-clients checks, reached through
 * --second-adapter when given (the test guest's emulated controllers hold
 * one link each as central: see tests/vm/README.md).
 *
 * Prints TAP lines and a closing "N passed, N failed" line. Every check
 * asserts values. One function per group of checks (check_*), which main
 * calls in turn.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bleak/bleak.h>

#include "check.h"

#define CUSTOM(n) "b1e5" n "-7e57-4c0d-9e00-000000000001"

typedef struct notes {
  int count;
  uint8_t last[8];
  size_t last_len;
} notes;

static void on_notify(bleak_client *c, const bleak_gatt_characteristic *ch,
                      const uint8_t *data, size_t len, void *user) {
  (void)c;
  (void)ch;
  notes *n = user;
  n->count++;
  n->last_len = len < sizeof n->last ? len : sizeof n->last;
  memcpy(n->last, data, n->last_len);
}

static void on_timer(bleak_source *s, void *user) {
  (void)s;
  *(bool *)user = true;
}

/* Run the loop until @p n notifications arrived or @p ms passed. */
static void wait_notes(bleak_loop *loop, notes *n, int want, int ms) {
  bool timeout = false;
  bleak_source *t;
  bleak_loop_add_timer(loop, (uint64_t)ms, on_timer, &timeout, &t);
  while (n->count < want && !timeout)
    bleak_loop_run_once(loop, -1);
  bleak_source_free(t);
}

static int disconnected_calls;
static void on_disconnected(bleak_client *c, void *user) {
  (void)c;
  (void)user;
  disconnected_calls++;
}

static int detections;
static void on_detect(bleak_scanner *s, const bleak_device *d, const bleak_adv_data *a,
                      void *user) {
  (void)s;
  (void)a;
  if (!strcmp(bleak_device_address(d), (const char *)user))
    detections++;
}

typedef struct async_wait {
  bool done;
  int status;
} async_wait;

static void on_async(bleak_client *c, int status, void *user) {
  (void)c;
  async_wait *w = user;
  w->done = true;
  w->status = status;
}

/* A write's completions: how many, and whether any had a status other than
 * success or "disconnected". */
typedef struct counted_done {
  int calls;
  int odd_status;
  bool ok; /* the last completion was a success */
} counted_done;

static void on_counted_done(bleak_client *c, int status, void *user) {
  (void)c;
  counted_done *d = user;
  d->calls++;
  d->ok = status == 0;
  if (status != 0 && status != BLEAK_ERR_DISCONNECTED)
    d->odd_status = status;
}

static void on_counted_read(bleak_client *c, int status, const uint8_t *data, size_t len,
                            void *user) {
  (void)c;
  (void)status;
  (void)data;
  (void)len;
  (*(int *)user)++;
}

static int other_disconnected_calls;
static void on_other_disconnected(bleak_client *c, void *user) {
  (void)c;
  (void)user;
  other_disconnected_calls++;
}

/* What the pairing callback was asked. */
typedef struct pairing_seen {
  int count;
  bleak_pairing_request last;
  uint32_t passkey;
} pairing_seen;
static pairing_seen pairing_asked;

static void on_pairing_request(bleak_client *c, bleak_pairing_request req, uint32_t passkey,
                               void *user) {
  pairing_seen *p = user;
  p->count++;
  p->last = req;
  p->passkey = passkey;
  /* Confirm (numeric comparison, authorization); a passkey to type would be
   * the one shown, which this test has no way to know: 0 then. */
  bleak_client_pairing_reply(c, true, 0);
}

/* Run the loop until @p c is disconnected or @p ms passed. */
static void wait_disconnected(bleak_loop *loop, bleak_client *c, int ms) {
  bool timeout = false;
  bleak_source *t;
  bleak_loop_add_timer(loop, (uint64_t)ms, on_timer, &timeout, &t);
  while (bleak_client_is_connected(c) && !timeout)
    bleak_loop_run_once(loop, -1);
  bleak_source_free(t);
}

/* What the groups of checks share. */
typedef struct suite {
  const char *address;                  /* the fixture */
  const char *second;                   /* --second: a second fixture, or NULL */
  const char *second_adapter;           /* --second-adapter, or NULL */
  const char *second_hci;               /* --second-hci, or NULL */
  bleak_client_options opts;            /* the client's options */
  bleak_loop *loop;                     /* the default loop */
  bleak_client *c;                      /* the client under test (some groups replace it) */
  bool bluez;                           /* backend bluez, else hci */
  bool vctl;                            /* CONFORMANCE_VCTL=1: the fixture is bleak-vctl's */
  int mtu;                              /* negotiated by the connect */
} suite;

/* Bad input (no radio needed): a malformed address; the client is created;
 * a lookup before connect. False when there is no client. */
static bool check_client_new(suite *s) {
  CHECK("malformed address is refused",
        bleak_client_new("00:11:22:33:44", &s->opts, &s->c) == BLEAK_ERR_INVALID_ARG, "got %d", 0);
  int r = bleak_client_new(s->address, &s->opts, &s->c);
  CHECK("client created", r == 0, "%s", err(r));
  if (r)
    return false;
  const bleak_gatt_characteristic *ch = NULL;
  r = bleak_client_char_by_uuid(s->c, "2a19", &ch);
  CHECK("lookup while not connected fails with NOT_CONNECTED", r == BLEAK_ERR_NOT_CONNECTED, "%s", err(r));
  return true;
}

/* BleakScanner: find by address with a service filter, the detection
 * callback, the advertisement data, find by name of an absent device,
 * passive scanning. */
static void check_scanner(suite *s) {
  /* btvirt drops advertising reports; the fixture re-advertises every 2 s,
   * so 20 s finds it. */
  bleak_scanner_options so;
  bleak_scanner_options_init(&so);
  so.adapter = s->opts.adapter;
  so.hci_transport = s->opts.hci_transport;
  so.detection_callback = on_detect;
  so.user_data = (void *)s->address;
  bleak_uuid hr_uuid = bleak_uuid_from_u16(0x180d);
  so.service_uuids = &hr_uuid;
  so.n_service_uuids = 1;
  bleak_scanner *sc = NULL;
  int r = bleak_scanner_new(&so, &sc);
  CHECK("scanner created", r == 0, "%s", err(r));
  const bleak_device *dev = NULL;
  if (sc) {
    r = bleak_scanner_find_device_by_address(sc, s->address, 20000, &dev);
    CHECK("find_device_by_address (service filter 0x180D)", r == 0 && dev, "%s", err(r));
    CHECK("detection callback saw it", detections > 0, "%d", detections);
    const bleak_adv_data *adv = NULL;
    for (size_t i = 0; i < bleak_scanner_device_count(sc); i++)
      if (bleak_scanner_device_at(sc, i) == dev)
        adv = bleak_scanner_adv_at(sc, i);
    CHECK("advertisement data: name, manufacturer, service data, UUIDs",
          adv && adv->local_name && !strcmp(adv->local_name, "bleak-fx") &&
              adv->n_manufacturer_data == 1 && adv->manufacturer_data[0].company_id == 0xffff &&
              adv->manufacturer_data[0].len == 3 && adv->manufacturer_data[0].data[2] == 3 &&
              adv->n_service_data == 1 && adv->service_data[0].len == 1 &&
              adv->service_data[0].data[0] == 87 && adv->n_service_uuids >= 1 &&
              /* btvirt's controllers say "RSSI not available" (127): the
               * hci backend reports that as NONE; BlueZ makes one up. */
              (adv->rssi != BLEAK_RSSI_NONE || !s->bluez),
          "name %s, %zu mfr, %zu sd, %zu uuids", adv && adv->local_name ? adv->local_name : "-",
          adv ? adv->n_manufacturer_data : 0, adv ? adv->n_service_data : 0,
          adv ? adv->n_service_uuids : 0);
    CHECK("device name", dev && bleak_device_name(dev) && !strcmp(bleak_device_name(dev), "bleak-fx"),
          "%s", dev && bleak_device_name(dev) ? bleak_device_name(dev) : "-");
    r = bleak_scanner_find_device_by_name(sc, "no-such-device", 3000, &dev);
    CHECK("find_device_by_name of an absent device: DEVICE_NOT_FOUND",
          r == BLEAK_ERR_DEVICE_NOT_FOUND, "%s", err(r));
    bleak_scanner_free(sc);
  }
  /* Passive: on bluez through BlueZ's advertisement monitor (the guest's
   * bluetoothd runs with -E), matched by the fixture's manufacturer data
   * (company 0xffff, 01 02 03); on hci the core matches the AD bytes. */
  static const uint8_t fx_mfr[] = {0xff, 0xff, 0x01, 0x02};
  const bleak_or_pattern pat = {.start_position = 0, .ad_type = 0xff, .data = fx_mfr,
                                .len = sizeof fx_mfr};
  so.scanning_mode = BLEAK_SCAN_PASSIVE;
  so.n_service_uuids = 0;
  so.or_patterns = &pat;
  so.n_or_patterns = 1;
  detections = 0;
  r = bleak_scanner_new(&so, &sc);
  dev = NULL;
  if (r == 0)
    r = bleak_scanner_find_device_by_address(sc, s->address, 20000, &dev);
  CHECK("passive scan with an or-pattern finds the fixture", r == 0 && dev, "%s (%s)", err(r),
        r ? bleak_error_detail() : "");
  bleak_scanner_free(sc);
}

/* Connect and services: the connection's state, address and MTU, the
 * discovered services, lookups of a duplicate and of an unknown UUID.
 * False when the connect failed. */
static bool check_connect(suite *s) {
  /* A bounded retry (BlueZ 5.66 in the guest, see README). */
  int r = connect_retry(s->c);
  CHECK("connect", r == 0, "%s", err(r));
  if (r)
    return false;
  bleak_client *c = s->c;
  CHECK("is_connected", bleak_client_is_connected(c), "false");
  CHECK("address", !strcmp(bleak_client_address(c), s->address), "%s", bleak_client_address(c));
  s->mtu = bleak_client_mtu_size(c);
  CHECK("mtu_size is the negotiated one (> 23)", s->mtu > 23, "mtu %d", s->mtu);
  bleak_gatt_services *svcs = bleak_client_services(c);
  CHECK("services discovered", svcs && bleak_gatt_services_count(svcs) >= 4,
        "%zu services", bleak_gatt_services_count(svcs));
  const bleak_gatt_characteristic *ch = NULL;
  r = bleak_client_char_by_uuid(c, CUSTOM("000a"), &ch);
  CHECK("duplicate UUID lookup is AMBIGUOUS", r == BLEAK_ERR_AMBIGUOUS, "%s", err(r));
  r = bleak_client_char_by_uuid(c, "2aff", &ch);
  CHECK("unknown characteristic is NOT_FOUND", r == BLEAK_ERR_NOT_FOUND, "%s", err(r));
  return true;
}

/* Reads: a one-byte value, a short custom value, a long read of 512 bytes. */
static void check_reads(suite *s) {
  bleak_client *c = s->c;
  const bleak_gatt_characteristic *ch = NULL;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  int r = bleak_client_char_by_uuid(c, "2a19", &ch);
  if (r == 0)
    r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  CHECK("read battery level = 87", r == 0 && len == 1 && buf[0] == 87, "%s len %zu", err(r), len);
  r = bleak_client_char_by_uuid(c, CUSTOM("0001"), &ch);
  if (r == 0)
    r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  CHECK("read custom value", r == 0 && len == 13 && !memcmp(buf, "hello bleak-c", 13),
        "%s len %zu", err(r), len);
  r = bleak_client_char_by_uuid(c, CUSTOM("0008"), &ch);
  if (r == 0)
    r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  bool pattern = len == 512;
  for (size_t i = 0; pattern && i < len; i++)
    pattern = buf[i] == (i & 0xff);
  CHECK("long read of 512 bytes", r == 0 && pattern, "%s len %zu", err(r), len);
}

/* Writes with response: read back, five async writes at once, a read-only
 * characteristic, a value over 512 bytes. */
static void check_writes(suite *s) {
  bleak_client *c = s->c;
  const bleak_gatt_characteristic *ch = NULL;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  int r = bleak_client_char_by_uuid(c, CUSTOM("0002"), &ch);
  static const uint8_t v[] = {0xde, 0xad, 0xbe, 0xef};
  if (r == 0)
    r = bleak_client_write_gatt_char(c, ch, v, sizeof v, BLEAK_WRITE_WITH_RESPONSE);
  if (r == 0)
    r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  CHECK("write with response, read back", r == 0 && len == 4 && !memcmp(buf, v, 4), "%s", err(r));
  {
    /* Five writes asked for at once: each completes once, in order, with
     * success (BlueZ takes one WriteValue per attribute at a time). */
    static counted_done five[5];
    static uint8_t vals[5][2];
    int started = 0;
    for (int i = 0; i < 5; i++) {
      vals[i][0] = 0x50;
      vals[i][1] = (uint8_t)i;
      started += bleak_client_write_gatt_char_async(c, ch, vals[i], 2, BLEAK_WRITE_WITH_RESPONSE,
                                                    on_counted_done, &five[i]) > 0;
    }
    bool all = false;
    for (int spins = 0; !all && spins < 200; spins++) {
      bleak_loop_run_once(s->loop, 100);
      all = true;
      for (int i = 0; i < 5; i++)
        all = all && five[i].calls > 0;
    }
    int ok = 0;
    for (int i = 0; i < 5; i++)
      ok += five[i].calls == 1 && five[i].odd_status == 0 && five[i].ok;
    r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
    CHECK("five async writes at once: each succeeds once, the last one stays",
          started == 5 && ok == 5 && r == 0 && len == 2 && buf[1] == 4,
          "started %d, ok %d, read %s len %zu last %d", started, ok, err(r), len, len ? buf[len - 1] : -1);
  }
  r = bleak_client_char_by_uuid(c, CUSTOM("0001"), &ch);
  if (r == 0)
    r = bleak_client_write_gatt_char(c, ch, v, sizeof v, BLEAK_WRITE_WITH_RESPONSE);
  CHECK("write to a read-only characteristic: ATT Write Not Permitted",
        r == BLEAK_ERR_ATT(BLEAK_ATT_WRITE_NOT_PERMITTED), "%s", err(r));
  r = bleak_client_write_gatt_char(c, ch, buf, 513, BLEAK_WRITE_WITH_RESPONSE);
  CHECK("value over 512 bytes is TOO_LONG", r == BLEAK_ERR_TOO_LONG, "%s", err(r));
}

/* Heart-rate notifications: start_notify, subscribing twice, five
 * notifications, stop_notify, stopping twice. */
static void check_notifications(suite *s) {
  bleak_client *c = s->c;
  const bleak_gatt_characteristic *ch = NULL;
  notes hr = {0};
  int r = bleak_client_char_by_uuid(c, "2a37", &ch);
  if (r == 0)
    r = bleak_client_start_notify(c, ch, on_notify, &hr);
  CHECK("start_notify heart rate", r == 0, "%s", err(r));
  r = bleak_client_start_notify(c, ch, on_notify, &hr);
  CHECK("subscribing twice is ALREADY", r == BLEAK_ERR_ALREADY, "%s", err(r));
  wait_notes(s->loop, &hr, 5, 15000);
  CHECK("five heart-rate notifications", hr.count >= 5 && hr.last_len == 2,
        "%d notifications", hr.count);
  r = bleak_client_stop_notify(c, ch);
  CHECK("stop_notify", r == 0, "%s", err(r));
  r = bleak_client_stop_notify(c, ch);
  CHECK("stop_notify when not subscribed is NOT_FOUND", r == BLEAK_ERR_NOT_FOUND, "%s", err(r));
}

/* Bleak 1.0..3.0's additions on a live link: use_cached answers with the
 * value read before; the CCCD is refused for write_gatt_descriptor;
 * use_start_notify subscribes and values come. */
static void check_bleak3_additions(suite *s) {
  bleak_client *c = s->c;
  const bleak_gatt_characteristic *ch = NULL;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  const bleak_read_options cached = {.use_cached = true};
  int r = bleak_client_char_by_uuid(c, "2a19", &ch);
  if (r == 0)
    r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  if (r == 0)
    r = bleak_client_read_gatt_char_opts(c, ch, &cached, buf, sizeof buf, &len);
  CHECK("read use_cached: battery level 87", r == 0 && len == 1 && buf[0] == 87, "%s len %zu",
        err(r), len);
  const bleak_gatt_characteristic *hr = NULL;
  bleak_uuid u2902 = bleak_uuid_from_u16(0x2902);
  r = bleak_client_char_by_uuid(c, "2a37", &hr);
  const bleak_gatt_descriptor *cccd = r == 0 ? bleak_gatt_characteristic_get_descriptor(hr, &u2902) : NULL;
  static const uint8_t on[2] = {1, 0};
  r = cccd ? bleak_client_write_gatt_descriptor(c, cccd, on, 2) : BLEAK_ERR_NOT_FOUND;
  CHECK("write_gatt_descriptor on the CCCD is refused (use start_notify)",
        r == BLEAK_ERR_INVALID_ARG && strstr(bleak_error_detail(), "start_notify"), "%s", err(r));
  notes n = {0};
  const bleak_notify_options sn = {.use_start_notify = true};
  r = hr ? bleak_client_start_notify_opts(c, hr, &sn, on_notify, &n) : BLEAK_ERR_NOT_FOUND;
  if (r == 0)
    wait_notes(s->loop, &n, 2, 15000);
  CHECK("start_notify use_start_notify: values come", r == 0 && n.count >= 2, "%s, %d values",
        err(r), n.count);
  if (r == 0)
    bleak_client_stop_notify(c, hr);
}

/* The connected client's name is the advertised one. */
static void check_client_name(suite *s) {
  CHECK("name is the advertised one", !strcmp(bleak_client_name(s->c), "bleak-fx"),
        "%s", bleak_client_name(s->c));
}

/* Descriptors: the User Description read, a writable one written and read
 * back. */
static void check_descriptors(suite *s) {
  bleak_client *c = s->c;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  const bleak_gatt_characteristic *dch = NULL;
  int r = bleak_client_char_by_uuid(c, CUSTOM("0009"), &dch);
  bleak_uuid u2901 = bleak_uuid_from_u16(0x2901), ucustom;
  bleak_uuid_parse("b1e5d001-7e57-4c0d-9e00-000000000001", &ucustom);
  const bleak_gatt_descriptor *cud = bleak_gatt_characteristic_get_descriptor(dch, &u2901);
  const bleak_gatt_descriptor *wd = bleak_gatt_characteristic_get_descriptor(dch, &ucustom);
  CHECK("descriptors discovered", r == 0 && cud && wd, "%s", err(r));
  if (cud && wd) {
    r = bleak_client_read_gatt_descriptor(c, cud, buf, sizeof buf, &len);
    CHECK("read the User Description", r == 0 && len == 23 && !memcmp(buf, "bleak-c descriptor test", 23),
          "%s len %zu", err(r), len);
    static const uint8_t dv[] = {0x12, 0x34};
    r = bleak_client_write_gatt_descriptor(c, wd, dv, 2);
    if (r == 0)
      r = bleak_client_read_gatt_descriptor(c, wd, buf, sizeof buf, &len);
    CHECK("write a descriptor, read back", r == 0 && len == 2 && !memcmp(buf, dv, 2), "%s", err(r));
  }
}

/* Writes without response: the stats reset, max_write_without_response_size,
 * ten sequence-numbered packets, none lost. */
static void check_write_without_response(suite *s) {
  bleak_client *c = s->c;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  const bleak_gatt_characteristic *ctl = NULL, *wwr = NULL, *stats = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  bleak_client_char_by_uuid(c, CUSTOM("0003"), &wwr);
  bleak_client_char_by_uuid(c, CUSTOM("0004"), &stats);
  static const uint8_t reset[] = {0x01};
  int r = bleak_client_write_gatt_char(c, ctl, reset, 1, BLEAK_WRITE_WITH_RESPONSE);
  CHECK("control: reset stats", r == 0, "%s", err(r));
  size_t max = bleak_gatt_characteristic_max_write_without_response_size(wwr);
  int mtu = s->mtu;
  CHECK("max_write_without_response_size is MTU - 3, at most 512",
        (int)max == (mtu - 3 < 512 ? mtu - 3 : 512), "%zu vs mtu %d", max, mtu);
  int sent = 0;
  for (uint32_t seq = 0; seq < 10; seq++) {
    uint8_t pkt[20] = {0};
    pkt[0] = (uint8_t)seq;
    r = bleak_client_write_gatt_char(c, wwr, pkt, sizeof pkt, BLEAK_WRITE_AUTO);
    sent += r == 0;
  }
  CHECK("ten writes without response accepted", sent == 10, "%d", sent);
  r = bleak_client_read_gatt_char(c, stats, buf, sizeof buf, &len);
  uint32_t packets = len >= 16 ? (uint32_t)(buf[0] | buf[1] << 8) : 0;
  uint32_t bytes = len >= 16 ? (uint32_t)(buf[4] | buf[5] << 8) : 0;
  uint32_t gaps = len >= 16 ? (uint32_t)(buf[8] | buf[9] << 8) : 99;
  uint32_t late = len >= 16 ? (uint32_t)(buf[12] | buf[13] << 8) : 0;
  /* BlueZ to BlueZ uses EATT: several ATT channels may reorder writes (see
   * tests/vm/README.md). None may be lost: every gap is filled later. */
  CHECK("the peripheral counted 10 packets of 200 bytes, none lost",
        r == 0 && packets == 10 && bytes == 200,
        "%s packets %u bytes %u gaps %u late %u", err(r), packets, bytes, gaps, late);
  printf("#   write-without-response order: %u gaps, %u late (EATT)\n", gaps, late);
}

/* Indications: one on subscribe, one on command. */
static void check_indications(suite *s) {
  bleak_client *c = s->c;
  notes ind = {0};
  const bleak_gatt_characteristic *ctl = NULL, *ich = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  bleak_client_char_by_uuid(c, CUSTOM("0007"), &ich);
  int r = bleak_client_start_notify(c, ich, on_notify, &ind);
  static const uint8_t indicate[] = {0x03};
  if (r == 0)
    r = bleak_client_write_gatt_char(c, ctl, indicate, 1, BLEAK_WRITE_WITH_RESPONSE);
  wait_notes(s->loop, &ind, 2, 10000);
  CHECK("indications arrive", r == 0 && ind.count >= 2, "%s, %d indications", err(r), ind.count);
  bleak_client_stop_notify(c, ich);
}

/* A notification burst on command: 20 sequence-numbered notifications. */
static void check_notification_burst(suite *s) {
  bleak_client *c = s->c;
  notes burst = {0};
  const bleak_gatt_characteristic *ctl = NULL, *bch = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  bleak_client_char_by_uuid(c, CUSTOM("0006"), &bch);
  int r = bleak_client_start_notify(c, bch, on_notify, &burst);
  static const uint8_t burst_cmd[] = {0x02, 20, 0, 8, 0};
  if (r == 0)
    r = bleak_client_write_gatt_char(c, ctl, burst_cmd, sizeof burst_cmd, BLEAK_WRITE_WITH_RESPONSE);
  wait_notes(s->loop, &burst, 20, 15000);
  CHECK("a burst of 20 notifications", r == 0 && burst.count == 20 && burst.last_len == 8,
        "%s, %d notifications", err(r), burst.count);
  bleak_client_stop_notify(c, bch);
}

/* The deprecated get_services gives the same collection as services. */
static void check_get_services(suite *s) {
  bleak_gatt_services *gs = NULL;
  int r = bleak_client_get_services(s->c, &gs);
  CHECK("deprecated get_services gives the same collection", r == 0 && gs == bleak_client_services(s->c),
        "%s", err(r));
}

/* Service Changed (hci): a service added at run time shows up and reads; a
 * service removed goes, the others stay. */
static void check_service_changed(suite *s) {
  /* The fixture adds a service (control 07) and takes it away (08); the
   * hci backend re-discovers the changed range. (On bluez the collection
   * stays as it was at connect, as in Bleak.) */
  bleak_client *c = s->c;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  static const uint8_t add[] = {0x07}, del[] = {0x08};
  const bleak_gatt_characteristic *ctl = NULL, *ex = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  int r = bleak_client_write_gatt_char(c, ctl, add, 1, BLEAK_WRITE_WITH_RESPONSE);
  for (int i = 0; i < 100 && r == 0 && bleak_client_char_by_uuid(c, CUSTOM("00f1"), &ex); i++)
    bleak_loop_run_until(s->loop, &(bool){false}, 100);
  if (ex)
    r = bleak_client_read_gatt_char(c, ex, buf, sizeof buf, &len);
  CHECK("Service Changed: a service added at run time shows up, and reads",
        ex && r == 0 && len == 5 && !memcmp(buf, "extra", 5), "%s, found %d", err(r), ex != NULL);
  r = bleak_client_write_gatt_char(c, ctl, del, 1, BLEAK_WRITE_WITH_RESPONSE);
  for (int i = 0; i < 100 && r == 0 && !bleak_client_char_by_uuid(c, CUSTOM("00f1"), &ex); i++)
    bleak_loop_run_until(s->loop, &(bool){false}, 100);
  CHECK("Service Changed: a service removed goes, the others stay",
        r == 0 && bleak_client_char_by_uuid(c, CUSTOM("00f1"), &ex) == BLEAK_ERR_NOT_FOUND &&
            bleak_client_char_by_uuid(c, "2a19", &ex) == 0,
        "%s", err(r));
}

/* The bond files in $BLEAK_BOND_DIR (hci), or -1 when it is not set. */
static int bond_files(void) {
  const char *dir = getenv("BLEAK_BOND_DIR");
  if (!dir)
    return -1;
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strstr(e->d_name, ".bond") != NULL && !strstr(e->d_name, ".tmp");
  closedir(d);
  return n;
}

/* hci: a second client of the same controller (so our address is the
 * same) loads the bond the first one made, encrypts with its key and
 * reads the encrypted characteristic. */
static void check_bond_used(suite *s) {
  bleak_client_options o = s->opts;
  o.services = NULL;
  o.n_services = 0;
  o.disconnected_callback = NULL;
  bleak_client *c2 = NULL;
  int r = bleak_client_disconnect(s->c);
  if (r == 0)
    r = bleak_client_new(s->address, &o, &c2);
  if (r == 0)
    r = connect_retry(c2);
  const bleak_gatt_characteristic *enc = NULL;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  if (r == 0)
    r = bleak_client_char_by_uuid(c2, CUSTOM("000b"), &enc);
  if (r == 0)
    r = bleak_client_read_gatt_char(c2, enc, buf, sizeof buf, &len);
  CHECK("a new client reads the encrypted characteristic with the bond",
        r == 0 && len == 6 && !memcmp(buf, "secret", 6) && bond_files() == 1, "%s, %d bonds",
        err(r), bond_files());
  if (c2)
    bleak_client_disconnect(c2);
  bleak_client_free(c2);
  r = connect_retry(s->c);
  CHECK("reconnect the first client", r == 0, "%s", err(r));
}

/* Encryption and pairing: an unpaired read of the encrypted
 * characteristic, pair (Just Works), the read after pair, pairing_reply
 * with nothing pending. */
static void check_encryption_and_pair(suite *s) {
  /* BlueZ raises the link's security by itself when the peer answers
   * Insufficient Encryption, which pairs Just Works on the spot: an
   * unpaired read either gets the value that way or fails with a clear
   * ATT/AUTH error; it must not hang. */
  bleak_client *c = s->c;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  const bleak_gatt_characteristic *enc = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("000b"), &enc);
  int r = bleak_client_read_gatt_char(c, enc, buf, sizeof buf, &len);
  bool got_secret = r == 0 && len == 6 && !memcmp(buf, "secret", 6);
  /* BlueZ 5.66 drops the link when that on-the-spot pairing fails; our
   * own stack pairs on demand (the read then gets the value). */
  if (s->bluez)
    CHECK("read of the encrypted characteristic before pair: the value, or a clear error",
          got_secret || r == BLEAK_ERR_ATT(5) || r == BLEAK_ERR_ATT(0x0f) ||
              r == BLEAK_ERR_ATT(0x0e) || r == BLEAK_ERR_AUTH || r == BLEAK_ERR_DISCONNECTED,
          "%s", err(r));
  else
    CHECK("read of the encrypted characteristic pairs on demand (Just Works) and succeeds",
          got_secret && bond_files() == 1, "%s, %d bonds", err(r), bond_files());
  printf("#   unpaired read: %s\n", got_secret ? "BlueZ paired on the fly" : err(r));
  if (!bleak_client_is_connected(c)) {
    r = connect_retry(c);
    CHECK("reconnect after the refused read", r == 0, "%s", err(r));
    bleak_client_char_by_uuid(c, CUSTOM("000b"), &enc);
  }
  r = bleak_client_pair(c);
  CHECK("pair (Just Works, no user code)", r == 0, "%s", err(r));
  r = bleak_client_read_gatt_char(c, enc, buf, sizeof buf, &len);
  CHECK("read the encrypted characteristic after pair", r == 0 && len == 6 && !memcmp(buf, "secret", 6),
        "%s", err(r));
  r = bleak_client_pairing_reply(c, true, 0);
  CHECK("pairing_reply with nothing pending is STATE", r == BLEAK_ERR_STATE, "%s", err(r));
}

/* Disconnect: the callback set by set_disconnected_callback fires once
 * (not the options' one), a read afterwards is NOT_CONNECTED. */
static void check_disconnect(suite *s) {
  bleak_client *c = s->c;
  uint8_t buf[BLEAK_MAX_ATTR_VALUE];
  size_t len = 0;
  /* Read after the disconnect: heart rate (any would do, the client says
   * NOT_CONNECTED before it looks at the characteristic). */
  const bleak_gatt_characteristic *ch = NULL;
  bleak_client_char_by_uuid(c, "2a37", &ch);
  bleak_client_set_disconnected_callback(c, on_other_disconnected, NULL);
  int dc = disconnected_calls;
  int r = bleak_client_disconnect(c);
  CHECK("disconnect", r == 0 && !bleak_client_is_connected(c), "%s", err(r));
  CHECK("the disconnected callback (set_disconnected_callback's) fired once",
        other_disconnected_calls == 1 && disconnected_calls == dc,
        "%d and %d calls", other_disconnected_calls, disconnected_calls - dc);
  bleak_client_set_disconnected_callback(c, on_disconnected, NULL);
  r = bleak_client_read_gatt_char(c, ch, buf, sizeof buf, &len);
  CHECK("read after disconnect is NOT_CONNECTED", r == BLEAK_ERR_NOT_CONNECTED, "%s", err(r));
}

/* Reconnect; the peripheral drops the link: the disconnected callback
 * fires once. */
static void check_peripheral_disconnect(suite *s) {
  bleak_client *c = s->c;
  int r = connect_retry(c);
  CHECK("reconnect", r == 0, "%s", err(r));
  if (r)
    return;
  const bleak_gatt_characteristic *ctl = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  static const uint8_t bye[] = {0x05};
  int before = disconnected_calls;
  r = bleak_client_write_gatt_char(c, ctl, bye, 1, BLEAK_WRITE_WITH_RESPONSE);
  wait_disconnected(s->loop, c, 15000);
  CHECK("peripheral-initiated disconnect fires the callback once",
        r == 0 && !bleak_client_is_connected(c) && disconnected_calls == before + 1,
        "%s, %d calls", err(r), disconnected_calls - before);
}

/* Faults: the peripheral drops the link in the middle of a notification
 * stream, of pending reads and of pending writes: every one completes
 * exactly once. */
static void check_drop_mid_stream(suite *s) {
  bleak_client *c = s->c;
  if (connect_retry(c) != 0)
    return;
  const bleak_gatt_characteristic *ctl = NULL, *lv = NULL, *bc = NULL, *rd = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  bleak_client_char_by_uuid(c, CUSTOM("0008"), &lv);
  /* The pending reads: on hci, of GAP's Device Name, which bluetoothd
   * answers itself. BlueZ 5.66 crashes when the link drops while its
   * peripheral waits for an application's ReadValue, and our client
   * has one in flight at that moment; the bluez backend does not show
   * GAP, and its central's pacing has missed that window so far. */
  rd = lv;
  if (!s->bluez)
    bleak_client_char_by_uuid(c, "2a00", &rd);
  /* Likewise the pending writes: on hci, to GATT's Client Supported
   * Features, which bluetoothd answers itself (a WriteValue pending at
   * the drop crashes it in write_complete_cb, seen in the guest). */
  const bleak_gatt_characteristic *wt = lv;
  if (!s->bluez)
    bleak_client_char_by_uuid(c, "2b29", &wt);
  bleak_client_char_by_uuid(c, CUSTOM("0006"), &bc);
  notes stream = {0};
  bleak_client_start_notify(c, bc, on_notify, &stream);
  static const uint8_t long_burst[] = {0x02, 0x88, 0x13, 20, 0}; /* 5000 x 20 */
  bleak_client_write_gatt_char(c, ctl, long_burst, sizeof long_burst, BLEAK_WRITE_WITH_RESPONSE);
  wait_notes(s->loop, &stream, 10, 10000);
  static const uint8_t bye[] = {0x05};
  enum { N = 20 };
  static async_wait reads[N];
  static int read_calls[N];
  bleak_client_write_gatt_char_async(c, ctl, bye, 1, BLEAK_WRITE_WITH_RESPONSE, on_async, &reads[0]);
  int started = 0;
  for (int i = 1; i < N; i++)
    started += bleak_client_read_gatt_char_async(c, rd, on_counted_read, &read_calls[i]) > 0;
  /* ... and of writes with response (300 bytes each, into c(8); on hci
   * into 0x2B29, see above). */
  enum { W = 10 };
  static counted_done writes[W];
  static uint8_t wv[300];
  int wstarted = 0;
  for (int i = 0; i < W; i++)
    wstarted += bleak_client_write_gatt_char_async(c, wt, wv, sizeof wv, BLEAK_WRITE_WITH_RESPONSE,
                                                   on_counted_done, &writes[i]) > 0;
  wait_disconnected(s->loop, c, 20000);
  bleak_loop_run_until(s->loop, &(bool){false}, 500); /* let stragglers in */
  int once = 0;
  for (int i = 1; i < N; i++)
    once += read_calls[i] == 1;
  CHECK("link dropped mid-stream: disconnected, every pending read completed once",
        !bleak_client_is_connected(c) && started == N - 1 && once == N - 1 && stream.count < 5000,
        "connected %d, started %d, once %d, notifications %d", bleak_client_is_connected(c),
        started, once, stream.count);
  int wonce = 0, odd = 0;
  for (int i = 0; i < W; i++) {
    wonce += writes[i].calls == 1;
    /* On hci the write in flight at the drop may get the server's
     * answer first: BlueZ 5.66 answers it with an error (its errno
     * cut to an ATT code). That is a completion too. */
    if (writes[i].odd_status && (s->bluez || writes[i].odd_status > BLEAK_ERR_ATT(0) ||
                                 writes[i].odd_status < BLEAK_ERR_ATT(0xff)))
      odd = writes[i].odd_status;
  }
  CHECK("link dropped mid-write: every pending write completed once (success or DISCONNECTED)",
        wstarted == W && wonce == W && odd == 0, "started %d, once %d, odd status %s", wstarted,
        wonce, err(odd));
}

/* Faults: the peripheral drops the link while the client discovers: connect
 * completes exactly once, and the state matches what it says. */
static void check_drop_during_discovery(suite *s) {
  /* The peripheral drops the link as soon as it comes up (fixture control
   * 06). Connect may also succeed: it retries a dropped attempt. On bluez
   * opt-in (CONFORMANCE_DROP=1): the central's bluetoothd 5.66 segfaults
   * on this in the guest (see tests/vm/README); the hci backend has no
   * bluetoothd on its side, so it always runs there. */
  bleak_client *c = s->c;
  int r = getenv("CONFORMANCE_DROP") || !s->bluez ? connect_retry(c) : -1;
  if (r != 0)
    return;
  static const uint8_t drop_next[] = {0x06};
  const bleak_gatt_characteristic *ctl = NULL;
  bleak_client_char_by_uuid(c, CUSTOM("0005"), &ctl);
  r = bleak_client_write_gatt_char(c, ctl, drop_next, 1, BLEAK_WRITE_WITH_RESPONSE);
  if (r == 0)
    r = bleak_client_disconnect(c);
  static counted_done conn;
  int before = disconnected_calls;
  if (r == 0)
    r = bleak_client_connect_async(c, on_counted_done, &conn) > 0 ? 0 : -1;
  for (int spins = 0; r == 0 && conn.calls == 0 && spins < 400; spins++)
    bleak_loop_run_once(s->loop, 100);
  bleak_loop_run_until(s->loop, &(bool){false}, 300); /* a second completion would show */
  bool consistent = conn.ok ? bleak_client_is_connected(c) && bleak_client_services(c)
                            : !bleak_client_is_connected(c) && !bleak_client_services(c);
  CHECK("link dropped during discovery: connect completes once, state matches",
        r == 0 && conn.calls == 1 && consistent && (conn.ok || disconnected_calls == before),
        "%s, %d completions, ok %d, connected %d, %d disconnected calls", err(r), conn.calls,
        conn.ok, bleak_client_is_connected(c), disconnected_calls - before);
  printf("#   drop during discovery: connect %s\n", conn.ok ? "succeeded (retried)" : "failed");
}

/* bluetoothd started again by the restart checks, as guest-lib.sh starts
 * it (-E: the advertisement monitor), logging to bluetoothd-N.log. */
#define BLUETOOTHD_START(n) \
  "bluetoothd -n -d -E -P battery,deviceinfo >/run/job/state/bluetoothd-" n ".log 2>&1 &"

/* bluetoothd restarts while a connect runs: the connect waits for it (a
 * transient failure, connect.c) and completes once, connected, within its
 * timeout, with no disconnected callback on the way. */
static void check_restart_during_connect(suite *s) {
  bleak_client *c = s->c;
  static counted_done conn;
  int r = bleak_client_disconnect(c);
  int before = disconnected_calls;
  if (r == 0)
    r = bleak_client_connect_async(c, on_counted_done, &conn) > 0 ? 0 : -1;
  bleak_loop_run_until(s->loop, &(bool){false}, 200); /* the connect under way */
  if (r == 0 && conn.calls == 0 && system("pkill -x bluetoothd") == 0) {
    for (int i = 0; i < 50 && system("pidof bluetoothd >/dev/null") == 0; i++)
      bleak_loop_run_until(s->loop, &(bool){false}, 100);
    if (system("pidof bluetoothd >/dev/null") == 0)
      r = system("pkill -KILL -x bluetoothd");
    r = system(BLUETOOTHD_START("3"));
  }
  for (int spins = 0; r == 0 && conn.calls == 0 && spins < 350; spins++)
    bleak_loop_run_once(s->loop, 100);
  bleak_loop_run_until(s->loop, &(bool){false}, 300); /* a second completion would show */
  CHECK("bluetoothd restarts during a connect: it completes once, connected",
        r == 0 && conn.calls == 1 && conn.ok && bleak_client_is_connected(c) &&
            disconnected_calls == before,
        "%s, %d completions, ok %d (%s), connected %d, %d disconnected calls", err(r),
        conn.calls, conn.ok, err(conn.odd_status), bleak_client_is_connected(c),
        disconnected_calls - before);
}

/* bluetoothd restart (bluez): a connected client is disconnected when
 * bluetoothd goes, connect fails fast without it, works again when it is
 * back (CONFORMANCE_RESTART=0 skips that last check). */
static void check_bluetoothd_restart(suite *s) {
  bleak_client *c = s->c;
  /* bluetoothd 5.66 sometimes dies in the drop tests before this one
   * (tests/vm/README.md: a segfault in its GATT server's write_complete_cb,
   * in dmesg). That is BlueZ's bug, not this check's subject: said, and
   * bluetoothd started again (the fixture registers itself again). */
  if (system("pidof bluetoothd >/dev/null") != 0) {
    printf("# bluetoothd died before the restart check (BlueZ 5.66 crash, see dmesg): starting it\n");
    int rc = system(BLUETOOTHD_START("1"));
    for (int i = 0; i < 20 && rc == 0 && system("busctl --system status org.bluez >/dev/null 2>&1"); i++)
      bleak_loop_run_until(s->loop, &(bool){false}, 500);
    bleak_loop_run_until(s->loop, &(bool){false}, 2000); /* the fixture registers again */
  }
  int r = connect_retry(c);
  int before = disconnected_calls;
  if (r != 0 || system("pkill -x bluetoothd") != 0) {
    CHECK("bluetoothd restart test set up", false, "%s", err(r));
    return;
  }
  /* Gone for real: bluetoothd sometimes lingers in its shutdown with the
   * bus name still held; after 5 s it gets SIGKILL. */
  for (int i = 0; i < 50 && system("pidof bluetoothd >/dev/null") == 0; i++)
    bleak_loop_run_until(s->loop, &(bool){false}, 100);
  if (system("pidof bluetoothd >/dev/null") == 0) {
    printf("# bluetoothd still there after SIGTERM: SIGKILL\n");
    r = system("pkill -KILL -x bluetoothd");
  }
  wait_disconnected(s->loop, c, 10000);
  CHECK("bluetoothd gone: the client is disconnected, the callback fired once",
        !bleak_client_is_connected(c) && disconnected_calls == before + 1,
        "connected %d, %d calls", bleak_client_is_connected(c), disconnected_calls - before);
  /* bluetoothd's shutdown drops the link before it leaves the bus: its
   * NameOwnerChanged heard first (a connect during which bluetoothd
   * leaves waits a few seconds for a restart). */
  bleak_loop_run_until(s->loop, &(bool){false}, 500);
  uint64_t t0 = bleak_loop_now_ms(s->loop);
  r = bleak_client_connect(c);
  uint64_t took = bleak_loop_now_ms(s->loop) - t0;
  CHECK("connect without bluetoothd fails fast with a clear error",
        r == BLEAK_ERR_NO_BLUETOOTHD && took < 2000, "%s after %llu ms", err(r),
        (unsigned long long)took);
  r = system(BLUETOOTHD_START("2"));
  /* Earlier runs restarted bluetoothd while the old one still held the bus
   * name (the new one then exits): now it is gone for sure.
   * CONFORMANCE_RESTART=0 skips the reconnect. */
  const char *want_back = getenv("CONFORMANCE_RESTART");
  if (want_back && !strcmp(want_back, "0"))
    want_back = NULL;
  else
    want_back = "1";
  for (int attempt = 1; want_back && attempt <= 4; attempt++) {
    bleak_loop_run_until(s->loop, &(bool){false}, 2000); /* bluetoothd starting */
    r = bleak_client_connect(c);
    if (r == 0)
      break;
    printf("# reconnect attempt %d: %s\n", attempt, err(r));
  }
  if (want_back)
    CHECK("bluetoothd back: connect works again", r == 0, "%s", err(r));
  if (want_back && r == 0)
    check_restart_during_connect(s);
  else /* give bluetoothd and the fixture time to come back */
    for (int i = 0; i < 10 && system("busctl --system status org.bluez >/dev/null 2>&1"); i++)
      bleak_loop_run_until(s->loop, &(bool){false}, 500);
}

/* A connect to an address nobody advertises: DEVICE_NOT_FOUND. Frees the
 * client under test first; there is none after it. */
static void check_unknown_address(suite *s) {
  bleak_client_free(s->c);
  s->c = NULL;
  bleak_client_options o2 = s->opts;
  o2.timeout_ms = 4000;
  int r = bleak_client_new("00:11:22:33:44:55", &o2, &s->c);
  if (r == 0)
    r = bleak_client_connect(s->c);
  CHECK("connect to an unknown address: DEVICE_NOT_FOUND", r == BLEAK_ERR_DEVICE_NOT_FOUND, "%s", err(r));
  bleak_client_free(s->c);
  s->c = NULL;
}

/* Many connects in a row, each a single bleak_client_connect (the
 * library's own retries only, no test-level retry), with a read each time,
 * while the fixture re-advertises: what Bleak users wrap in
 * bleak-retry-connector. */
static void check_many_connects(suite *s) {
  enum { CYCLES = 8 };
  int ok = 0, first_err = 0;
  for (int i = 0; i < CYCLES && s->c; i++) {
    int r = bleak_client_is_connected(s->c) ? 0 : bleak_client_connect(s->c);
    const bleak_gatt_characteristic *lvl = NULL;
    uint8_t v[4];
    size_t n = 0;
    if (r == 0)
      r = bleak_client_char_by_uuid(s->c, "2a19", &lvl);
    if (r == 0)
      r = bleak_client_read_gatt_char(s->c, lvl, v, sizeof v, &n);
    if (r == 0)
      r = bleak_client_disconnect(s->c);
    if (r == 0)
      ok++;
    else if (!first_err) {
      first_err = r;
      printf("#   cycle %d: %s (%s)\n", i + 1, err(r), bleak_error_detail());
    }
  }
  CHECK("8 connect/read/disconnect cycles in a row, no retries but the library's", ok == CYCLES,
        "%d of %d, first failure %s", ok, CYCLES, err(first_err));
}

/* Bleak's services= filter: a client that asks for Battery gets only
 * Battery. It stays the client under test. */
static void check_services_filter(suite *s) {
  bleak_uuid only = bleak_uuid_from_u16(0x180f);
  bleak_client_options of = s->opts;
  of.services = &only;
  of.n_services = 1;
  int r = bleak_client_new(s->address, &of, &s->c);
  if (r == 0)
    r = connect_retry(s->c);
  bleak_gatt_services *svcs = bleak_client_services(s->c);
  CHECK("the services filter keeps only Battery",
        r == 0 && bleak_gatt_services_count(svcs) == 1 &&
            bleak_uuid_equal(bleak_gatt_service_uuid(bleak_gatt_services_at(svcs, 0)), &only),
        "%s, %zu services", err(r), bleak_gatt_services_count(svcs));
}

/* Two clients on two peripherals, one loop, async calls in parallel: the
 * second connects while the first is connected, both get notifications.
 * The first client, again without the services filter, stays the client
 * under test. */
static void check_two_clients(suite *s) {
  bleak_client *c2 = NULL;
  bleak_client_options o3 = s->opts;
  o3.services = NULL;
  o3.n_services = 0;
  o3.disconnected_callback = NULL;
  /* The first client again, without the services filter (heart rate);
   * disconnected first and waited for: freeing disconnects without
   * waiting, and a connect meanwhile would find the old link going. */
  bleak_client_disconnect(s->c);
  bleak_client_free(s->c);
  s->c = NULL;
  int r = bleak_client_new(s->address, &o3, &s->c);
  bleak_client *c = s->c;
  if (r == 0)
    r = connect_retry(c);
  if (s->second_adapter)
    o3.adapter = s->second_adapter;
  if (s->second_hci)
    o3.hci_transport = s->second_hci;
  if (r == 0)
    r = bleak_client_new(s->second, &o3, &c2);
  async_wait w2 = {0};
  /* c2 connects while c is connected. */
  if (r == 0) {
    bleak_client_connect_async(c2, on_async, &w2);
    while (!w2.done)
      bleak_loop_run_once(s->loop, -1);
  }
  CHECK("a second client connects while the first is connected",
        r == 0 && w2.status == 0 && bleak_client_is_connected(c), "%s / %s", err(r), err(w2.status));
  notes n1 = {0}, n2 = {0};
  const bleak_gatt_characteristic *h1 = NULL, *h2 = NULL;
  bleak_client_char_by_uuid(c, "2a37", &h1);
  bleak_client_char_by_uuid(c2, "2a37", &h2);
  if (h1 && h2) {
    bleak_client_start_notify(c, h1, on_notify, &n1);
    bleak_client_start_notify(c2, h2, on_notify, &n2);
    wait_notes(s->loop, &n1, 3, 15000);
    wait_notes(s->loop, &n2, 3, 15000);
  }
  CHECK("both get their heart-rate notifications", n1.count >= 3 && n2.count >= 3,
        "%d and %d", n1.count, n2.count);
  bleak_client_free(c2);
}


/* unpair: it also disconnects (and on hci removes the bond file). Frees
 * the client under test. */
static void check_unpair(suite *s) {
  /* Unpair last: the peripheral's side of the shared bluetoothd keeps its
   * half of the bond, which spoils later connections in this guest. */
  int r = bleak_client_unpair(s->c);
  CHECK("unpair (also disconnects)",
        r == 0 && !bleak_client_is_connected(s->c) && (s->bluez || bond_files() == 0), "%s",
        err(r));
  bleak_client_free(s->c);
  s->c = NULL;
}

/* Pairing with a user agent: the pairing callback gets the numeric
 * comparison or passkey; unpair again. */
static void check_pairing_callback(suite *s) {
  /* Both sides here have KeyboardDisplay agents (bluetoothd asks ours for
   * both), so LE Secure Connections does numeric comparison, and the
   * question reaches the callback. */
  bleak_client_options o4 = s->opts;
  o4.services = NULL;
  o4.n_services = 0;
  o4.disconnected_callback = NULL;
  o4.pairing_callback = on_pairing_request;
  o4.pairing_user_data = &pairing_asked;
  int r = bleak_client_new(s->address, &o4, &s->c);
  if (r == 0)
    r = connect_retry(s->c);
  if (r == 0)
    r = bleak_client_pair(s->c);
  CHECK("pair with a pairing callback: numeric comparison or passkey reaches it",
        r == 0 && pairing_asked.count > 0 && pairing_asked.last != BLEAK_PAIRING_AUTHORIZE,
        "%s, %d requests, last %d (passkey %06u)", err(r), pairing_asked.count,
        (int)pairing_asked.last, pairing_asked.passkey);
  printf("#   pairing: %d requests to the callback, last kind %d\n", pairing_asked.count,
         (int)pairing_asked.last);
  if (r == 0) {
    r = bleak_client_unpair(s->c);
    CHECK("unpair again", r == 0, "%s", err(r));
  }
}

/* On the host against bleak-vctl (tests/vctl/conformance-vctl.sh), what the
 * virtual controller does not do (SMP and LE encryption) is skipped, said
 * on a "# skip" line; the guest runs never skip. */
static int skipped;
static bool skip_on_vctl(const suite *s, const char *what) {
  if (!s->vctl)
    return false;
  printf("# skip %s: the virtual controller has no SMP or LE encryption\n", what);
  skipped++;
  return true;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: conformance ADDRESS [--adapter hciN] [--hci TRANSPORT] "
                    "[--second ADDRESS2 [--second-adapter hciM] [--second-hci TRANSPORT]]\n");
    return 2;
  }
  suite s = {.address = argv[1]};
  bleak_client_options_init(&s.opts);
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--adapter"))
      s.opts.adapter = argv[i + 1];
    else if (!strcmp(argv[i], "--hci"))
      s.opts.hci_transport = argv[i + 1];
    else if (!strcmp(argv[i], "--second-hci"))
      s.second_hci = argv[i + 1];
    else if (!strcmp(argv[i], "--second"))
      s.second = argv[i + 1];
    else if (!strcmp(argv[i], "--second-adapter"))
      s.second_adapter = argv[i + 1];
  }
  s.opts.timeout_ms = 20000;
  s.opts.disconnected_callback = on_disconnected;
  s.loop = bleak_loop_default();
  const char *vctl = getenv("CONFORMANCE_VCTL");
  s.vctl = vctl && !strcmp(vctl, "1");

  if (!check_client_new(&s))
    goto out;
  /* What differs between backends: Service Changed, bonds and bluetoothd restarts. */
  s.bluez = !strcmp(bleak_client_backend_id(s.c), "bluez");
  check_scanner(&s);
  if (!check_connect(&s))
    goto out;
  check_reads(&s);
  check_writes(&s);
  check_notifications(&s);
  check_bleak3_additions(&s);
  check_client_name(&s);
  check_descriptors(&s);
  check_write_without_response(&s);
  check_indications(&s);
  check_notification_burst(&s);
  check_get_services(&s);
  if (!s.bluez)
    check_service_changed(&s);
  if (!skip_on_vctl(&s, "encryption and pairing"))
    check_encryption_and_pair(&s);
  if (!s.bluez && !skip_on_vctl(&s, "the bond used by a new client"))
    check_bond_used(&s);
  check_disconnect(&s);
  check_peripheral_disconnect(&s);
  check_drop_mid_stream(&s);
  check_drop_during_discovery(&s);
  if (s.bluez)
    check_bluetoothd_restart(&s);
  check_unknown_address(&s);
  check_services_filter(&s);
  if (s.second)
    check_two_clients(&s);
  /* After the two clients: a bluetoothd 5.66 left with a connect "in
   * progress" by the cycles failed them in one guest run. */
  check_many_connects(&s);
  check_unpair(&s);
  if (!skip_on_vctl(&s, "pairing with a pairing callback"))
    check_pairing_callback(&s);
out:
  bleak_client_free(s.c);
  bleak_loop_free(s.loop);
  printf("1..%d\n%d passed, %d failed\n", passed + failed, passed, failed);
  if (skipped)
    printf("# %d groups skipped\n", skipped);
  return failed ? 1 : 0;
}
