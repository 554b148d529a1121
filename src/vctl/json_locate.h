/* SPDX-License-Identifier: MIT */
/* Where a value sits in JSON text, by its path (keys and indexes), for
 * error messages that name a line: jansson keeps no positions of the
 * values it parsed. The text must be what jansson accepted. */
#ifndef BLEAK_VCTL_JSON_LOCATE_H
#define BLEAK_VCTL_JSON_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vctl_json_seg {
  const char *key; /* an object member, or NULL: */
  size_t index;    /* an array element */
} vctl_json_seg;

/* Line and column (both from 1) of the value at @p path (@p depth
 * segments; 0: the whole text). False when it is not found (a key spelt
 * with escapes, a duplicate key: then the caller names the path only). */
bool vctl_json_locate(const char *text, size_t len, const vctl_json_seg *path, size_t depth,
                      int *line, int *column);

#endif
