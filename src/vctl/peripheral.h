/* SPDX-License-Identifier: MIT */
/*
 * A virtual peripheral of bleak-vctl (the virtual LE controller): what it
 * advertises, and the GATT database its ATT server serves. Loaded from a
 * JSON file (docs/vctl.md; the guest fixture's tests/vm/fixture/database.json
 * is the first such file). Owned by the caller that loaded it; the
 * controller (controller.h) and every ATT connection (att_server.h) borrow
 * it and must be freed first.
 */
#ifndef BLEAK_VCTL_PERIPHERAL_H
#define BLEAK_VCTL_PERIPHERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VCTL_AD_MAX 251 /* extended advertising data in one report */

/* What the link layer needs from a peripheral. */
typedef struct vctl_adv {
  uint8_t addr[6];   /* HCI byte order (little-endian) */
  uint8_t addr_type; /* 0 public, 1 random */
  bool connectable;
  bool extended; /* advertises with extended PDUs (else legacy, data <= 31) */
  uint32_t interval_ms;
  uint16_t data_len, scan_rsp_len;
  uint8_t data[VCTL_AD_MAX];     /* AD structures, as on the air */
  uint8_t scan_rsp[VCTL_AD_MAX]; /* scan response AD (0 bytes: none) */
} vctl_adv;

typedef struct vctl_peripheral vctl_peripheral;

/* Loads every peripheral of a JSON file: either one peripheral object or
 * {"peripherals": [...]}. On success returns 0, *out holds *count
 * peripherals (free with vctl_peripherals_free). On error returns -1 with a
 * message naming the file, line and column in err (NUL-terminated, never
 * more than errlen bytes), and *out untouched. */
int vctl_peripherals_load(const char *path, vctl_peripheral ***out, size_t *count, char *err,
                          size_t errlen);
/* The same from a string already in memory (name: how err calls it). */
int vctl_peripherals_load_string(const char *json, const char *name, vctl_peripheral ***out,
                                 size_t *count, char *err, size_t errlen);
void vctl_peripherals_free(vctl_peripheral **list, size_t count);

const vctl_adv *vctl_peripheral_adv(const vctl_peripheral *p);

/* The GAP Device Name: the advertisement's local_name unless the file's
 * "name" says otherwise; "" when it has none. Owned by @p p. */
const char *vctl_peripheral_name(const vctl_peripheral *p);
/* The value handle of the @p nth (from 0) characteristic of @p uuid (any
 * form bleak_uuid_parse takes), or 0 when there is none. For a control
 * socket that names characteristics by UUID. */
uint16_t vctl_peripheral_find_char(const vctl_peripheral *p, const char *uuid, unsigned nth);
/* Set the value of the characteristic value or descriptor at @p handle
 * (at most 512 bytes); @p notify: also notify or indicate it on every
 * connection subscribed to it. Returns 0, or -1 (no such attribute, a
 * declaration or CCCD, too long). */
int vctl_peripheral_set_value(vctl_peripheral *p, uint16_t handle, const uint8_t *value,
                              size_t len, bool notify);

/* Called once for every write a client's ATT server accepted (Write
 * Request, Write Command, each handle of an Execute Write, CCCDs too),
 * after its answer: @p value is the written bytes (borrowed for the call).
 * For a control socket that reports what the peripheral received. One
 * observer per peripheral; NULL removes it. */
typedef void (*vctl_write_observer)(void *ctx, uint16_t handle, const uint8_t *value, size_t len,
                                    bool command);
void vctl_peripheral_observe_writes(vctl_peripheral *p, vctl_write_observer cb, void *ctx);

#endif
