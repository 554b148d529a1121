/* SPDX-License-Identifier: MIT */
/* The hci backend: our own LE host on a controller reached through a
 * transport (see transport/hci_transport.h). */
#ifndef BLEAK_BACKEND_HCI_H
#define BLEAK_BACKEND_HCI_H

#include "core/backend.h"
#include "core/scanner_backend.h"

extern const bk_client_backend bk_hci_client_backend;
extern const bk_scanner_backend bk_hci_scanner_backend;
struct bk_adapter_backend;
extern const struct bk_adapter_backend bk_hci_adapter_backend;

/* The transport spec: @p option, else $BLEAK_HCI; NULL with a detail
 * message when neither is set. */
const char *bk_hci_transport_spec(const char *option);

/* "AA:BB:CC:DD:EE:FF" <-> little-endian bytes. */
int bk_hci_parse_address(const char *s, uint8_t out[6]);
void bk_hci_format_address(const uint8_t addr[6], char out[18]);

#endif
