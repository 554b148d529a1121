/* SPDX-License-Identifier: MIT */
/* Fuzz target: the virtual controller's H4 input (src/vctl/controller.c),
 * with the guest fixture's database as the one peripheral in range, driven
 * by a script so that state (scanning, initiating, links, credits, a
 * modeled air, back-pressure) builds up:
 *   byte 0: bit 0 a modeled link (1m, 10 ms), bit 1 no extended commands,
 *           bits 2..3 the ACL buffers (1, 2, 4, 8)
 *   then records: TYPE LEN DATA[LEN]
 *     TYPE % 4 == 0: DATA in as H4 bytes (any split of any stream)
 *                 1: LEN milliseconds pass; what is due runs
 *                 2: the transport's back-pressure toggles
 *                 3: DATA is a command's parameters, opcode from its first
 *                    two bytes (well-framed commands reach the handlers)
 * Whatever comes, every packet out is one well-formed H4 event or ACL
 * packet, no deadline stays due after the ticks that ran it, and nothing
 * leaks. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/log.h"
#include "vctl/controller.h"
#include "vctl/peripheral.h"

#include "fixture_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_out(void *user, const uint8_t *h4, size_t len) {
  (void)user;
  if (!h4 || len < 3)
    abort();
  if (h4[0] == 0x04) { /* event: code, length, parameters */
    if (len != 3u + h4[2])
      abort();
  } else if (h4[0] == 0x02) { /* ACL: handle, length, data */
    if (len < 5 || len != 5u + (size_t)(h4[3] | h4[4] << 8))
      abort();
  } else {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bleak_log_set_level(BLEAK_LOG_NONE);
  if (size < 1)
    return 0;
  vctl_peripheral **list = NULL;
  size_t n = 0;
  char err[256];
  if (vctl_peripherals_load_string(fixture_text(), "fixture", &list, &n, err, sizeof err))
    abort();
  vctl_controller_config cfg;
  vctl_controller_config_init(&cfg);
  if (data[0] & 1 && vctl_link_parse("1m,interval=10", &cfg.link, err, sizeof err))
    abort();
  cfg.extended = !(data[0] & 2);
  cfg.acl_buffers = (uint16_t)(1u << ((data[0] >> 2) & 3));
  vctl_controller *ctl = vctl_controller_new(&cfg, list, n, fz_out, NULL);
  if (!ctl)
    abort();
  uint64_t now = 0;
  bool blocked = false;
  for (size_t i = 1; i + 1 < size;) {
    uint8_t type = data[i] % 4, len = data[i + 1];
    i += 2;
    size_t avail = size - i < len ? size - i : len;
    const uint8_t *d = data + i;
    i += avail;
    switch (type) {
    case 0:
      vctl_controller_input(ctl, d, avail, now);
      break;
    case 1:
      /* What is due runs; a deadline still due after a few ticks at the
       * same time would be a busy loop for bleak-vctl. */
      now += len;
      for (int guard = 0; vctl_controller_deadline(ctl) <= now; guard++) {
        if (guard == 8)
          abort();
        vctl_controller_tick(ctl, now);
      }
      break;
    case 2:
      blocked = !blocked;
      vctl_controller_set_blocked(ctl, blocked, now);
      break;
    default: {
      if (avail < 2)
        break;
      uint8_t cmd[4 + 255] = {0x01, d[0], d[1], (uint8_t)(avail - 2)};
      memcpy(cmd + 4, d + 2, avail - 2);
      vctl_controller_input(ctl, cmd, avail + 2, now);
      break;
    }
    }
  }
  vctl_controller_free(ctl);
  vctl_peripherals_free(list, n);
  return 0;
}
