/* SPDX-License-Identifier: MIT */
/* bleak-vctl --vhci: the virtual controller registered with the Linux
 * kernel through /dev/vhci (root, module hci_vhci), so that it appears as
 * hciN to the kernel, bluetoothd and every program above them. */
#ifndef BLEAK_VCTL_TOOL_VHCI_H
#define BLEAK_VCTL_TOOL_VHCI_H

#include <stddef.h>
#include <stdint.h>

/* Opens /dev/vhci and creates a primary controller (the vendor packet
 * 0xff 0x00); waits at most @p timeout_ms for the kernel's answer, which
 * carries the new controller's index (*index). @return the fd (O_NONBLOCK,
 * close-on-exec), every later read() of it one whole H4 packet from the
 * kernel; -1 with a message in @p err. */
int vhci_open(int timeout_ms, int *index, char *err, size_t err_len);

/* One whole H4 packet (type byte first) to the kernel: /dev/vhci takes a
 * packet per write(). @return 0, or -1 (errno set) when it did not go. */
int vhci_write_packet(int fd, const uint8_t *h4, size_t len);

#endif
