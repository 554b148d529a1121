#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fake bluetoothd on a private D-Bus daemon, for the bluez backend's host
tests (tests/unit/bluez_host.sh). Scripted, as BlueZ 5.66 behaves:
  hci0, powered;
  dev_11_22_33_44_55_01: Connect fails once with le-connection-abort-by-local,
      then connects: the GATT objects (Battery: 2a19 read/notify) are
      exported, then ServicesResolved turns true; no Connected=true signal
      (5.66 sends none for a central's device); ReadValue gives 57; Disconnect
      says Connected=false, ServicesResolved=false;
  dev_11_22_33_44_55_02: Connect fails with the connection limit (EMLINK);
  dev_11_22_33_44_55_03: Connect always fails with le-connection-abort-by-local.
  dev_11_22_33_44_55_06: its first connect never resolves the services (a
      stale cache); RemoveDevice forgets it, a discovery finds it again,
      then it connects as 01 does;
  hci0's AdvertisementMonitorManager1 (bluetoothd -E): RegisterMonitor reads
      the monitor's Type and Patterns with GetManagedObjects, calls Activate,
      then dev_..._04 (manufacturer data ffff 010203) and dev_..._05 (none)
      appear; DeviceFound names 04 when a pattern matches it;
  org.bleak.Test.Calls(s member) -> u: how often a Device1 method was called
  (member "Connect:01" for the first device's).
    fake_bluez.py READY_FILE
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
ADAPTER = "/org/bluez/hci0"
calls = {}


def count(key):
    calls[key] = calls.get(key, 0) + 1
    return calls[key]


class Obj(dbus.service.Object):
    def __init__(self, path, iface, props):
        super().__init__(bus, path)
        self.path, self.iface, self.props = path, iface, props

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def set(self, **kv):
        self.props.update(kv)
        self.PropertiesChanged(self.iface, kv, [])

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        count("Get")
        return self.props[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props


class Root(dbus.service.Object):
    def __init__(self):
        super().__init__(bus, "/")
        self.objs = {}

    def add(self, o, signal=True):
        self.objs[o.path] = o
        if signal:
            self.InterfacesAdded(o.path, {o.iface: o.props})

    @dbus.service.signal(OM, signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, ifaces):
        pass

    def remove(self, path):
        gone = [p for p in self.objs if p == path or p.startswith(path + "/")]
        for p in gone:
            o = self.objs.pop(p)
            o.remove_from_connection()
            self.InterfacesRemoved(p, [o.iface])
        return gone

    @dbus.service.signal(OM, signature="oas")
    def InterfacesRemoved(self, path, ifaces):
        pass

    @dbus.service.method(OM, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        count("GetManagedObjects")
        return {p: {o.iface: o.props} for p, o in self.objs.items()}

    @dbus.service.method("org.bleak.Test", in_signature="s", out_signature="u")
    def Calls(self, key):
        return calls.get(key, 0)


class Adapter(Obj):
    @dbus.service.method("org.bluez.AdvertisementMonitorManager1", in_signature="o",
                         sender_keyword="sender", async_callbacks=("ok", "fail"))
    def RegisterMonitor(self, app, ok, fail, sender=None):
        count("RegisterMonitor")
        ok()
        GLib.idle_add(lambda: self.monitor(sender, app) and False)

    @dbus.service.method("org.bluez.Adapter1", in_signature="o")
    def RemoveDevice(self, path):
        count("RemoveDevice")
        if root.remove(path):
            forgotten.append(int(path[-2:], 16))

    @dbus.service.method("org.bluez.Adapter1", in_signature="a{sv}")
    def SetDiscoveryFilter(self, f):
        pass

    @dbus.service.method("org.bluez.Adapter1")
    def StartDiscovery(self):
        count("StartDiscovery")
        self.set(Discovering=dbus.Boolean(True))

        def found():
            while forgotten:
                d = Dev(forgotten.pop())
                d.props["RSSI"] = dbus.Int16(-40)
                root.add(d)
            return False
        GLib.timeout_add(50, found)

    @dbus.service.method("org.bluez.Adapter1")
    def StopDiscovery(self):
        self.set(Discovering=dbus.Boolean(False))

    @dbus.service.method("org.bluez.AdvertisementMonitorManager1", in_signature="o")
    def UnregisterMonitor(self, app):
        count("UnregisterMonitor")

    def monitor(self, sender, app):
        objs = bus.get_object(sender, app).GetManagedObjects(dbus_interface=OM)
        for path, ifaces in objs.items():
            m = ifaces.get("org.bluez.AdvertisementMonitor1")
            if m is None or m.get("Type") != "or_patterns":
                continue
            mon = bus.get_object(sender, path)
            mon.Activate(dbus_interface="org.bluez.AdvertisementMonitor1")
            adv = [0xff, 0xff, 0x01, 0x02, 0x03]  # AD type 0xff: ffff 010203
            matched = any(int(t) == 0xff and bytes(adv[int(st):int(st) + len(c)]) == bytes(c)
                          for st, t, c in m["Patterns"])
            for n, mfr in ((4, True), (5, False)):
                d = Dev(n)
                d.props["RSSI"] = dbus.Int16(-50)
                if mfr:
                    d.props["ManufacturerData"] = dbus.Dictionary(
                        {dbus.UInt16(0xffff): dbus.Array([1, 2, 3], signature="y")},
                        signature="qv")
                if d.path not in root.objs:
                    root.add(d)
                if mfr and matched:
                    mon.DeviceFound(dbus.ObjectPath(d.path),
                                    dbus_interface="org.bluez.AdvertisementMonitor1")
        return False


forgotten = []  # devices RemoveDevice took, for the next discovery to find
root = Root()
root.add(Adapter(ADAPTER, "org.bluez.Adapter1",
             {"Address": "AA:BB:CC:00:00:01", "Powered": dbus.Boolean(True),
              "Alias": "fake", "Discovering": dbus.Boolean(False)}), signal=False)


class Chrc(Obj):
    @dbus.service.method("org.bluez.GattCharacteristic1", in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, opts):
        count("ReadValue")
        return dbus.Array([dbus.Byte(0x57)], signature="y")


class Dev(Obj):
    def __init__(self, n):
        self.n = n
        addr = "11:22:33:44:55:%02X" % n
        super().__init__("%s/dev_%s" % (ADAPTER, addr.replace(":", "_")), "org.bluez.Device1",
                         {"Address": addr, "Name": "fake-%d" % n,
                          "Connected": dbus.Boolean(False),
                          "ServicesResolved": dbus.Boolean(False),
                          "Paired": dbus.Boolean(False)})

    @dbus.service.method("org.bluez.Device1", async_callbacks=("ok", "fail"))
    def Connect(self, ok, fail):
        k = count("Connect:%02d" % self.n)
        if self.n == 2:
            fail(dbus.exceptions.DBusException(
                "le-connection-concurrent-connection-limit", name="org.bluez.Error.Failed"))
            return
        if self.n == 3 or (self.n == 1 and k == 1):
            fail(dbus.exceptions.DBusException("le-connection-abort-by-local",
                                               name="org.bluez.Error.Failed"))
            return
        self.props["Connected"] = dbus.Boolean(True)  # said by no signal, as 5.66
        ok()
        if self.n == 6 and calls.get("RemoveDevice", 0) == 0:
            return  # a stale cache: ServicesResolved never comes

        def resolve():
            svc = self.path + "/service0010"
            if svc not in root.objs:
                root.add(Obj(svc, "org.bluez.GattService1",
                             {"UUID": "0000180f-0000-1000-8000-00805f9b34fb",
                              "Primary": dbus.Boolean(True)}))
                root.add(Chrc(svc + "/char0011", "org.bluez.GattCharacteristic1",
                              {"UUID": "00002a19-0000-1000-8000-00805f9b34fb",
                               "Flags": dbus.Array(["read", "notify"], signature="s"),
                               "Value": dbus.Array([], signature="y"),
                               "MTU": dbus.UInt16(23)}))
            root.objs[svc + "/char0011"].props["MTU"] = dbus.UInt16(247)  # no signal
            self.set(ServicesResolved=dbus.Boolean(True))
            return False
        GLib.timeout_add(30, resolve)

    @dbus.service.method("org.bluez.Device1")
    def Disconnect(self):
        count("Disconnect:%02d" % self.n)
        self.props["Connected"] = dbus.Boolean(False)
        self.set(Connected=dbus.Boolean(False), ServicesResolved=dbus.Boolean(False))


for n in (1, 2, 3, 6):
    root.add(Dev(n), signal=False)
name = dbus.service.BusName("org.bluez", bus)
with open(sys.argv[1], "w") as f:
    f.write("ready\n")
GLib.MainLoop().run()
