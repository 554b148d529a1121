/* SPDX-License-Identifier: MIT */
/* The pairing agent of a bluez client (src/backend/bluez/agent.c). */
#ifndef BLEAK_BLUEZ_AGENT_H
#define BLEAK_BLUEZ_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/bluez/bus.h"
#include "core/backend.h"

typedef struct bz_agent bz_agent;

/* Export an agent object for @p client on @p bus. */
int bz_agent_new(bk_bus *bus, bleak_client *client, bz_agent **out);
void bz_agent_free(bz_agent *a);
const char *bz_agent_path(const bz_agent *a);
/* "KeyboardDisplay" with a pairing callback, else "NoInputNoOutput". */
const char *bz_agent_capability(const bz_agent *a);
/* Answer the pending question. Errors: STATE (none pending), INVALID_ARG. */
int bz_agent_reply(bz_agent *a, bool accept, uint32_t passkey);

#endif /* BLEAK_BLUEZ_AGENT_H */
