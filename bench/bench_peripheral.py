#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The benchmark peripheral: a BlueZ GATT application on its own controller
(the guest's hci1), with a wide database and the fd fast paths on its side,
so that the peripheral is not what a benchmark measures.

    /usr/bin/python3 bench/bench_peripheral.py --adapter hci1 --ready FILE

Database (besides BlueZ's own GAP and GATT services):
- the bench service b1e60000-...: read20 (20 bytes), write (with response),
  wwr (write without response, through AcquireWrite: the peripheral counts
  packets, bytes, sequence gaps), notify (through AcquireNotify: bursts of
  sequence-numbered notifications on command), long (512 bytes), control;
- 11 filler services: 84 characteristics in all (every other one notifies:
  BlueZ adds its CCCD), 37 User Description descriptors.
With BlueZ's services: 14 services, 94 characteristics, about 80
descriptors, as the benchmark issue asks (a dozen services, ~90
characteristics, ~80 descriptors).

Control (write): 01 reset the counters; 02 N(u32) SIZE(u16): a burst of N
notifications of SIZE bytes (capped at what the link carries), each
starting with its u32 sequence number. Control (read): the counters as
JSON. Reuses the fixture's D-Bus classes (tests/vm/fixture/peripheral.py).
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "vm", "fixture"))

import dbus  # noqa: E402
import dbus.mainloop.glib  # noqa: E402
import dbus.service  # noqa: E402
from gi.repository import GLib  # noqa: E402

import peripheral as fx  # noqa: E402


def uuid(service, char):
    return "b1e6%02x%02x-7e57-4c0d-9e00-000000000002" % (service, char)


class AcquiredCharacteristic(fx.Characteristic):
    """A characteristic whose writes (AcquireWrite) or notifications
    (AcquireNotify) go through a socket with bluetoothd: the fast path."""

    def __init__(self, service, uuid_, flags, bench):
        # Writes that come as WriteValue (when bluetoothd does not acquire)
        # are counted as well.
        super().__init__(service, uuid_, flags, on_write=bench.count_write)
        self.bench = bench

    def props(self):
        p = super().props()
        if "write-without-response" in self.flags:
            p[fx.CHRC_IFACE]["WriteAcquired"] = dbus.Boolean(False)
        if "notify" in self.flags:
            p[fx.CHRC_IFACE]["NotifyAcquired"] = dbus.Boolean(False)
        return p

    @dbus.service.method(fx.CHRC_IFACE, in_signature="a{sv}", out_signature="hq")
    def AcquireWrite(self, options):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mtu = int(options.get("mtu", 23))
        self.bench.reader(mine, mtu)
        fd = dbus.types.UnixFd(theirs.fileno())
        theirs.close()
        return fd, dbus.UInt16(mtu)

    @dbus.service.method(fx.CHRC_IFACE, in_signature="a{sv}", out_signature="hq")
    def AcquireNotify(self, options):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mtu = int(options.get("mtu", 23))
        self.bench.notifier = (mine, mtu)
        fd = dbus.types.UnixFd(theirs.fileno())
        theirs.close()
        return fd, dbus.UInt16(mtu)


class Bench:
    def __init__(self, bus):
        self.app = fx.Application(bus, "/org/bleak/bench")
        self.reset()
        self.notifier = None
        self.build()

    def reset(self):
        self.stats = {"wwr_packets": 0, "wwr_bytes": 0, "wwr_gaps": 0, "wwr_first": 0.0,
                      "wwr_last": 0.0, "notify_sent": 0, "mtu": 0}
        self.next_seq = None

    def count_write(self, data):
        s = self.stats
        now = time.monotonic()
        if s["wwr_packets"] == 0:
            s["wwr_first"] = now
        s["wwr_last"] = now
        s["wwr_packets"] += 1
        s["wwr_bytes"] += len(data)
        if len(data) >= 4:
            seq = struct.unpack_from("<I", data)[0]
            if self.next_seq is not None and seq != self.next_seq:
                s["wwr_gaps"] += 1
            self.next_seq = seq + 1

    def reader(self, sock, mtu):
        # Writes without response arrive one per packet: counted here, off
        # the D-Bus main loop, so counting never slows the link.
        self.stats["mtu"] = mtu

        def run():
            while True:
                try:
                    data = sock.recv(1024)
                except OSError:
                    return
                if not data:
                    return
                self.count_write(data)
        threading.Thread(target=run, daemon=True).start()

    def burst(self, count, size):
        if not self.notifier:
            print("bench: burst without a subscriber", file=sys.stderr)
            return
        sock, mtu = self.notifier
        size = max(4, min(size, mtu - 3, 512))

        def run():
            pad = bytes(range(256)) * 2
            for seq in range(count):
                try:
                    sock.send(struct.pack("<I", seq) + pad[:size - 4])
                except OSError:
                    return
                self.stats["notify_sent"] = seq + 1
        threading.Thread(target=run, daemon=True).start()

    def control(self, data):
        if not data:
            raise fx.InvalidLength()
        if data[0] == 0x01:
            self.reset()
        elif data[0] == 0x02 and len(data) >= 7:
            count, size = struct.unpack_from("<IH", data, 1)
            self.burst(count, size)
        else:
            raise fx.InvalidArgs("unknown control command")

    def build(self):
        app = self.app
        s = fx.Service(app, 0, uuid(0, 0))
        fx.Characteristic(s, uuid(0, 1), ["read"], value=bytes(range(20)))
        fx.Characteristic(s, uuid(0, 2), ["read", "write"], value=bytes(20))
        AcquiredCharacteristic(s, uuid(0, 3), ["write-without-response"], self)
        AcquiredCharacteristic(s, uuid(0, 4), ["notify"], self)
        fx.Characteristic(s, uuid(0, 5), ["read"], value=bytes(i & 0xFF for i in range(512)))
        fx.Characteristic(s, uuid(0, 6), ["read", "write"], on_write=self.control,
                          on_read=lambda: json.dumps(self.stats).encode()[:512])
        n_desc = 0
        for si in range(1, 12):
            svc = fx.Service(app, si, uuid(si, 0))
            for ci in range(1, 9 if si <= 7 else 8):
                flags = ["read", "notify"] if ci % 2 == 0 else ["read", "write"]
                c = fx.Characteristic(svc, uuid(si, ci), flags, value=bytes([si, ci]))
                if n_desc < 37 and ci % 2 == 1:
                    fx.Descriptor(c, "2901", ["read"], value=b"filler %d.%d" % (si, ci))
                    n_desc += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", default="hci1")
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    adapter_path = "/org/bluez/" + args.adapter
    adapter = bus.get_object(fx.BLUEZ, adapter_path)
    props = dbus.Interface(adapter, fx.PROP_IFACE)
    props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
    props.Set("org.bluez.Adapter1", "Alias", dbus.String(fx.LOCAL_NAME))
    address = str(props.Get("org.bluez.Adapter1", "Address"))
    bench = Bench(bus)
    adv = fx.Advertisement(bus)
    loop = GLib.MainLoop()
    state = {"app": False, "adv": False}

    def done(what):
        def cb():
            state[what] = True
            if all(state.values()):
                with open(args.ready + ".tmp", "w") as f:
                    json.dump({"adapter": args.adapter, "address": address,
                               "name": fx.LOCAL_NAME, "pid": os.getpid()}, f)
                os.rename(args.ready + ".tmp", args.ready)
                print("bench peripheral: serving on %s (%s)" % (args.adapter, address), flush=True)
                # Then every 2 s (not before: it would race the first
                # registration; more often, scans see fewer reports).
                GLib.timeout_add(2000, readvertise)
        return cb

    def failed(what):
        def cb(e):
            print("bench peripheral: %s failed: %s" % (what, e), file=sys.stderr)
            loop.quit()
        return cb

    advm = dbus.Interface(adapter, fx.ADV_MANAGER_IFACE)

    busy = {"now": False}

    def readvertise():
        # btvirt reports advertisements only when advertising starts: do it
        # again now and then while nobody is connected (as the fixture).
        # One at a time; a failed Unregister (not registered: an earlier
        # Register failed, as bluetoothd 5.66 does now and then) still
        # registers, else the peripheral would stop advertising for good
        # (python3-bleak's main runs then found nothing).
        if busy["now"]:
            return True
        om = dbus.Interface(bus.get_object(fx.BLUEZ, "/"), fx.OM_IFACE)
        try:
            connected = any(i.get("org.bluez.Device1", {}).get("Connected")
                            for p, i in om.GetManagedObjects().items()
                            if p.startswith(adapter_path + "/"))
        except dbus.exceptions.DBusException:
            return True
        if connected:
            return True
        busy["now"] = True

        def end(e=None):
            busy["now"] = False
            if e is not None and "AlreadyExists" not in str(e):
                print("bench peripheral: re-advertising: %s" % e, file=sys.stderr, flush=True)

        def register(*_):
            advm.RegisterAdvertisement(adv.path, fx.NO_OPTIONS, reply_handler=end,
                                       error_handler=end)
        advm.UnregisterAdvertisement(adv.path, reply_handler=register, error_handler=register)
        return True

    dbus.Interface(adapter, fx.GATT_MANAGER_IFACE).RegisterApplication(
        bench.app.path, fx.NO_OPTIONS, reply_handler=done("app"), error_handler=failed("RegisterApplication"))
    advm.RegisterAdvertisement(adv.path, fx.NO_OPTIONS, reply_handler=done("adv"),
                               error_handler=failed("RegisterAdvertisement"))
    loop.run()


if __name__ == "__main__":
    main()
