/* SPDX-License-Identifier: MIT */
/* The bluez backend's entry points. */
#ifndef BLEAK_BLUEZ_BLUEZ_H
#define BLEAK_BLUEZ_BLUEZ_H

#include "core/backend.h"
#include "core/scanner_backend.h"

extern const bk_client_backend bk_bluez_client_backend;
extern const bk_scanner_backend bk_bluez_scanner_backend;
extern const struct bk_adapter_backend bk_bluez_adapter_backend;

#endif /* BLEAK_BLUEZ_BLUEZ_H */
