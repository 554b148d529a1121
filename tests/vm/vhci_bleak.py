#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Debian's python3-bleak against bleak-vctl's virtual fixture through the
kernel (/dev/vhci) and bluetoothd: find it, connect on ADAPTER, read the
Battery Level, take 3 heart rate notifications, print what it got:
    battery=87 notifications=3 first=00xx"""
import asyncio
import sys

from bleak import BleakClient, BleakScanner


async def main(address, adapter):
    device = None
    for _ in range(3):
        device = await BleakScanner.find_device_by_address(address, timeout=10.0, adapter=adapter)
        if device:
            break
    if not device:
        print("not found", address)
        return 2
    for attempt in range(3):
        try:
            async with BleakClient(device, timeout=30.0, adapter=adapter) as client:
                battery = await client.read_gatt_char("2a19")
                got = []
                done = asyncio.Event()

                def on_hr(_char, data):
                    got.append(bytes(data))
                    if len(got) >= 3:
                        done.set()

                await client.start_notify("2a37", on_hr)
                await asyncio.wait_for(done.wait(), 10.0)
                await client.stop_notify("2a37")
                print("battery=%d notifications=%d first=%s" % (battery[0], len(got), got[0].hex()))
                return 0
        except Exception as e:  # noqa: BLE001 - report and retry
            print("attempt %d: %r" % (attempt + 1, e))
    return 1


sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
