/* SPDX-License-Identifier: MIT */
/* Fuzz target: the H4 framer (src/transport/h4.c), fed the input in pieces
 * of varying sizes; then each delivered event packet through the HCI event
 * parser (src/backend/hci/hci_event.c), with its iterators. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/hci/hci_event.h"
#include "bleak/error.h"
#include "bleak/log.h"
#include "transport/h4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_packet(void *user, uint8_t type, const uint8_t *pkt, size_t len) {
  (void)user;
  if (len > BK_H4_MAX_PACKET)
    abort();
  if (type != BK_H4_EVENT)
    return;
  bk_hci_event ev;
  int r = bk_hci_event_parse(pkt, len, &ev);
  if (r != 0)
    return;
  if (ev.code == BK_HCI_EV_NUM_COMPLETED_PACKETS)
    for (size_t i = 0; i < ev.u.completed.n; i++) {
      uint16_t h, c;
      bk_hci_completed_at(&ev, i, &h, &c);
    }
  if (ev.code == BK_HCI_EV_LE_META &&
      (ev.subevent == BK_HCI_LE_ADV_REPORT || ev.subevent == BK_HCI_LE_EXT_ADV_REPORT)) {
    size_t pos = 0, n = 0;
    bk_hci_adv_report rep;
    while (bk_hci_adv_next(&ev, &pos, &rep) == 1) {
      if (rep.data < pkt || rep.data + rep.data_len > pkt + len)
        abort();
      n++;
    }
    if (n != ev.u.adv.n)
      abort(); /* parse accepted it: the walk must find exactly n */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bk_h4 h;
  bleak_log_set_level(BLEAK_LOG_NONE); /* dropped packets are logged: not here */
  bk_h4_init(&h, on_packet, NULL);
  /* The first byte picks the piece size: framing must not depend on it. */
  size_t step = size ? (size_t)(data[0] % 17) + 1 : 1;
  for (size_t i = 0; i < size; i += step)
    bk_h4_feed(&h, data + i, size - i < step ? size - i : step);
  return 0;
}
