/* SPDX-License-Identifier: MIT */
/* A listening unix socket for bleak-vctl's H4 and control sockets. */
#ifndef BLEAK_VCTL_TOOL_LISTEN_H
#define BLEAK_VCTL_TOOL_LISTEN_H

/* Listen on PATH (non-blocking, close-on-exec): bound under a temporary
 * name and renamed into place once listening, so that the socket's
 * existence means it accepts. The fd, or -1 (said on stderr). */
int listen_unix(const char *path);

#endif
