/* SPDX-License-Identifier: MIT */
/*
 * Is Bluetooth blocked by rfkill? BlueZ reports a blocked adapter only as
 * "not powered" (org.bluez.Error.NotReady), so the bluez backend asks the
 * kernel's rfkill switches in sysfs to tell BLEAK_ERR_RFKILL from
 * BLEAK_ERR_POWERED_OFF. Read-only, a few small files, no state.
 */
#ifndef BLEAK_CORE_RFKILL_H
#define BLEAK_CORE_RFKILL_H

#include <stdbool.h>

/* True when a Bluetooth rfkill switch is blocked (soft or hard): the one
 * of adapter @p hci ("hci0": /sys/class/bluetooth/hci0/rfkill*), or any of
 * type "bluetooth" (/sys/class/rfkill) when @p hci is NULL or has none.
 * @p sysfs is the sysfs root, "/sys" (tests pass a tree of their own).
 * False when nothing can be read: then nothing says it is blocked. */
bool bk_rfkill_blocked(const char *sysfs, const char *hci);

#endif /* BLEAK_CORE_RFKILL_H */
