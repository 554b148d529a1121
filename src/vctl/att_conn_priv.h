/* SPDX-License-Identifier: MIT */
/*
 * Inside one ATT connection of a virtual peripheral (att_server.h): what
 * the behaviours (behaviours.c) see of it and call back into.
 */
#ifndef BLEAK_VCTL_ATT_CONN_PRIV_H
#define BLEAK_VCTL_ATT_CONN_PRIV_H

#include "vctl/peripheral_priv.h"

/* One PDU waiting for the controller's room. */
typedef struct vctl_out {
  struct vctl_out *next;
  uint64_t due; /* the delay fault's: when it may go */
  uint16_t len;
  uint8_t pdu[];
} vctl_out;

/* A behaviour's state on this connection (heart rate, streams). */
typedef struct vctl_stream {
  bool running;
  uint64_t next_at;
  uint32_t seq;
} vctl_stream;

typedef struct vctl_prep {
  uint16_t handle, offset, len;
  uint8_t data[VCTL_ATTR_MAX_LEN];
} vctl_prep;

typedef struct vctl_cccd_value {
  uint16_t handle, value;
} vctl_cccd_value;

#define VCTL_OUT_MAX 256 /* PDUs kept while the controller has no room */
#define VCTL_PREP_MAX 128 /* Prepare Write queue (then Prepare Queue Full) */
#define VCTL_NEVER UINT64_MAX

struct vctl_att_conn {
  vctl_peripheral *p;
  vctl_att_io io;
  uint16_t mtu, max_mtu;
  bool encrypted, authenticated;
  uint8_t key_size;
  bool dead;           /* a disconnect was asked for: nothing more in or out */
  bool stalled;        /* a stream's send found no room: wait for writable */
  bool drop_on_request; /* control 06: drop at the first request after MTU */
  uint64_t disconnect_at;
  uint64_t now;        /* the latest time given */
  uint8_t client_features; /* 0x2B29, per connection */
  vctl_cccd_value *cccd;
  size_t n_cccd, cap_cccd;
  vctl_out *head, *tail; /* waiting to go out, in order */
  size_t queued;
  vctl_out *ind_head, *ind_tail; /* indications not sent yet (one in flight at a time) */
  size_t ind_queued;
  bool ind_in_flight;
  vctl_att_faults faults;
  uint32_t pdus_in; /* since the faults were set */
  vctl_out *late_head, *late_tail; /* held by faults.delay_ms, in order */
  size_t late_queued;
  vctl_prep *prep; /* Prepare Write queue */
  size_t n_prep;
  vctl_stream *streams; /* one per behaviour of p */
  struct {
    bool on;
    bool paced;      /* the fixture's 20 a millisecond; else as fast as the link takes */
    uint16_t handle; /* the characteristic value it notifies */
    uint32_t seq, count;
    uint16_t len;
    uint64_t next_at;
  } burst; /* fixture control 02, bench control 02 */
};

/* The connection's CCCD value for the characteristic @p value_handle. */
uint16_t vctl_att_cccd(const vctl_att_conn *c, uint16_t value_handle);
/* Notify (CCCD bit 0) or indicate (bit 1) @p value on @p value_handle, cut
 * to MTU - 3; kept when the controller has no room. False when the client
 * has not subscribed. */
bool vctl_att_notify(vctl_att_conn *c, uint16_t value_handle, const uint8_t *value, size_t len);
/* The same on every connection of @p p. */
void vctl_att_notify_all(vctl_peripheral *p, uint16_t value_handle, const uint8_t *value,
                         size_t len);
/* A stream's notification: sent now or not at all (false: no room, or not
 * subscribed; the stream tries again at vctl_att_conn_writable). */
bool vctl_att_try_notify(vctl_att_conn *c, uint16_t value_handle, const uint8_t *value,
                         size_t len);
/* Indicate Service Changed for start..end to every subscribed connection. */
void vctl_att_service_changed(vctl_peripheral *p, uint16_t start, uint16_t end);
/* True while nothing waits to go out (a stream may send). */
bool vctl_att_room(const vctl_att_conn *c);
/* True while no indication waits for its confirmation. */
bool vctl_att_indication_idle(const vctl_att_conn *c);

/* behaviours.c, called by the ATT server. */
/* A write to @p a (a characteristic value with a behaviour): the ATT error
 * code it refuses with, or 0. *store: whether the value is kept. */
uint8_t vctl_bhv_check_write(vctl_att_conn *c, const vctl_attr *a, const uint8_t *v, size_t len,
                             bool *store);
/* After the write's response went out. */
void vctl_bhv_written(vctl_att_conn *c, vctl_attr *a, const uint8_t *v, size_t len, uint64_t now);
/* A Read Request (not a Read Blob: a long read sees one value) of @p a
 * is about to be answered: a value made when read is made now. */
void vctl_bhv_before_read(vctl_att_conn *c, vctl_attr *a);
/* A CCCD was written: @p value is the characteristic's new setting. */
void vctl_bhv_subscribed(vctl_att_conn *c, uint16_t value_handle, uint16_t value, uint64_t now);
uint64_t vctl_bhv_deadline(const vctl_att_conn *c);
/* Run what is due at @p now (and what waited for room). */
void vctl_bhv_run(vctl_att_conn *c, uint64_t now);

#endif
