#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compare `bleak services --json [--read]` output with the fixture's known
database (fixture/database.json): the fixture's services appear in order,
each with its characteristics in order (UUID, properties, descriptor UUIDs),
and, when the output carries values, every value the database lists.
Services the output has beyond the database (BlueZ's own) are ignored.
Prints one line per difference; exit status 1 when there is any."""
import json
import sys

# A client sees the characteristic declaration's properties; the server's
# permission flags (encrypt-read...) show as plain read / write.
CLIENT_VIEW = {"encrypt-read": "read", "encrypt-authenticated-read": "read",
               "secure-read": "read", "encrypt-write": "write",
               "encrypt-authenticated-write": "write", "secure-write": "write"}


def client_props(props):
    return sorted(set(CLIENT_VIEW.get(p, p) for p in props))


def main():
    db = json.load(open(sys.argv[1]))
    out = json.load(open(sys.argv[2]))
    errors = []
    got = out["services"]
    pos = 0
    for want in db["services"]:
        while pos < len(got) and got[pos]["uuid"] != want["uuid"]:
            pos += 1
        if pos == len(got):
            errors.append("service %s missing (or out of order)" % want["uuid"])
            break
        have = got[pos]
        pos += 1
        wc, hc = want["characteristics"], have["characteristics"]
        if [c["uuid"] for c in wc] != [c["uuid"] for c in hc]:
            errors.append("service %s: characteristics %s, expected %s" % (
                want["uuid"], [c["uuid"] for c in hc], [c["uuid"] for c in wc]))
            continue
        for w, h in zip(wc, hc):
            if client_props(w["properties"]) != sorted(h["properties"]):
                errors.append("%s: properties %s, expected %s" % (w["uuid"], h["properties"], w["properties"]))
            if not h["handle"] < h["value_handle"]:
                errors.append("%s: handle %d, value handle %d" % (w["uuid"], h["handle"], h["value_handle"]))
            wd, hd = w["descriptors"], h["descriptors"]
            if sorted(d["uuid"] for d in wd) != sorted(d["uuid"] for d in hd):
                errors.append("%s: descriptors %s, expected %s" % (
                    w["uuid"], [d["uuid"] for d in hd], [d["uuid"] for d in wd]))
            if "value_hex" in w and any("value_hex" in c or "error" in c for c in hc):
                if h.get("value_hex") != w["value_hex"]:
                    errors.append("%s: value %s, expected %s" % (
                        w["uuid"], h.get("value_hex", h.get("error")), w["value_hex"]))
            for d in wd:
                if "value_hex" not in d:
                    continue
                match = [x for x in hd if x["uuid"] == d["uuid"]]
                if match and ("value_hex" in match[0] or "error" in match[0]) \
                        and match[0].get("value_hex") != d["value_hex"]:
                    errors.append("%s/%s: value %s, expected %s" % (
                        w["uuid"], d["uuid"], match[0].get("value_hex", match[0].get("error")),
                        d["value_hex"]))
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
