/* SPDX-License-Identifier: MIT */
/* bleak-vctl --control PATH: the control socket's clients on the loop,
 * each with its own session (src/vctl/control.h) on the one hub. */
#ifndef BLEAK_VCTL_TOOL_CONTROL_SRV_H
#define BLEAK_VCTL_TOOL_CONTROL_SRV_H

#include "bleak/loop.h"
#include "vctl/control.h"

typedef struct control_srv control_srv;

/* Listen on @p path; every client's requests go to a session on @p hub
 * whose actions go to @p act. @p after runs after each client's input
 * (the tool flushes the controller's output, re-arms its timer). NULL on
 * failure (said on stderr). */
control_srv *control_srv_new(bleak_loop *loop, const char *path, vctl_control_hub *hub,
                             vctl_control_act_fn act, void (*after)(void *user), void *user);
/* Closes every client and the socket, and unlinks it. NULL-safe. */
void control_srv_free(control_srv *srv);

#endif
