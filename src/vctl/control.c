/* SPDX-License-Identifier: MIT */
/* One control client: its bytes cut into lines, each line parsed as one
 * JSON request, carried out (control_cmd.c) and answered with one line,
 * in order. See control.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vctl/control_priv.h"

vctl_control *vctl_control_new(vctl_control_hub *hub, vctl_control_reply_fn reply,
                               vctl_control_act_fn act, void *user) {
  if (!hub || !reply || !act)
    return NULL;
  vctl_control *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->hub = hub;
  s->reply = reply;
  s->act = act;
  s->user = user;
  return s;
}

void vctl_control_free(vctl_control *s) {
  if (!s)
    return;
  free(s->line);
  free(s);
}

int vctl_request_fail(vctl_request *r, const char *fmt, ...) {
  if (r->err[0]) /* the first error is the one to tell */
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof r->err, fmt, ap);
  va_end(ap);
  if (!r->err[0])
    snprintf(r->err, sizeof r->err, "failed");
  return -1;
}

/* When not even a reply can be made: a fixed one, since a reply must come. */
static void reply_oom(vctl_control *s) {
  static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";
  s->reply(s->user, oom, sizeof oom - 1);
}

/* {"id": .., "ok": .., ...} as one line. When even that cannot be made
 * (out of memory), reply_oom. */
static void send_reply(vctl_control *s, json_t *id, json_t *result, const char *err) {
  json_t *o = json_object();
  char *text = NULL;
  if (o && (!id || !json_object_set(o, "id", id)) &&
      !json_object_set_new(o, "ok", json_boolean(!err)) &&
      (err ? !json_object_set_new(o, "error", json_string(err))
           : !result || !json_object_update(o, result)))
    text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!text) {
    reply_oom(s);
    return;
  }
  size_t n = strlen(text);
  char *line = realloc(text, n + 2);
  if (!line) {
    free(text);
    reply_oom(s);
    return;
  }
  line[n] = '\n';
  line[n + 1] = 0;
  s->reply(s->user, line, n + 1);
  free(line);
}

static void on_line(vctl_control *s, const char *text, size_t len, uint64_t now) {
  if (len && text[len - 1] == '\r') /* a terminal's line end */
    len--;
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  if (i == len) /* nothing asked: nothing answered */
    return;
  json_error_t je;
  json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  vctl_request r = {.s = s, .obj = obj, .now = now};
  json_t *id = NULL;
  if (!obj) {
    vctl_request_fail(&r, "not JSON: %s (column %d)", je.text, je.column);
  } else if (!json_is_object(obj)) {
    vctl_request_fail(&r, "a request is one JSON object");
  } else {
    id = json_object_get(obj, "id");
    json_t *cmd = json_object_get(obj, "cmd");
    if (!cmd)
      vctl_request_fail(&r, "no \"cmd\"");
    else if (!json_is_string(cmd))
      vctl_request_fail(&r, "\"cmd\": expected a string");
    else if ((r.result = json_object()) == NULL)
      vctl_request_fail(&r, "out of memory");
    else
      vctl_control_run(&r, json_string_value(cmd));
  }
  send_reply(s, id, r.result, r.err[0] ? r.err : NULL);
  json_decref(r.result);
  json_decref(obj);
}

void vctl_control_input(vctl_control *s, const uint8_t *bytes, size_t len, uint64_t now_ms) {
  if (!s || (!bytes && len))
    return;
  if (len && !s->line && !(s->line = malloc(VCTL_CONTROL_LINE_MAX))) {
    reply_oom(s);
    return;
  }
  for (size_t i = 0; i < len; i++) {
    char c = (char)bytes[i];
    if (c == '\n') {
      if (!s->discarding)
        on_line(s, s->line, s->len, now_ms);
      s->len = 0;
      s->discarding = false;
    } else if (s->discarding) {
      continue;
    } else if (s->len == VCTL_CONTROL_LINE_MAX) {
      /* Answered now, not at its end: a client that never sends '\n'
       * learns why nothing happens. */
      char msg[96];
      snprintf(msg, sizeof msg, "a line longer than %d bytes: discarded", VCTL_CONTROL_LINE_MAX);
      send_reply(s, NULL, NULL, msg);
      s->discarding = true;
      s->len = 0;
    } else {
      s->line[s->len++] = c;
    }
  }
}
