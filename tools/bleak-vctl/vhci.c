/* SPDX-License-Identifier: MIT */
#include "vhci.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VHCI_PATH "/dev/vhci"
#define HCI_VENDOR_PKT 0xff
#define HCI_PRIMARY 0x00

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vhci_open(int timeout_ms, int *index, char *err, size_t err_len) {
  int fd = open(VHCI_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, err_len, "%s: %s%s", VHCI_PATH, strerror(errno),
             errno == ENOENT ? " (modprobe hci_vhci)"
             : errno == EACCES || errno == EPERM ? " (needs root)"
                                                  : "");
    return -1;
  }
  /* Without this request within a second the kernel makes a controller
   * by itself (vhci_open_timeout): the same kind, but unannounced. */
  static const uint8_t create[2] = {HCI_VENDOR_PKT, HCI_PRIMARY};
  if (write(fd, create, sizeof create) != (ssize_t)sizeof create) {
    snprintf(err, err_len, "%s: create a controller: %s", VHCI_PATH, strerror(errno));
    close(fd);
    return -1;
  }
  /* The answer: 0xff, the opcode, the index (le16). */
  long long end = mono_ms() + timeout_ms;
  for (;;) {
    long long left = end - mono_ms();
    if (left <= 0) {
      snprintf(err, err_len, "%s: no answer to the create request in %d ms", VHCI_PATH,
               timeout_ms);
      break;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      snprintf(err, err_len, "%s: poll: %s", VHCI_PATH, strerror(errno));
      break;
    }
    if (r == 0)
      continue;
    uint8_t rsp[16];
    ssize_t n = read(fd, rsp, sizeof rsp);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n == 4 && rsp[0] == HCI_VENDOR_PKT && rsp[1] == HCI_PRIMARY) {
      *index = rsp[2] | rsp[3] << 8;
      return fd;
    }
    if (n < 0)
      snprintf(err, err_len, "%s: read: %s", VHCI_PATH, strerror(errno));
    else
      snprintf(err, err_len, "%s: unexpected answer to the create request (%zd bytes, 0x%02x)",
               VHCI_PATH, n, n > 0 ? rsp[0] : 0);
    break;
  }
  close(fd);
  return -1;
}

int vhci_write_packet(int fd, const uint8_t *h4, size_t len) {
  for (;;) {
    ssize_t n = write(fd, h4, len);
    if (n == (ssize_t)len)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n >= 0)
      errno = EIO; /* a packet cut: the kernel would take the rest as another */
    return -1;
  }
}
