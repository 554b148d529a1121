/* SPDX-License-Identifier: MIT */
/*
 * Inside a virtual peripheral (peripheral.h): its advertising, its GATT
 * database, its behaviours and the ATT connections open to it. Shared by
 * the loader (peripheral_json.c), the ATT server (att_server.c) and the
 * behaviours (behaviours.c).
 */
#ifndef BLEAK_VCTL_PERIPHERAL_PRIV_H
#define BLEAK_VCTL_PERIPHERAL_PRIV_H

#include "vctl/att_server.h"
#include "vctl/gatt_db.h"
#include "vctl/peripheral.h"

typedef enum vctl_behaviour_kind {
  VCTL_BHV_NONE,          /* replaced by "none": does nothing */
  VCTL_BHV_HEART_RATE,    /* every period_ms while subscribed: 00, 60 + n % 100 */
  VCTL_BHV_NOTIFY_STREAM, /* while subscribed: size bytes every period_ms (0: link speed) */
  VCTL_BHV_ECHO,          /* what is written is notified on target (upper: upper-cased) */
  VCTL_BHV_COUNTER,       /* counts writes, checks their sequence numbers; stats in target */
  VCTL_BHV_FIXTURE_CONTROL, /* the guest fixture's control point (tests/vm/README.md) */
  VCTL_BHV_INDICATE_ON_SUBSCRIBE, /* value + 1, indicated on subscribe and on control 03 */
  VCTL_BHV_VALUE_CYCLE,   /* every period_ms the next of values, notified to subscribers */
  VCTL_BHV_BENCH_CONTROL, /* bench/bench_peripheral.py's control point; bursts on target */
} vctl_behaviour_kind;

/* What a counter has seen (the fixture's c(3)): its stats characteristic
 * reads <IIII packets, bytes, lost, reordered (or, when that is a
 * bench_control, the bench's JSON, with the times of the first and last
 * packet). */
typedef struct vctl_counter_stats {
  uint32_t packets, bytes, lost, reordered, next_seq;
  bool has_seq;
  uint64_t first_ms, last_ms;
} vctl_counter_stats;

#define VCTL_CYCLE_MAX 8
#define VCTL_CYCLE_LEN 32

typedef struct vctl_behaviour {
  vctl_behaviour_kind kind;
  uint16_t handle;        /* the characteristic value it belongs to */
  bleak_uuid target_uuid; /* echo, counter: the other characteristic (has_target) */
  bool has_target;
  uint16_t target;        /* its value handle, once bound */
  bool upper;             /* echo */
  uint32_t period_ms;     /* heart_rate, notify_stream */
  uint16_t size;          /* notify_stream: bytes (0: MTU - 3) */
  bool sequence;          /* notify_stream: a 4-byte LE sequence number first */
  uint32_t count;         /* notify_stream: how many per subscription (0: no end) */
  vctl_counter_stats stats;
  /* value_cycle: the values, and its clock (the peripheral's, not a
   * connection's: the value is shared; 0: starts at the next tick) */
  uint8_t cycle[VCTL_CYCLE_MAX][VCTL_CYCLE_LEN];
  uint8_t cycle_len[VCTL_CYCLE_MAX];
  uint8_t n_cycle, cycle_at;
  uint64_t cycle_next;
} vctl_behaviour;

#define VCTL_NAME_MAX 248 /* GAP Device Name (Core Vol 3 Part C 12.1) */

struct vctl_peripheral {
  vctl_adv adv;
  char name[VCTL_NAME_MAX + 1];
  uint16_t appearance;
  uint16_t mtu; /* the largest ATT MTU its server accepts */
  vctl_gatt_db db;
  vctl_behaviour *behaviours;
  size_t n_behaviours;
  /* The fixture's state that outlives connections (peripheral.py's). */
  uint32_t hr_count;
  bool drop_next;        /* control 06 */
  uint16_t extra_start;  /* control 07's service, or 0 */
  unsigned extra_count;
  vctl_att_faults faults; /* what each new connection starts with */
  vctl_write_observer observer;
  void *observer_ctx;
  /* Open connections, for what reaches all of them (notifications of a
   * shared value, Service Changed, control 05). */
  vctl_att_conn **conns;
  size_t n_conns, cap_conns;
};

/* A new, empty peripheral: name, defaults (public address 0, connectable,
 * legacy, 100 ms, MTU 517), GAP and GATT services not yet added. */
vctl_peripheral *vctl_peripheral_new(void);
void vctl_peripheral_free(vctl_peripheral *p);
/* Add BlueZ's own services first: GAP 0x1800 (Device Name = p->name,
 * Appearance) at 0x0001-0x0005 and GATT 0x1801 (Service Changed + CCCD,
 * Client Supported Features, Database Hash, Server Supported Features) at
 * 0x0006-0x000f. 0 or -1 (out of memory). */
int vctl_peripheral_add_builtin_services(vctl_peripheral *p);
/* After the database is complete: bind behaviours to their targets. 0, or
 * -1 with the reason in err (a target UUID the database lacks). */
int vctl_behaviours_bind(vctl_peripheral *p, char *err, size_t errlen);
/* The behaviour a characteristic of @p uuid has when its file names none
 * (the guest fixture's: 2a37 heart rate, b1e5000{3,5,7}, the Nordic UART
 * RX): true and *out filled, else false. */
bool vctl_behaviour_default(const bleak_uuid *uuid, vctl_behaviour *out);

#endif
