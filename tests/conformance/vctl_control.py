#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bleak-vctl's control socket end to end: bleak-vctl on a unix socket
with --control, requests on the control socket (status, a bad line, a
value set then read back by `bleak read` over the hci backend, a write by
`bleak write` seen in "received", a fault's ATT error), two clients at once,
the socket gone after SIGTERM.
    vctl_control.py BLEAK_VCTL BLEAK_TOOL DATABASE.json"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ADDR = "C0:DE:00:00:00:01"
failed = 0


def check(what, cond, detail=""):
    global failed
    print("%s - %s%s" % ("ok" if cond else "not ok", what, "" if cond else ": %s" % (detail,)))
    if not cond:
        failed += 1


class Control:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def req(self, **kw):
        return self.send_raw(json.dumps(kw).encode() + b"\n")


def main():
    vctl, tool, db = sys.argv[1:4]
    d = tempfile.mkdtemp(prefix="bleak-vctl-ctl.", dir="/tmp")
    h4, ctl = d + "/h4", d + "/ctl"
    log = open(d + "/vctl.log", "w")
    p = subprocess.Popen([vctl, "--verbose", "--socket", h4, "--control", ctl, db],
                         stderr=log)
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(h4) and os.path.exists(ctl)):
            if p.poll() is not None or time.monotonic() > deadline:
                print("not ok - bleak-vctl did not listen")
                sys.exit(1)
            time.sleep(0.05)
        env = dict(os.environ, BLEAK_BACKEND="hci", BLEAK_HCI="unix:" + h4)

        def bleak(*args):
            return subprocess.run([tool, "--timeout", "10"] + list(args), env=env,
                                  capture_output=True, text=True, timeout=60)

        c = Control(ctl)
        r = c.req(cmd="status", id=1)
        check("status ok, id echoed", r.get("ok") is True and r.get("id") == 1, r)
        per = r.get("peripherals", [{}])[0]
        check("status: the fixture", per.get("name") == "bleak-fx" and
              per.get("address") == ADDR and per.get("links") == 0, per)
        check("status: no host", r.get("host_connected") is False, r)
        r = c.send_raw(b"this is not json\n")
        check("a bad line: an error", r.get("ok") is False and "not JSON" in r.get("error", ""), r)
        r = c.req(cmd="status", bogus=1)
        check("an unknown key: an error", r.get("ok") is False and "bogus" in r["error"], r)
        r = c.req(cmd="set", uuid="2a19", value_hex="2a")
        check("set 2a19", r.get("ok") is True and r.get("handle") == 0x12, r)
        out = bleak("read", ADDR, "2a19")
        check("read back through the hci backend", out.returncode == 0 and
              out.stdout.strip().lower().startswith("2a"), (out.returncode, out.stdout, out.stderr))
        # A second client at the same time sees the same peripherals.
        c2 = Control(ctl)
        r = c2.req(cmd="received", id="two")
        check("received on a second client", r.get("ok") is True and r.get("id") == "two", r)
        out = bleak("write", ADDR, "b1e50002-7e57-4c0d-9e00-000000000001", "0102")
        check("bleak write", out.returncode == 0, (out.returncode, out.stdout, out.stderr))
        r = c.req(cmd="received")
        writes = [w for w in r.get("writes", []) if w["handle"] == 0x23]
        check("received: the write", len(writes) == 1 and writes[0]["value_hex"] == "0102" and
              writes[0]["command"] is False, r)
        r = c.req(cmd="fault", error_uuid="2a19", error_code=0x80)
        check("fault", r.get("ok") is True and r["faults"]["error_handle"] == 0x12, r)
        out = bleak("read", ADDR, "2a19")
        check("the fault's ATT error", out.returncode == 5, (out.returncode, out.stdout, out.stderr))
        r = c.req(cmd="clear")
        check("clear", r.get("ok") is True, r)
        out = bleak("read", ADDR, "2a19")
        check("read after clear", out.returncode == 0, (out.returncode, out.stderr))
        r = c.req(cmd="hardware_error")
        check("hardware_error without a host", r.get("ok") is False and
              "no host" in r.get("error", ""), r)
        c.s.close()
        c2.s.close()
    finally:
        p.terminate()
        rc = p.wait(timeout=10)
        log.close()
    check("clean exit on SIGTERM", rc == 0, rc)
    check("control socket unlinked", not os.path.exists(ctl))
    if failed:
        print(open(d + "/vctl.log").read())
    shutil.rmtree(d, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
