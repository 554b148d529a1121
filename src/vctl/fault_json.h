/* SPDX-License-Identifier: MIT */
/*
 * ATT server faults (att_server.h: vctl_att_faults) as JSON: the one
 * parser of both the "faults" object of a peripheral file
 * (peripheral_json.c) and the control socket's "fault" command
 * (control.c), and the object "status" reports them as. The keys
 * (docs/vctl.md, "The control socket"):
 *   error_handle N | error_uuid "..", error_code N   (0: off)
 *   silent bool, delay_ms N, drop_after N            (0: off)
 *   drop_opcode N | "mtu", "read", ..., "confirm"    (0: off)
 *   max_mtu N (23..517, 0: off), malformed_hex ".." (1..32 bytes, "": off)
 * Hostile input: every type and range is checked; nothing is changed
 * unless the whole object is good.
 */
#ifndef BLEAK_VCTL_FAULT_JSON_H
#define BLEAK_VCTL_FAULT_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "vctl/att_server.h"

/* Apply the fault keys of @p obj to *f (keys not given keep their value).
 * @p p resolves "error_uuid" (its first characteristic of that UUID).
 * Keys of @p obj named in @p skip (NULL-terminated, or NULL) are the
 * caller's and ignored; any other unknown key is an error. 0, or -1 with
 * the message in err (without the key) and the key in *bad_key (borrowed
 * from @p obj; NULL when the object itself is wrong), *f untouched. */
int vctl_faults_from_json(json_t *obj, const vctl_peripheral *p, const char *const *skip,
                          vctl_att_faults *f, char *err, size_t errlen, const char **bad_key);

/* Every key, with its value now (0, false, "": off); drop_opcode as a
 * number. A new reference, or NULL when out of memory. */
json_t *vctl_faults_to_json(const vctl_att_faults *f);

#endif
