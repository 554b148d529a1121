/* SPDX-License-Identifier: MIT */
/* btsnoop capture: see btsnoop.h. */
#include "transport/btsnoop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "bleak/error.h"
#include "core/internal.h"
#include "transport/h4.h"

/* Microseconds from 0000-01-01 to 1970-01-01, the btsnoop epoch offset. */
#define BTSNOOP_EPOCH_DELTA 0x00dcddb30f2f8000ULL

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The first capture of the process truncates the file; controllers opened
 * later (clients come and go) append to it, so one file holds the run. */
static _Thread_local char started[256];

int bk_btsnoop_open(bk_btsnoop *s, const char *path) {
  bool append = started[0] && !strcmp(started, path);
  s->f = fopen(path, append ? "abe" : "wbe");
  if (!s->f)
    return bk_fail(BLEAK_ERR_IO, "btsnoop %s: %s", path, strerror(errno));
  if (append)
    return 0;
  snprintf(started, sizeof started, "%s", path);
  uint8_t hdr[16] = {'b', 't', 's', 'n', 'o', 'o', 'p', 0};
  put_be32(hdr + 8, 1);     /* version */
  put_be32(hdr + 12, 1002); /* datalink: HCI UART (H4) */
  if (fwrite(hdr, sizeof hdr, 1, s->f) != 1) {
    fclose(s->f);
    s->f = NULL;
    return bk_fail(BLEAK_ERR_IO, "btsnoop %s: cannot write", path);
  }
  return 0;
}

void bk_btsnoop_write(bk_btsnoop *s, uint8_t type, const uint8_t *pkt, size_t len,
                      bool received) {
  if (!s->f)
    return;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  uint64_t ts = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec + BTSNOOP_EPOCH_DELTA;
  uint32_t flags = received ? 1 : 0;
  if (type == BK_H4_COMMAND || type == BK_H4_EVENT)
    flags |= 2;
  uint8_t rec[25];
  put_be32(rec, (uint32_t)len + 1);
  put_be32(rec + 4, (uint32_t)len + 1);
  put_be32(rec + 8, flags);
  put_be32(rec + 12, 0);
  put_be32(rec + 16, (uint32_t)(ts >> 32));
  put_be32(rec + 20, (uint32_t)ts);
  rec[24] = type;
  if (fwrite(rec, sizeof rec, 1, s->f) != 1 || (len && fwrite(pkt, len, 1, s->f) != 1)) {
    BK_WARN("btsnoop", "capture ended: cannot write");
    fclose(s->f);
    s->f = NULL;
    return;
  }
  fflush(s->f);
}

void bk_btsnoop_close(bk_btsnoop *s) {
  if (s->f)
    fclose(s->f);
  s->f = NULL;
}
