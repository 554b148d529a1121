# SPDX-License-Identifier: MIT
"""The virtual-peripheral part of make bench's report (bench/report.py):
the results of bench/guest-virtual.sh, one table per link model, ratios to
Bleak measured in the same run, and on a modeled link the efficiency of
each client: its rate over the link's physical limit as bleak-vctl
computed and printed it."""
import os
import re

import report as R

LINKS = ("unlimited", "2m")
CLIENTS = ("bleak", "bluez", "hci")

# (key, label, lower is better, goal for bluez, goal for hci): the
# virtual-controller issue's goals, ratios to Bleak in the same run.
ROWS = [
    ("connect_cold_ms", "connect + discovery, cold (first of the run) (ms)", True, 0.5, 0.5),
    ("connect_cached_ms", "connect + discovery, cached (ms)", True, None, None),
    ("disconnect_ms", "disconnect (ms)", True, None, None),
    ("read_ms", "read latency, median (ms)", True, 0.7, 0.3),
    ("read_p99_ms", "read latency, p99 (ms)", True, None, None),
    ("write_ms", "write with response, median (ms)", True, None, None),
    ("long_read_ms", "long read of 512 bytes, median (ms)", True, None, None),
    ("wwr_pps", "write without response (packets/s)", False, 10, 10),
    ("wwr_cpu_us", "client CPU per write without response (us)", True, None, None),
    ("notify_ps", "notifications (per s)", False, 4, 4),
    ("notify_cpu_us", "client CPU per notification (us)", True, None, None),
    ("daemon_cpu_ms", "bluetoothd CPU over the whole run (ms)", True, None, None),
]


def limit_of(res, link):
    """bytes/s of ATT payload each way, as bleak-vctl printed it; None when
    the link is unlimited (or the line is missing)."""
    try:
        with open(os.path.join(res, "virtual-%s-limit.txt" % link)) as f:
            m = re.search(r"limit (\d+) bytes/s", f.read())
            return float(m.group(1)) if m else None
    except OSError:
        return None


def results(res):
    """{link: {client: metrics or None}}; bluetoothd's CPU added for bluez."""
    out = {}
    for link in LINKS:
        out[link] = {}
        for c in CLIENTS:
            name = "virtual-%s-%s" % (link, c)
            m = R.metrics(R.load(res, name), None)
            if m is not None and c != "hci":
                m["daemon_cpu_ms"] = (R.load(res, name + ".daemon") or {}).get("bluetoothd_cpu_ms")
            out[link][c] = m
    return out


def efficiency(m, limit, goal=None):
    """Rate over limit both ways; with @p goal (a fraction) each is judged."""
    if not m or not limit:
        return "-"
    parts = []
    for key, what in (("wwr_Bps", "writes without response"), ("notify_Bps", "notifications")):
        v = m.get(key)
        e = v / limit if v else None
        judged = "" if goal is None or e is None else \
            " (%s, >=%.0f%%)" % ("met" if e >= goal else "missed", 100 * goal)
        parts.append("%s %s%s" % (what, "%.0f%%" % (100.0 * e) if e else "-", judged))
    return ", ".join(parts)


def section(res):
    """(markdown, the links whose table has no Bleak baseline); prints the
    tables. Empty markdown when the job did not run at all."""
    r = results(res)
    if not any(m for link in LINKS for m in r[link].values()):
        return "", list(LINKS)
    md = ["""## Against the virtual peripheral (bleak-vctl)

The same workloads against `bench/virtual-peripheral.json` (the benchmark
peripheral's database and control point) served by `bleak-vctl`: Bleak and
bleak-c bluez through the kernel and bluetoothd (the controller registered
with `bleak-vctl --vhci`), bleak-c hci over bleak-vctl's H4 socket. The
peripheral answers at memory speed, so the clients are what is measured.
`unlimited`: no air at all; `2m`: a modeled 2M PHY link (connection events
of 7.5 ms, 251-octet LL packets), whose limit bleak-vctl computes.
Efficiency is a client's rate over that limit (payload of 510-byte writes
and 512-byte notifications against the limit at ATT MTU 517); the goal on
the modeled link is 90% both ways on hci.
"""]
    missing = []
    for link in LINKS:
        c = r[link]
        if not c["bleak"]:
            missing.append(link)
        t = R.table(None, c["bleak"], c["bluez"], c["hci"], ROWS)
        R.print_table("virtual peripheral, link %s" % link, t)
        limit = limit_of(res, link)
        md.append("### Link %s\n\n%s\n" % (link, R.md_table(t)))
        for who in CLIENTS:
            md.append("- %s: %s" % ({"bleak": "Bleak", "bluez": "bleak-c bluez",
                                     "hci": "bleak-c hci"}[who], R.notes(c[who])))
        if limit:
            md.append("- link limit %.0f bytes/s each way; efficiency: Bleak %s; bleak-c bluez "
                      "%s; bleak-c hci %s" % (limit, efficiency(c["bleak"], limit),
                                              efficiency(c["bluez"], limit),
                                              efficiency(c["hci"], limit, 0.9)))
        md.append("")
    return "\n".join(md) + "\n", missing


def series(res):
    """Chart bars (unlimited link): ratio to Bleak, longer is better."""
    c = results(res)["unlimited"]
    out = []
    for key, label, lower, _, _ in ROWS:
        if key.endswith("p99_ms") or key == "daemon_cpu_ms":
            continue
        vals = {}
        for who, name in (("bluez", "bleak-c bluez (virtual)"), ("hci", "bleak-c hci (virtual)")):
            r = R.ratio((c[who] or {}).get(key), (c["bleak"] or {}).get(key))
            vals[name] = (1 / r if lower else r) if r else None
        out.append((label.split(" (")[0] + " (virtual)", vals))
    return out
