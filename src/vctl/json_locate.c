/* SPDX-License-Identifier: MIT */
/* Positions of values in JSON text: see json_locate.h. A token walker, no
 * values built: the text is known to be well formed (jansson parsed it),
 * but every step still checks the end. */
#include "vctl/json_locate.h"

#include <string.h>

#define MAX_NESTING 64

typedef struct walker {
  const char *s, *end;
} walker;

static void ws(walker *w) {
  while (w->s < w->end && (*w->s == ' ' || *w->s == '\t' || *w->s == '\n' || *w->s == '\r'))
    w->s++;
}

/* Past a string that starts at w->s (a quote): its raw body and length. */
static bool string(walker *w, const char **body, size_t *n) {
  if (w->s >= w->end || *w->s != '"')
    return false;
  const char *start = ++w->s;
  while (w->s < w->end && *w->s != '"')
    w->s += *w->s == '\\' ? 2 : 1;
  if (w->s >= w->end)
    return false;
  *body = start;
  *n = (size_t)(w->s - start);
  w->s++;
  return true;
}

static bool value(walker *w, int nesting);

/* Past an object member's key and its colon, to the value. */
static bool member_key(walker *w, const char **key, size_t *n) {
  if (!string(w, key, n))
    return false;
  ws(w);
  if (w->s >= w->end || *w->s++ != ':')
    return false;
  ws(w);
  return true;
}

/* Past an object or array (w->s at '{' or '['). */
static bool container(walker *w, int nesting) {
  char close = *w->s == '{' ? '}' : ']';
  bool object = close == '}';
  w->s++;
  ws(w);
  if (w->s < w->end && *w->s == close) {
    w->s++;
    return true;
  }
  for (;;) {
    ws(w);
    const char *k;
    size_t n;
    if (object && !member_key(w, &k, &n))
      return false;
    if (!value(w, nesting + 1))
      return false;
    ws(w);
    if (w->s >= w->end)
      return false;
    if (*w->s == close) {
      w->s++;
      return true;
    }
    if (*w->s++ != ',')
      return false;
  }
}

static bool value(walker *w, int nesting) {
  if (nesting > MAX_NESTING || w->s >= w->end)
    return false;
  if (*w->s == '{' || *w->s == '[')
    return container(w, nesting);
  if (*w->s == '"') {
    const char *b;
    size_t n;
    return string(w, &b, &n);
  }
  /* number, true, false, null */
  while (w->s < w->end && !strchr(",]} \t\r\n", *w->s))
    w->s++;
  return true;
}

/* w->s at a value: step into it along @p path. */
static bool descend(walker *w, const vctl_json_seg *path, size_t depth) {
  for (size_t d = 0; d < depth; d++) {
    ws(w);
    bool object = path[d].key != NULL;
    if (w->s >= w->end || *w->s != (object ? '{' : '['))
      return false;
    w->s++;
    bool found = false;
    for (size_t i = 0; !found; i++) {
      ws(w);
      if (w->s >= w->end || *w->s == (object ? '}' : ']'))
        return false;
      if (object) {
        const char *k;
        size_t n;
        if (!member_key(w, &k, &n))
          return false;
        found = n == strlen(path[d].key) && !memcmp(k, path[d].key, n);
      } else {
        found = i == path[d].index;
      }
      if (found)
        break;
      if (!value(w, (int)d))
        return false;
      ws(w);
      if (w->s >= w->end || *w->s++ != ',')
        return false;
    }
  }
  ws(w);
  return w->s < w->end;
}

bool vctl_json_locate(const char *text, size_t len, const vctl_json_seg *path, size_t depth,
                      int *line, int *column) {
  walker w = {text, text + len};
  if (!text || !descend(&w, path, depth))
    return false;
  int l = 1, c = 1;
  for (const char *p = text; p < w.s; p++) {
    if (*p == '\n') {
      l++;
      c = 1;
    } else {
      c++;
    }
  }
  *line = l;
  *column = c;
  return true;
}
