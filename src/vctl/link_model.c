/* SPDX-License-Identifier: MIT */
/* The link model of bleak-vctl: see link_model.h. */
#include "vctl/link_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_IFS_US 150

void vctl_link_params_init(vctl_link_params *p) {
  memset(p, 0, sizeof *p);
  p->unlimited = true;
  p->phy = 2;
  p->interval_us = 7500;
  p->dle = 251;
  p->mtu = 247;
}

static int fail(char *err, size_t errlen, const char *spec, const char *why) {
  if (err && errlen)
    snprintf(err, errlen, "--link %s: %s", spec, why);
  return -1;
}

/* One "name=value" option: a number in [lo, hi] (ms may have a fraction). */
static int option(const char *opt, size_t len, const char *name, double lo, double hi,
                  double *out) {
  size_t n = strlen(name);
  if (len <= n + 1 || strncmp(opt, name, n) || opt[n] != '=')
    return 0;
  char buf[32];
  if (len - n - 1 >= sizeof buf)
    return -1;
  memcpy(buf, opt + n + 1, len - n - 1);
  buf[len - n - 1] = '\0';
  char *end;
  double v = strtod(buf, &end);
  if (end == buf || *end || !(v >= lo && v <= hi))
    return -1;
  *out = v;
  return 1;
}

int vctl_link_parse(const char *spec, vctl_link_params *p, char *err, size_t errlen) {
  vctl_link_params_init(p);
  if (!spec || !strcmp(spec, "unlimited"))
    return 0;
  if (strncmp(spec, "1m", 2) && strncmp(spec, "2m", 2))
    return fail(err, errlen, spec ? spec : "", "expected unlimited, 1m or 2m[,options]");
  if (spec[2] && spec[2] != ',')
    return fail(err, errlen, spec, "expected unlimited, 1m or 2m[,options]");
  p->unlimited = false;
  p->phy = spec[0] == '1' ? 1 : 2;
  const char *s = spec + 2;
  while (*s == ',') {
    s++;
    size_t len = strcspn(s, ",");
    double v;
    int r;
    if ((r = option(s, len, "interval", 7.5, 4000, &v)) == 1) {
      p->interval_us = (uint32_t)(v * 1000 + 0.5);
      if (p->interval_us % 1250)
        return fail(err, errlen, spec, "the interval is a multiple of 1.25 ms");
    } else if (r == 0 && (r = option(s, len, "ppe", 1, 1000, &v)) == 1) {
      p->ppe = (unsigned)v;
    } else if (r == 0 && (r = option(s, len, "dle", 27, 251, &v)) == 1) {
      p->dle = (uint16_t)v;
    } else if (r == 0 && (r = option(s, len, "mtu", 23, 517, &v)) == 1) {
      p->mtu = (uint16_t)v;
    }
    if (r != 1)
      return fail(err, errlen, spec,
                  "options are interval=MS (7.5..4000), ppe=N (1..1000), dle=N (27..251), "
                  "mtu=N (23..517)");
    s += len;
  }
  if (*s)
    return fail(err, errlen, spec, "trailing characters");
  return 0;
}

uint32_t vctl_link_packet_us(uint8_t phy, uint16_t payload) {
  /* Preamble (1 octet on 1M, 2 on 2M), access address 4, header 2,
   * payload, CRC 3; 1 or 2 bits per microsecond. */
  uint32_t octets = (phy == 2 ? 2u : 1u) + 4u + 2u + payload + 3u;
  return phy == 2 ? octets * 4u : octets * 8u;
}

unsigned vctl_link_packets_per_event(uint8_t phy, uint32_t interval_us, uint16_t dle,
                                     unsigned ppe) {
  uint32_t pair = vctl_link_packet_us(phy, dle) + T_IFS_US + vctl_link_packet_us(phy, 0) +
                  T_IFS_US;
  unsigned fit = interval_us / pair;
  if (fit == 0)
    fit = 1;
  return ppe && ppe < fit ? ppe : fit;
}

double vctl_link_limit(const vctl_link_params *p, uint16_t mtu) {
  if (p->unlimited)
    return 0;
  if (mtu < 23)
    mtu = 23;
  unsigned per_event = vctl_link_packets_per_event(p->phy, p->interval_us, p->dle, p->ppe);
  /* One ATT PDU of MTU bytes plus the L2CAP header, in LL packets. */
  unsigned per_pdu = (mtu + 4u + p->dle - 1u) / p->dle;
  double packets_per_s = per_event * 1e6 / p->interval_us;
  return (mtu - 3.0) * packets_per_s / per_pdu;
}

void vctl_link_describe(const vctl_link_params *p, char *out, size_t cap) {
  if (p->unlimited) {
    snprintf(out, cap, "link unlimited: buffers come back at once, no physical limit");
    return;
  }
  unsigned per_event = vctl_link_packets_per_event(p->phy, p->interval_us, p->dle, p->ppe);
  snprintf(out, cap,
           "link %um: interval %.2f ms, %u-octet LL packets, %u per event each way: "
           "limit %.0f bytes/s of ATT payload each way (ATT MTU %u)",
           p->phy, p->interval_us / 1000.0, p->dle, per_event, vctl_link_limit(p, p->mtu),
           p->mtu);
}

void vctl_link_clock_start(vctl_link_clock *c, uint32_t interval_us, unsigned per_event,
                           uint64_t now_us) {
  c->interval_us = interval_us ? interval_us : 7500;
  c->per_event = per_event ? per_event : 1;
  c->next_us = now_us + c->interval_us;
}

uint64_t vctl_link_clock_advance(vctl_link_clock *c, uint64_t now_us) {
  if (now_us < c->next_us)
    return 0;
  uint64_t n = (now_us - c->next_us) / c->interval_us + 1;
  c->next_us += n * c->interval_us;
  return n;
}

uint64_t vctl_link_clock_next_ms(const vctl_link_clock *c) { return (c->next_us + 999) / 1000; }
