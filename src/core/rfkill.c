/* SPDX-License-Identifier: MIT */
/* rfkill state from sysfs (see rfkill.h). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "core/rfkill.h"

/* The first line of @p path into @p buf (without its newline); false when
 * it cannot be read. */
static bool read_line(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  bool ok = fgets(buf, (int)cap, f) != NULL;
  fclose(f);
  if (ok)
    buf[strcspn(buf, "\n")] = '\0';
  return ok;
}

/* One switch, the directory @p dir: blocked when soft or hard reads "1". */
static bool switch_blocked(const char *dir) {
  char path[700], v[8];
  snprintf(path, sizeof path, "%s/soft", dir);
  if (read_line(path, v, sizeof v) && !strcmp(v, "1"))
    return true;
  snprintf(path, sizeof path, "%s/hard", dir);
  return read_line(path, v, sizeof v) && !strcmp(v, "1");
}

/* Walk the rfkill* entries of @p dir; with @p want_type, only switches of
 * that type. *seen: whether one was looked at. */
static bool any_blocked(const char *dir, const char *want_type, bool *seen) {
  DIR *d = opendir(dir);
  if (!d)
    return false;
  bool blocked = false;
  struct dirent *e;
  while (!blocked && (e = readdir(d))) {
    if (strncmp(e->d_name, "rfkill", 6) || strlen(e->d_name) > 64)
      continue;
    char sw[512], path[600], type[32];
    snprintf(sw, sizeof sw, "%s/%s", dir, e->d_name);
    if (want_type) {
      snprintf(path, sizeof path, "%s/type", sw);
      if (!read_line(path, type, sizeof type) || strcmp(type, want_type))
        continue;
    }
    *seen = true;
    blocked = switch_blocked(sw);
  }
  closedir(d);
  return blocked;
}

bool bk_rfkill_blocked(const char *sysfs, const char *hci) {
  char dir[256];
  bool seen = false;
  if (!sysfs)
    sysfs = "/sys";
  if (hci && *hci && strlen(hci) < 32 && !strchr(hci, '/')) {
    snprintf(dir, sizeof dir, "%s/class/bluetooth/%s", sysfs, hci);
    bool blocked = any_blocked(dir, NULL, &seen);
    if (seen) /* the adapter's own switch decides */
      return blocked;
  }
  snprintf(dir, sizeof dir, "%s/class/rfkill", sysfs);
  return any_blocked(dir, "bluetooth", &seen);
}
