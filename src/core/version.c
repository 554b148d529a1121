/* SPDX-License-Identifier: MIT */
#include "bleak/version.h"

const char *bleak_version(void) { return BLEAK_VERSION_STRING; }
