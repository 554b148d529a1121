/* SPDX-License-Identifier: MIT */
/*
 * bleak-vctl's control socket (docs/vctl.md, "The control socket"): JSON
 * requests, one a line, that change the virtual peripherals and the
 * controller while a host uses them (values, faults, Service Changed, a
 * crashed or unplugged controller), and report what the peripherals
 * received. Sans-I/O: bytes in, reply lines out through a callback; what
 * needs the tool's I/O (reading a file, closing the host's link) is an
 * action the tool carries out (vctl_control_act_fn). It reads no clock,
 * opens no file and owns no fd.
 *
 * Hostile input: every line is checked (length, JSON, keys, types,
 * ranges) and answered, an error with the reason; never a crash (fuzzed by
 * tests/fuzz/fuzz_vctl_control.c).
 */
#ifndef BLEAK_VCTL_CONTROL_H
#define BLEAK_VCTL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "vctl/controller.h"
#include "vctl/peripheral.h"

#define VCTL_CONTROL_LINE_MAX 65536 /* bytes of a request, without its \n */
#define VCTL_CONTROL_LOG_MAX 1024   /* writes kept for "received" */

/* What all control clients share: the peripherals (borrowed: they outlive
 * it), the controller the host talks to now, and the log of what the
 * peripherals received (the hub is their write observer, one per
 * peripheral: vctl_peripheral_observe_writes). */
typedef struct vctl_control_hub vctl_control_hub;

/* NULL when out of memory. */
vctl_control_hub *vctl_control_hub_new(vctl_peripheral *const *peripherals, size_t n);
/* Removes its write observers. NULL-safe. */
void vctl_control_hub_free(vctl_control_hub *hub);
/* The host's controller now (borrowed), or NULL while no host is
 * connected: the tool sets it for each host and clears it before freeing
 * the controller. */
void vctl_control_hub_set_controller(vctl_control_hub *hub, vctl_controller *ctl);

typedef enum vctl_control_action_kind {
  /* Read action->file; on success hand back its peripherals in
   * list/count (the first one's database replaces the peripheral's; the
   * session frees the list). */
  VCTL_CONTROL_SERVICE_CHANGED,
  /* Close the host's link (the controller unplugged); the tool clears the
   * hub's controller before freeing it. */
  VCTL_CONTROL_DISAPPEAR,
} vctl_control_action_kind;

typedef struct vctl_control_action {
  vctl_control_action_kind kind;
  const char *file;       /* SERVICE_CHANGED: as the client wrote it */
  vctl_peripheral **list; /* SERVICE_CHANGED, out */
  size_t count;           /* out */
  char err[512];          /* out, on failure: why (the loader's message) */
} vctl_control_action;

/* Carry out @p a now; 0, or -1 with a->err set. */
typedef int (*vctl_control_act_fn)(void *user, vctl_control_action *a);
/* One reply line, '\n' included (valid during the call). The callback
 * must not free the session. */
typedef void (*vctl_control_reply_fn)(void *user, const char *line, size_t len);

/* One control client. */
typedef struct vctl_control vctl_control;

/* NULL when out of memory. */
vctl_control *vctl_control_new(vctl_control_hub *hub, vctl_control_reply_fn reply,
                               vctl_control_act_fn act, void *user);
void vctl_control_free(vctl_control *s);
/* Bytes from the client (any split) at @p now_ms: each whole line is
 * carried out and answered before this returns. Empty lines are skipped;
 * a line longer than VCTL_CONTROL_LINE_MAX is answered with an error as
 * soon as it is too long, and the rest of it discarded. Afterwards the
 * controller may have output and a new deadline. */
void vctl_control_input(vctl_control *s, const uint8_t *bytes, size_t len, uint64_t now_ms);

#endif
