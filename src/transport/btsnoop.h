/* SPDX-License-Identifier: MIT */
/*
 * btsnoop capture of every HCI packet (BLEAK_BTSNOOP=file): the format
 * `btmon -r` and Wireshark read (RFC 1761 style, datalink 1002: HCI UART,
 * the H4 type byte first). Writes are plain stdio: capture is for
 * debugging, and a full disk only ends the capture (logged once).
 */
#ifndef BLEAK_TRANSPORT_BTSNOOP_H
#define BLEAK_TRANSPORT_BTSNOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct bk_btsnoop {
  FILE *f;
} bk_btsnoop;

/* Create (truncate) @p path and write the header; a path this thread
 * captured to before is appended to (one file for a program's run).
 * @return 0 or BLEAK_ERR_IO (detail has why). */
int bk_btsnoop_open(bk_btsnoop *s, const char *path);
/* One packet of H4 @p type (header included, type byte not); @p received:
 * from the controller. */
void bk_btsnoop_write(bk_btsnoop *s, uint8_t type, const uint8_t *pkt, size_t len,
                      bool received);
void bk_btsnoop_close(bk_btsnoop *s);

#endif
