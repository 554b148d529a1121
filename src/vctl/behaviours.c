/* SPDX-License-Identifier: MIT */
/*
 * What a virtual peripheral does besides storing values: the behaviours of
 * peripheral_priv.h, generic ones (notify_stream, echo, counter) and the
 * guest fixture's (tests/vm/fixture/peripheral.py, reproduced here so that
 * the conformance suite runs against either: heart rate, the control point
 * b1e50005 and its commands, the indication on subscribe), and the
 * benchmark peripheral's control point (bench/bench_peripheral.py), so that
 * make bench's clients run against either. Time comes in as now; what is
 * due next goes out through vctl_bhv_deadline.
 */
#include <stdio.h>
#include <string.h>

#include "bleak/error.h"
#include "core/internal.h"
#include "vctl/att_conn_priv.h"

#define FIXTURE(n) {0xb1, 0xe5, 0x00, n, 0x7e, 0x57, 0x4c, 0x0d, 0x9e, 0x00, 0, 0, 0, 0, 0, 1}
#define NUS(n)                                                                                 \
  {0x6e, 0x40, 0x00, n, 0xb5, 0xa3, 0xf3, 0x93, 0xe0, 0xa9, 0xe5, 0x0e, 0x24, 0xdc, 0xca, 0x9e}

/* The fixture's pacing: a burst goes 20 notifications a slice, a slice
 * every millisecond (peripheral.py sends 20 per GLib idle call); control
 * 05 drops the links a moment after its answer, as peripheral.py's 50 ms
 * timer does (here 20 ms: the answer is out first either way). */
#define BURST_SLICE 20
#define BURST_SLICE_MS 1
#define DISCONNECT_DELAY_MS 20
/* A stream at "as fast as the link takes" sends this many a call, then
 * lets the controller's loop run (deadline now). */
#define STREAM_BATCH 64

static const bleak_uuid fixture_burst = {FIXTURE(0x06)};
static const bleak_uuid fixture_indicator = {FIXTURE(0x07)};
static const bleak_uuid fixture_extra_service = {FIXTURE(0xf0)};
static const bleak_uuid fixture_extra_char = {FIXTURE(0xf1)};

bool vctl_behaviour_default(const bleak_uuid *uuid, vctl_behaviour *out) {
  static const struct {
    bleak_uuid uuid;
    vctl_behaviour_kind kind;
    bleak_uuid target;
    bool has_target, upper;
  } table[] = {
      {{FIXTURE(0x03)}, VCTL_BHV_COUNTER, {FIXTURE(0x04)}, true, false},
      {{FIXTURE(0x05)}, VCTL_BHV_FIXTURE_CONTROL, {{0}}, false, false},
      {{FIXTURE(0x07)}, VCTL_BHV_INDICATE_ON_SUBSCRIBE, {{0}}, false, false},
      {{NUS(0x02)}, VCTL_BHV_ECHO, {NUS(0x03)}, true, true},
  };
  memset(out, 0, sizeof *out);
  bleak_uuid hr = bleak_uuid_from_u16(0x2a37);
  if (bleak_uuid_equal(uuid, &hr)) {
    out->kind = VCTL_BHV_HEART_RATE;
    out->period_ms = 200;
    return true;
  }
  for (size_t i = 0; i < BK_ARRAY_SIZE(table); i++)
    if (bleak_uuid_equal(uuid, &table[i].uuid)) {
      out->kind = table[i].kind;
      out->target_uuid = table[i].target;
      out->has_target = table[i].has_target;
      out->upper = table[i].upper;
      return true;
    }
  return false;
}

static vctl_behaviour *behaviour_of(vctl_peripheral *p, uint16_t value_handle, int *index);

static void stats_publish(vctl_peripheral *p, vctl_behaviour *b) {
  vctl_attr *s = vctl_db_find(&p->db, b->target);
  vctl_behaviour *sb = behaviour_of(p, b->target, NULL);
  if (!s || (sb && sb->kind == VCTL_BHV_BENCH_CONTROL))
    return; /* a bench control makes its JSON when it is read */
  uint8_t v[16];
  bk_put_le32(v, b->stats.packets);
  bk_put_le32(v + 4, b->stats.bytes);
  bk_put_le32(v + 8, b->stats.lost);
  bk_put_le32(v + 12, b->stats.reordered);
  vctl_attr_set(s, v, sizeof v);
}

int vctl_behaviours_bind(vctl_peripheral *p, char *err, size_t errlen) {
  for (size_t i = 0; i < p->n_behaviours; i++) {
    vctl_behaviour *b = &p->behaviours[i];
    if (!b->has_target || b->kind == VCTL_BHV_NONE)
      continue;
    vctl_attr *t = vctl_db_char_by_uuid(&p->db, &b->target_uuid, 0);
    if (!t) {
      char u[BLEAK_UUID_STR_LEN], h[BLEAK_UUID_STR_LEN];
      const vctl_attr *a = vctl_db_find(&p->db, b->handle);
      snprintf(err, errlen, "the behaviour of %s names %s, which the database lacks",
               bleak_uuid_to_string(&a->type, h), bleak_uuid_to_string(&b->target_uuid, u));
      return -1;
    }
    b->target = t->handle;
    if (b->kind == VCTL_BHV_COUNTER)
      stats_publish(p, b);
  }
  /* A value cycle starts at its first value. */
  for (size_t i = 0; i < p->n_behaviours; i++) {
    vctl_behaviour *b = &p->behaviours[i];
    if (b->kind == VCTL_BHV_VALUE_CYCLE)
      vctl_attr_set(vctl_db_find(&p->db, b->handle), b->cycle[0], b->cycle_len[0]);
  }
  return 0;
}

static vctl_behaviour *behaviour_of(vctl_peripheral *p, uint16_t value_handle, int *index) {
  vctl_attr *a = vctl_db_find(&p->db, value_handle);
  if (!a || a->kind != VCTL_ATTR_CHAR_VALUE || a->behaviour < 0 ||
      (size_t)a->behaviour >= p->n_behaviours)
    return NULL;
  if (index)
    *index = a->behaviour;
  return &p->behaviours[a->behaviour];
}

/* -- the fixture's commands -- */

static void indicate_once(vctl_peripheral *p) {
  vctl_attr *a = vctl_db_char_by_uuid(&p->db, &fixture_indicator, 0);
  if (!a)
    return;
  uint8_t v = a->len ? (uint8_t)(a->value[0] + 1) : 1;
  vctl_attr_set(a, &v, 1);
  vctl_att_notify_all(p, a->handle, &v, 1);
}

static void counter_reset(vctl_peripheral *p) {
  for (size_t i = 0; i < p->n_behaviours; i++)
    if (p->behaviours[i].kind == VCTL_BHV_COUNTER) {
      memset(&p->behaviours[i].stats, 0, sizeof p->behaviours[i].stats);
      stats_publish(p, &p->behaviours[i]);
    }
}

/* A burst of @p count sequence-numbered notifications of @p len (4..512,
 * and at most MTU - 3 unless @p paced: the fixture's are cut to the MTU
 * as it sends them) on @p handle, to every connection subscribed to it. */
static void start_burst(vctl_peripheral *p, uint16_t handle, uint32_t count, uint16_t len,
                        bool paced, uint64_t now) {
  len = len < 4 ? 4 : len > 512 ? 512 : len;
  for (size_t i = 0; i < p->n_conns; i++) {
    vctl_att_conn *c = p->conns[i];
    if (!(vctl_att_cccd(c, handle) & 1))
      continue;
    c->burst.on = count > 0;
    c->burst.paced = paced;
    c->burst.handle = handle;
    c->burst.seq = 0;
    c->burst.count = count;
    c->burst.len = paced || len <= c->mtu - 3 ? len : (uint16_t)(c->mtu - 3); /* MTU >= 23 */
    c->burst.next_at = now;
  }
}

/* Control 07: a service at the end of the database, as BlueZ adds a
 * second application's; Service Changed says where. */
static void add_extra_service(vctl_peripheral *p) {
  if (p->extra_start)
    return;
  p->extra_count++;
  static const uint8_t extra[] = "extra";
  uint16_t start = vctl_db_add_service(&p->db, &fixture_extra_service, true);
  if (!start)
    return;
  if (!vctl_db_add_char(&p->db, &fixture_extra_char, VCTL_PROP_READ, 0, VCTL_PERM_READ, extra,
                        sizeof extra - 1)) {
    vctl_db_close(&p->db);
    (void)vctl_db_remove_service(&p->db, start);
    return;
  }
  vctl_db_close(&p->db);
  p->extra_start = start;
  vctl_att_service_changed(p, start, vctl_db_find(&p->db, start)->end);
}

static void remove_extra_service(vctl_peripheral *p) {
  uint16_t start = p->extra_start;
  uint16_t end = start ? vctl_db_remove_service(&p->db, start) : 0;
  p->extra_start = 0;
  if (end)
    vctl_att_service_changed(p, start, end);
}

/* peripheral.py's control(): a command it does not know, or one too
 * short, is its InvalidArgs, which BlueZ answers Unlikely Error; an empty
 * write is InvalidValueLength. */
static uint8_t control_check(const uint8_t *v, size_t len) {
  if (!len)
    return BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
  switch (v[0]) {
  case 0x01: case 0x03: case 0x05: case 0x06: case 0x07: case 0x08:
    return 0;
  case 0x02:
    return len >= 5 ? 0 : BLEAK_ATT_UNLIKELY;
  case 0x04:
    return len >= 2 ? 0 : BLEAK_ATT_UNLIKELY;
  default:
    return BLEAK_ATT_UNLIKELY;
  }
}

static void control(vctl_att_conn *c, const uint8_t *v, size_t len, uint64_t now) {
  vctl_peripheral *p = c->p;
  if (control_check(v, len))
    return;
  switch (v[0]) {
  case 0x01:
    counter_reset(p);
    break;
  case 0x02: {
    vctl_attr *a = vctl_db_char_by_uuid(&p->db, &fixture_burst, 0);
    if (a)
      start_burst(p, a->handle, bk_get_le16(v + 1), bk_get_le16(v + 3), true, now);
    break;
  }
  case 0x03:
    indicate_once(p);
    break;
  case 0x04: {
    bleak_uuid bl = bleak_uuid_from_u16(0x2a19);
    vctl_attr *a = vctl_db_char_by_uuid(&p->db, &bl, 0);
    if (a) {
      vctl_attr_set(a, v + 1, 1);
      vctl_att_notify_all(p, a->handle, v + 1, 1);
    }
    break;
  }
  case 0x05:
    for (size_t i = 0; i < p->n_conns; i++)
      if (p->conns[i]->disconnect_at == VCTL_NEVER)
        p->conns[i]->disconnect_at = now + DISCONNECT_DELAY_MS;
    break;
  case 0x06:
    p->drop_next = true;
    break;
  case 0x07:
    add_extra_service(p);
    break;
  default: /* 0x08 */
    remove_extra_service(p);
    break;
  }
}

/* -- the benchmark peripheral's control point -- */

/* bench_peripheral.py's control(): 01 resets the counters, 02 count:u32
 * size:u16 starts a burst on the behaviour's target; an empty write is
 * Invalid Attribute Value Length, anything else its InvalidArgs. */
static uint8_t bench_check(const uint8_t *v, size_t len) {
  if (!len)
    return BLEAK_ATT_INVALID_ATTRIBUTE_VALUE_LENGTH;
  if (v[0] == 0x01 || (v[0] == 0x02 && len >= 7))
    return 0;
  return BLEAK_ATT_UNLIKELY;
}

static void bench_control(vctl_att_conn *c, const vctl_behaviour *b, const uint8_t *v,
                          uint64_t now) {
  if (v[0] == 0x01) {
    counter_reset(c->p);
    for (size_t i = 0; i < c->p->n_conns; i++)
      if (!c->p->conns[i]->burst.on)
        c->p->conns[i]->burst.seq = 0;
    return;
  }
  start_burst(c->p, b->target, bk_get_le32(v + 1), bk_get_le16(v + 5), false, now);
}

/* The counters as bench_peripheral.py's JSON (bench_client.c and
 * bleak_bench.py read it): the counter whose stats are this
 * characteristic, this connection's burst and MTU. Times in seconds of
 * the peripheral's clock; gaps: packets lost plus packets reordered. */
static void bench_stats(vctl_att_conn *c, vctl_attr *a) {
  static const vctl_counter_stats none;
  const vctl_counter_stats *s = &none;
  for (size_t i = 0; i < c->p->n_behaviours; i++) {
    const vctl_behaviour *k = &c->p->behaviours[i];
    if (k->kind == VCTL_BHV_COUNTER && k->target == a->handle)
      s = &k->stats;
  }
  char json[256];
  int n = snprintf(json, sizeof json,
                   "{\"wwr_packets\": %lu, \"wwr_bytes\": %lu, \"wwr_gaps\": %lu, "
                   "\"wwr_first\": %.3f, \"wwr_last\": %.3f, \"notify_sent\": %lu, "
                   "\"mtu\": %u}",
                   (unsigned long)s->packets, (unsigned long)s->bytes,
                   (unsigned long)s->lost + s->reordered, (double)s->first_ms / 1e3,
                   (double)s->last_ms / 1e3, (unsigned long)c->burst.seq, (unsigned)c->mtu);
  if (n > 0 && (size_t)n < sizeof json)
    vctl_attr_set(a, (const uint8_t *)json, (size_t)n);
}

/* -- the ATT server's calls -- */

void vctl_bhv_before_read(vctl_att_conn *c, vctl_attr *a) {
  vctl_behaviour *b = behaviour_of(c->p, a->handle, NULL);
  if (b && b->kind == VCTL_BHV_BENCH_CONTROL)
    bench_stats(c, a);
}

uint8_t vctl_bhv_check_write(vctl_att_conn *c, const vctl_attr *a, const uint8_t *v, size_t len,
                             bool *store) {
  vctl_behaviour *b = behaviour_of(c->p, a->handle, NULL);
  *store = true;
  if (!b)
    return 0;
  switch (b->kind) {
  case VCTL_BHV_FIXTURE_CONTROL:
    *store = false;
    return control_check(v, len);
  case VCTL_BHV_BENCH_CONTROL:
    *store = false;
    return bench_check(v, len);
  case VCTL_BHV_COUNTER:
  case VCTL_BHV_ECHO:
    *store = false; /* the fixture's on_write keeps nothing */
    return 0;
  default:
    return 0;
  }
}

static void count_write(vctl_counter_stats *s, const uint8_t *v, size_t len, uint64_t now) {
  if (!s->packets)
    s->first_ms = now;
  s->last_ms = now;
  s->packets++;
  s->bytes += (uint32_t)len;
  if (len < 4)
    return;
  /* "lost": gaps seen when a later packet arrives; "reordered": packets
   * that came after a later one (they fill a gap). */
  uint32_t seq = bk_get_le32(v);
  if (s->has_seq && seq != s->next_seq) {
    if (seq > s->next_seq)
      s->lost += seq - s->next_seq;
    else
      s->reordered++;
  }
  if (!s->has_seq || seq >= s->next_seq) {
    s->next_seq = seq + 1;
    s->has_seq = true;
  }
}

void vctl_bhv_written(vctl_att_conn *c, vctl_attr *a, const uint8_t *v, size_t len,
                      uint64_t now) {
  vctl_behaviour *b = behaviour_of(c->p, a->handle, NULL);
  if (!b)
    return;
  switch (b->kind) {
  case VCTL_BHV_COUNTER:
    count_write(&b->stats, v, len, now);
    stats_publish(c->p, b);
    break;
  case VCTL_BHV_ECHO: {
    uint8_t out[VCTL_ATTR_MAX_LEN];
    for (size_t i = 0; i < len; i++)
      out[i] = b->upper && v[i] >= 'a' && v[i] <= 'z' ? (uint8_t)(v[i] - 'a' + 'A') : v[i];
    vctl_att_notify_all(c->p, b->target, out, len);
    break;
  }
  case VCTL_BHV_FIXTURE_CONTROL:
    control(c, v, len, now); /* may change the database: a is not used after */
    break;
  case VCTL_BHV_BENCH_CONTROL:
    bench_control(c, b, v, now);
    break;
  default:
    break;
  }
}

void vctl_bhv_subscribed(vctl_att_conn *c, uint16_t value_handle, uint16_t value, uint64_t now) {
  int i;
  vctl_behaviour *b = behaviour_of(c->p, value_handle, &i);
  if (!b)
    return;
  vctl_stream *s = &c->streams[i];
  switch (b->kind) {
  case VCTL_BHV_HEART_RATE:
    if (value && !s->running)
      s->next_at = now + b->period_ms;
    s->running = value != 0;
    break;
  case VCTL_BHV_NOTIFY_STREAM:
    if (value && !s->running) {
      s->next_at = now;
      s->seq = 0;
    }
    s->running = value != 0;
    break;
  case VCTL_BHV_INDICATE_ON_SUBSCRIBE:
    if (value)
      indicate_once(c->p);
    break;
  default:
    break;
  }
}

uint64_t vctl_bhv_deadline(const vctl_att_conn *c) {
  uint64_t d = VCTL_NEVER;
  for (size_t i = 0; i < c->p->n_behaviours; i++) /* shared clocks: any connection runs them */
    if (c->p->behaviours[i].kind == VCTL_BHV_VALUE_CYCLE && c->p->behaviours[i].cycle_next < d)
      d = c->p->behaviours[i].cycle_next;
  bool room = vctl_att_room(c); /* streams that wait for room wait for writable */
  for (size_t i = 0; i < c->p->n_behaviours; i++) {
    const vctl_stream *s = &c->streams[i];
    const vctl_behaviour *b = &c->p->behaviours[i];
    if (!s->running || s->next_at >= d)
      continue;
    if (b->kind == VCTL_BHV_HEART_RATE)
      d = s->next_at; /* its notifications wait in the queue */
    else if (room && ((vctl_att_cccd(c, b->handle) & 1) || vctl_att_indication_idle(c)))
      d = s->next_at; /* (a stream of indications goes on at the confirmation) */
  }
  if (c->burst.on && room && c->burst.next_at < d)
    d = c->burst.next_at;
  return d;
}

/* 4-byte LE sequence number, then (seq + i) & 0xff (the fixture's burst). */
static size_t sequenced(uint8_t *out, size_t len, uint32_t seq, bool with_seq) {
  size_t at = 0;
  if (with_seq && len >= 4) {
    bk_put_le32(out, seq);
    at = 4;
  }
  for (size_t i = 0; at < len; i++, at++)
    out[at] = (uint8_t)(seq + i);
  return len;
}

static void run_heart_rate(vctl_att_conn *c, const vctl_behaviour *b, vctl_stream *s,
                           uint64_t now) {
  if (!vctl_att_cccd(c, b->handle)) {
    s->running = false;
    return;
  }
  if (s->next_at > now)
    return;
  c->p->hr_count++;
  uint8_t v[2] = {0x00, (uint8_t)(60 + c->p->hr_count % 100)};
  (void)vctl_att_notify(c, b->handle, v, sizeof v);
  s->next_at += b->period_ms;
  if (s->next_at <= now) /* the clock jumped: no catching up */
    s->next_at = now + b->period_ms;
}

static void run_stream(vctl_att_conn *c, const vctl_behaviour *b, vctl_stream *s, uint64_t now) {
  uint16_t cccd = vctl_att_cccd(c, b->handle);
  if (!cccd || (b->count && s->seq >= b->count)) {
    s->running = false;
    return;
  }
  uint8_t v[VCTL_ATTR_MAX_LEN];
  size_t size = b->size ? b->size : (size_t)c->mtu - 3;
  for (int sent = 0; s->next_at <= now && (!b->count || s->seq < b->count); sent++) {
    if (sent == STREAM_BATCH) { /* let the loop run; on at once */
      s->next_at = now;
      return;
    }
    sequenced(v, size, s->seq, b->sequence);
    bool ok;
    if (cccd & 1)
      ok = vctl_att_try_notify(c, b->handle, v, size);
    else if ((ok = vctl_att_indication_idle(c) && vctl_att_room(c)))
      (void)vctl_att_notify(c, b->handle, v, size);
    if (!ok)
      return; /* at writable (or the confirmation) */
    s->seq++;
    if (b->period_ms) {
      s->next_at += b->period_ms;
      if (s->next_at + 1000 < now) /* far behind: no flood to catch up */
        s->next_at = now;
    }
  }
}

/* A paced burst (the fixture's) sends a slice a millisecond; the bench's
 * goes as fast as the link takes, a batch a call. */
static void run_burst(vctl_att_conn *c, uint64_t now) {
  if (!vctl_db_find(&c->p->db, c->burst.handle) || !(vctl_att_cccd(c, c->burst.handle) & 1)) {
    c->burst.on = false;
    return;
  }
  if (c->burst.next_at > now)
    return;
  uint8_t v[VCTL_ATTR_MAX_LEN];
  int slice = c->burst.paced ? BURST_SLICE : STREAM_BATCH;
  for (int i = 0; i < slice && c->burst.seq < c->burst.count; i++) {
    sequenced(v, c->burst.len, c->burst.seq, true);
    if (!vctl_att_try_notify(c, c->burst.handle, v, c->burst.len))
      return; /* at writable */
    c->burst.seq++;
  }
  c->burst.on = c->burst.seq < c->burst.count;
  c->burst.next_at = c->burst.paced ? now + BURST_SLICE_MS : now;
}

/* The next value, once a period, to every subscriber of any connection
 * (the first connection whose tick finds it due moves it on). */
static void run_cycle(vctl_att_conn *c, vctl_behaviour *b, uint64_t now) {
  if (b->cycle_next > now)
    return;
  if (b->cycle_next) { /* 0: the first tick only starts the clock */
    b->cycle_at = (uint8_t)((b->cycle_at + 1) % b->n_cycle);
    (void)vctl_peripheral_set_value(c->p, b->handle, b->cycle[b->cycle_at],
                                    b->cycle_len[b->cycle_at], true);
  }
  b->cycle_next = now + b->period_ms;
}

void vctl_bhv_run(vctl_att_conn *c, uint64_t now) {
  for (size_t i = 0; i < c->p->n_behaviours && !c->dead; i++)
    if (c->p->behaviours[i].kind == VCTL_BHV_VALUE_CYCLE)
      run_cycle(c, &c->p->behaviours[i], now);
  for (size_t i = 0; i < c->p->n_behaviours && !c->dead; i++) {
    const vctl_behaviour *b = &c->p->behaviours[i];
    vctl_stream *s = &c->streams[i];
    if (!s->running)
      continue;
    if (b->kind == VCTL_BHV_HEART_RATE)
      run_heart_rate(c, b, s, now);
    else if (b->kind == VCTL_BHV_NOTIFY_STREAM && vctl_att_room(c))
      run_stream(c, b, s, now);
  }
  if (c->burst.on && !c->dead && vctl_att_room(c))
    run_burst(c, now);
}
