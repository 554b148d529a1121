/* SPDX-License-Identifier: MIT */
/* Bytes as hex strings in JSON ("value_hex", "malformed_hex"): the one
 * decoder of the peripheral files and the control socket, and the encoder
 * of the control socket's replies. */
#ifndef BLEAK_VCTL_JSON_HEX_H
#define BLEAK_VCTL_JSON_HEX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* @p v must be a string of hex digit pairs, at most @p cap bytes: 0 and
 * the bytes in out[0..*len), or -1 with the reason in err. */
int vctl_json_hex(const json_t *v, uint8_t *out, size_t cap, size_t *len, char *err,
                  size_t errlen);
/* @p len bytes as a new JSON string of lower-case hex (NULL: no memory). */
json_t *vctl_json_hex_string(const uint8_t *bytes, size_t len);

#endif
