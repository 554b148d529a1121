/* SPDX-License-Identifier: MIT */
/* Fuzz target: bleak-vctl's control socket (src/vctl/control.c) on a
 * controller with the guest fixture's peripheral in range and one ATT
 * connection open to it (so that set, notify, send_raw and the faults act
 * on a link):
 *   byte 0: the split (1 + byte 0 % 64: bytes per vctl_control_input)
 *   then the client's bytes, lines of JSON or not.
 * The actions are the tool's: service_changed loads the fixture again,
 * disappear frees the controller. Whatever comes, every reply is one line
 * of a JSON object with "ok", at most one a request, and nothing leaks. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bleak/log.h"
#include "vctl/att_server.h"
#include "vctl/control.h"
#include "vctl/controller.h"
#include "vctl/peripheral.h"

#include "fixture_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
  vctl_controller *ctl;
  vctl_control_hub *hub;
  size_t replies, newlines;
} fz;

static void fz_h4(void *user, const uint8_t *h4, size_t len) {
  (void)user;
  if (!h4 || len < 3)
    abort();
}

static bool fz_send(void *ctx, const uint8_t *pdu, size_t len) {
  (void)ctx;
  if (!pdu || !len || len > 517)
    abort();
  return true;
}

static void fz_disconnect(void *ctx, uint8_t reason) {
  (void)ctx;
  (void)reason;
}

static void fz_reply(void *user, const char *line, size_t len) {
  fz *f = user;
  if (len < 2 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
    abort();
  json_error_t e;
  json_t *j = json_loadb(line, len, 0, &e);
  if (!j || !json_is_boolean(json_object_get(j, "ok")))
    abort();
  json_decref(j);
  f->replies++;
}

static int fz_act(void *user, vctl_control_action *a) {
  fz *f = user;
  if (a->kind == VCTL_CONTROL_DISAPPEAR) {
    vctl_control_hub_set_controller(f->hub, NULL);
    vctl_controller_free(f->ctl);
    f->ctl = NULL;
    return 0;
  }
  if (a->file[0] == '!') { /* a file that does not load */
    strcpy(a->err, "no such file");
    return -1;
  }
  return vctl_peripherals_load_string(fixture_text(), a->file, &a->list, &a->count, a->err,
                                      sizeof a->err);
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
  fz f = {0};
  f.ctl = vctl_controller_new(NULL, list, n, fz_h4, NULL);
  f.hub = vctl_control_hub_new(list, n);
  const vctl_att_io io = {fz_send, fz_disconnect, NULL};
  vctl_att_conn *c = vctl_att_conn_new(list[0], 517, &io);
  vctl_control *s = vctl_control_new(f.hub, fz_reply, fz_act, &f);
  if (!f.ctl || !f.hub || !c || !s)
    abort();
  vctl_control_hub_set_controller(f.hub, f.ctl);
  size_t split = 1 + data[0] % 64;
  uint64_t now = 0;
  for (size_t i = 1; i < size; i += split) {
    size_t k = size - i < split ? size - i : split;
    for (size_t j = 0; j < k; j++)
      f.newlines += data[i + j] == '\n';
    vctl_control_input(s, data + i, k, now);
    /* A write now and then, for "received". */
    static const uint8_t write_cmd[] = {0x52, 0x25, 0x00, 0x01, 0x00, 0x00, 0x00};
    vctl_att_conn_input(c, write_cmd, sizeof write_cmd, now);
    now += 7;
    vctl_att_conn_tick(c, now);
  }
  /* At most one reply a line, plus one for each line too long. */
  if (f.replies > f.newlines + size / VCTL_CONTROL_LINE_MAX + 1)
    abort();
  vctl_control_free(s);
  vctl_att_conn_free(c);
  vctl_control_hub_free(f.hub);
  vctl_controller_free(f.ctl);
  vctl_peripherals_free(list, n);
  return 0;
}
