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
    ("daemon_cold_ms", "bluetoothd CPU in the cold connect (ms)", True, None, None),
    ("daemon_read_us", "bluetoothd CPU per read (us)", True, None, None),
    ("daemon_notify_us", "bluetoothd CPU per notification (us)", True, None, None),
    ("daemon_cpu_ms", "bluetoothd CPU over the whole run (ms)", True, None, None),
]


def per_op(r, key, n):
    """us of bluetoothd's CPU per operation of a phase, from the client's
    daemon_*_cpu_ms (read around the phase); None when not measured."""
    v = (r or {}).get(key)
    return v * 1000.0 / n if v is not None and n else None


def daemon_costs(m, r):
    """Adds bluetoothd's per-phase costs of one bluez-path run to @p m."""
    r = r or {}
    m["daemon_cold_ms"] = r.get("daemon_connect_cold_cpu_ms")
    m["daemon_read_us"] = per_op(r, "daemon_read_cpu_ms", len(r.get("read_ms") or []))
    m["daemon_notify_us"] = per_op(r, "daemon_notify_cpu_ms", r.get("notify_received") or 0)


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
            raw = R.load(res, name)
            m = R.metrics(raw, None)
            if m is not None and c != "hci":
                m["daemon_cpu_ms"] = (R.load(res, name + ".daemon") or {}).get("bluetoothd_cpu_ms")
                daemon_costs(m, raw)
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


def share(part, whole):
    return "%.0f%%" % (100.0 * part / whole) if part is not None and whole else "?"


def bounds(c):
    """What bounds each bluez goal missed on the unlimited link: a coarse
    profile of one operation (its wall time; the client's CPU; bluetoothd's
    CPU, read around the phase), and the best ratio the daemon's share
    allows when both D-Bus clients pay it. Lines of markdown."""
    b, z = c["bleak"], c["bluez"]
    if not b or not z:
        return []
    out = []

    def ratio(key):
        return R.ratio(z.get(key), b.get(key))

    r = ratio("notify_ps")
    if r is not None and r < 4 and z.get("notify_ps"):
        wall = 1e6 / z["notify_ps"]
        d, cl = z.get("daemon_notify_us"), z.get("notify_cpu_us")
        bd = b.get("daemon_notify_us")
        cap = ("; while bluetoothd spends %.0f us per notification on Bleak's path too, no "
               "client on it can exceed %.1fx Bleak's rate" % (d, (1e6 / b["notify_ps"]) / d)
               if d and b.get("notify_ps") else "")
        out.append("- notifications on bluez, %.2fx Bleak (goal 4x): %.0f us per notification "
                   "at %.0f/s; bleak-c's own CPU %s us (%s), bluetoothd's %s us (%s; %s on "
                   "Bleak's run): each notification crosses the kernel's L2CAP socket into "
                   "bluetoothd, which writes it to the AcquireNotify socket we read%s. The "
                   "rest of the time is the kernel's (vhci, L2CAP, two unix sockets) on the "
                   "guest's two emulated CPUs; %s notifications were lost on the way." % (
                       r, wall, z["notify_ps"], R.fmt(cl), share(cl, wall), R.fmt(d),
                       share(d, wall), R.fmt(bd), cap, R.fmt(z.get("notify_lost"))))
    r = ratio("read_ms")
    if r is not None and r > 0.7 and z.get("read_ms"):
        wall = z["read_ms"] * 1000.0
        d = z.get("daemon_read_us")
        out.append("- read latency on bluez, %.2fx Bleak (goal <=0.7x): %.0f us per read, of "
                   "which bluetoothd's CPU is %s us (%s; %s us on Bleak's run): a ReadValue "
                   "call goes to bluetoothd, which sends the ATT Read Request and answers the "
                   "call when the response is back; the two D-Bus hops and bluetoothd's work "
                   "are common to both clients, so only the client's own share (its "
                   "marshalling and wake-ups) can shrink." % (
                       r, wall, R.fmt(d), share(d, wall), R.fmt(b.get("daemon_read_us"))))
    r = ratio("connect_cold_ms")
    if r is not None and r > 0.5 and z.get("connect_cold_ms"):
        wall = z["connect_cold_ms"]
        d = z.get("daemon_cold_ms")
        out.append("- cold connect on bluez, %.2fx Bleak (goal <=0.5x): %.0f ms, bluetoothd's "
                   "CPU in it %s ms (%s; %s ms on Bleak's run): BlueZ connects, exchanges the "
                   "MTU and discovers the whole database itself before it says "
                   "ServicesResolved, which both clients wait for; the part a client owns is "
                   "reading the object tree after it." % (
                       r, wall, R.fmt(d), share(d, wall), R.fmt(b.get("daemon_cold_ms"))))
    return out


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
    why = bounds(r["unlimited"])
    if why:
        md.append("### What bounds the goals missed on bluez (unlimited link)\n")
        md.extend(why)
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
