/* SPDX-License-Identifier: MIT */
/*
 * The link model of bleak-vctl: how fast the simulated air carries a
 * connection's data, sans-I/O (pure arithmetic on the caller's clock).
 *
 * - `unlimited`: no air at all. A host's ACL packet is delivered to the
 *   peripheral and its buffer credit returned as soon as it arrives, so a
 *   benchmark measures the client, not a radio.
 * - `1m`, `2m` (with options): a modeled LE link. Data moves only at
 *   connection events, every `interval`; each event carries up to `ppe`
 *   LL packets each way of at most the link's data length. A credit comes
 *   back when the last LL packet of its ACL packet went over the air.
 *
 * Spec strings (vctl_link_parse): "unlimited", or "1m" / "2m" followed by
 * comma-separated options: interval=MS (7.5 by default, 7.5..4000),
 * ppe=N (packets per event each way; default: as many as the interval
 * holds), dle=N (largest LL payload, 27..251, default 251), mtu=N (the
 * ATT MTU the printed limit assumes, 23..517, default 247).
 */
#ifndef BLEAK_VCTL_LINK_MODEL_H
#define BLEAK_VCTL_LINK_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vctl_link_params {
  bool unlimited;
  uint8_t phy;          /* 1 (1M) or 2 (2M): the fastest PHY the model allows */
  uint32_t interval_us; /* connection interval */
  unsigned ppe;         /* LL packets per event each way; 0: as many as fit */
  uint16_t dle;         /* largest LL payload (octets) */
  uint16_t mtu;         /* ATT MTU for vctl_link_limit */
} vctl_link_params;

/* The defaults: unlimited. */
void vctl_link_params_init(vctl_link_params *p);

/* Parse a spec string (see above) into *p. Returns 0, or -1 with a message
 * in err (NUL-terminated, at most errlen bytes). */
int vctl_link_parse(const char *spec, vctl_link_params *p, char *err, size_t errlen);

/* Air time (us) of one LL data packet of @p payload octets on @p phy
 * (1 or 2): preamble, access address, header, payload, CRC. */
uint32_t vctl_link_packet_us(uint8_t phy, uint16_t payload);

/* LL packets per event each way that fit in @p interval_us when each
 * carries @p dle octets one way and an empty packet comes back (T_IFS
 * 150 us after each), at least 1; capped by @p ppe when it is non-zero. */
unsigned vctl_link_packets_per_event(uint8_t phy, uint32_t interval_us, uint16_t dle,
                                     unsigned ppe);

/* The physical limit of a modeled link in bytes of ATT payload per second
 * one way (writes without response or notifications of MTU - 3 bytes, the
 * other way idle), for the ATT MTU @p mtu; 0 for unlimited. */
double vctl_link_limit(const vctl_link_params *p, uint16_t mtu);

/* One line describing the link and its limit ("link 2m: ..."). */
void vctl_link_describe(const vctl_link_params *p, char *out, size_t cap);

/* ---- one connection's air ----
 * A schedule of connection events; the controller asks how many LL packets
 * may go each way at the events due by @p now_us. */
typedef struct vctl_link_clock {
  uint64_t next_us;  /* the next connection event */
  uint32_t interval_us;
  unsigned per_event;
} vctl_link_clock;

/* Start the events at @p now_us (the first one interval later). */
void vctl_link_clock_start(vctl_link_clock *c, uint32_t interval_us, unsigned per_event,
                           uint64_t now_us);
/* The events due by @p now_us: how many passed (the clock moves past
 * them). Each lets per_event LL packets go each way. */
uint64_t vctl_link_clock_advance(vctl_link_clock *c, uint64_t now_us);
/* When the next event is, in ms rounded up. */
uint64_t vctl_link_clock_next_ms(const vctl_link_clock *c);

#endif
