/* SPDX-License-Identifier: MIT */
/*
 * Inside the control socket (control.h): the hub and its write log
 * (control_log.c), the session's framing (control.c) and the commands
 * (control_cmd.c).
 */
#ifndef BLEAK_VCTL_CONTROL_PRIV_H
#define BLEAK_VCTL_CONTROL_PRIV_H

#include <jansson.h>
#include <stdbool.h>

#include "vctl/control.h"

/* One write a peripheral's ATT server accepted. */
typedef struct vctl_logged_write {
  size_t periph;
  uint16_t handle;
  bool command;
  uint16_t len;
  uint8_t value[];
} vctl_logged_write;

/* The write observer's context: which peripheral. */
typedef struct vctl_log_slot {
  vctl_control_hub *hub;
  size_t periph;
} vctl_log_slot;

struct vctl_control_hub {
  vctl_peripheral **periphs;
  size_t n_periphs;
  vctl_controller *ctl;
  vctl_log_slot *slots;
  vctl_logged_write *log[VCTL_CONTROL_LOG_MAX];
  size_t n_log;
  unsigned long dropped;
};

/* "received": the log as "writes" and "dropped" members of @p result,
 * then emptied. 0, or -1 (out of memory: the log kept). */
int vctl_control_log_take(vctl_control_hub *hub, json_t *result);

struct vctl_control {
  vctl_control_hub *hub;
  vctl_control_reply_fn reply;
  vctl_control_act_fn act;
  void *user;
  char *line; /* VCTL_CONTROL_LINE_MAX bytes, once the first byte comes */
  size_t len;
  bool discarding; /* the rest of a line too long */
};

/* One request being carried out: its JSON, the result object the reply
 * gets, the time, and the first error (then the reply says it). */
typedef struct vctl_request {
  vctl_control *s;
  json_t *obj;
  json_t *result;
  uint64_t now;
  char err[600];
} vctl_request;

/* Sets the request's error (printf-style); returns -1. */
int vctl_request_fail(vctl_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Carry out the request (its "cmd" names it): 0, or -1 with r->err. */
int vctl_control_run(vctl_request *r, const char *cmd);

#endif
