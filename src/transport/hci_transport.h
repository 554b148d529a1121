/* SPDX-License-Identifier: MIT */
/*
 * Where the hci backend finds its controller: opening the fd from a
 * transport spec (the option hci_transport or $BLEAK_HCI):
 *   unix:PATH             H4 over a unix stream socket (btvirt -s serves
 *                         /tmp/bt-server-le)
 *   tcp:HOST:PORT         H4 over TCP (a serial bridge, an emulator)
 *   tty:DEV[:BAUD[:FLOW]] H4 over a serial port; BAUD default 115200,
 *                         FLOW "rtscts" (default) or "none"
 *   hciN                  the Linux HCI user channel of controller N
 *                         (exclusive: no bluetoothd on it; it must be down)
 * The fd is non-blocking. Every transport carries H4 framing (the user
 * channel delivers one whole packet, type byte first, per read).
 */
#ifndef BLEAK_TRANSPORT_HCI_TRANSPORT_H
#define BLEAK_TRANSPORT_HCI_TRANSPORT_H

typedef enum bk_hci_transport_kind {
  BK_HCI_TRANSPORT_UNIX,
  BK_HCI_TRANSPORT_TCP,
  BK_HCI_TRANSPORT_TTY,
  BK_HCI_TRANSPORT_USER_CHANNEL,
} bk_hci_transport_kind;

/*
 * Open the transport named by @p spec. @return the fd (owned by the
 * caller: close() it), or BLEAK_ERR_INVALID_ARG (a spec that does not
 * parse; detail says why), BLEAK_ERR_NOT_FOUND (no such socket, device or
 * controller), BLEAK_ERR_BUSY (the controller is up or held by bluetoothd),
 * BLEAK_ERR_IO (any other refusal; detail has the errno text).
 * @p kind (may be NULL) receives which transport it was.
 */
int bk_hci_transport_open(const char *spec, bk_hci_transport_kind *kind);

#endif
