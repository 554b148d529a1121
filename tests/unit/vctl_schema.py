#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""docs/vctl.schema.json accepts the guest fixture's database.json and the
documented example, and refuses what the loader refuses (an unknown key, a
bad UUID, a flag nobody knows, value and value_hex both).
    vctl_schema.py PROJECT_DIR"""
import json
import sys

import jsonschema


def main():
    root = sys.argv[1]
    schema = json.load(open(root + "/docs/vctl.schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    good = [json.load(open(root + "/tests/vm/fixture/database.json")),
            json.load(open(root + "/examples/vctl/sensors.json")),
            json.load(open(root + "/bench/virtual-peripheral.json")),
            {"peripherals": [{"address": "AA:BB:CC:DD:EE:FF", "mtu": 247,
                              "services": [{"uuid": "180d", "characteristics": [
                                  {"uuid": "2a37", "properties": ["notify"],
                                   "behaviour": {"type": "notify_stream", "rate_hz": 100}}]}],
                              "behaviours": [{"characteristic": "2a37", "index": 0,
                                              "type": "none"}],
                              "faults": {"error_uuid": "2a37", "error_code": 128,
                                         "delay_ms": 5, "drop_opcode": "confirm",
                                         "malformed_hex": "0b01"}}]}]
    bad = [{"servics": []},
           {"services": [{"uuid": "18x"}]},
           {"services": [{"uuid": "180d", "characteristics": [
               {"uuid": "2a37", "properties": ["fly"]}]}]},
           {"services": [{"uuid": "180d", "characteristics": [
               {"uuid": "2a37", "properties": ["read"], "value": "a", "value_hex": "00"}]}]},
           {"services": [{"uuid": "180d", "characteristics": [
               {"uuid": "2a37", "properties": ["write"], "behaviour": {"type": "echo"}}]}]},
           {"mtu": 600},
           {"behaviours": [{"type": "none"}]},
           {"faults": {"delay": 5}},
           {"faults": {"drop_opcode": "reed"}},
           {"faults": {"max_mtu": 22}},
           {"faults": {"error_handle": 3, "error_uuid": "2a00", "error_code": 1}}]
    failed = 0
    for i, doc in enumerate(good):
        errors = list(v.iter_errors(doc))
        if errors:
            print("good[%d] refused: %s" % (i, errors[0].message))
            failed += 1
    for i, doc in enumerate(bad):
        if v.is_valid(doc):
            print("bad[%d] accepted: %s" % (i, json.dumps(doc)))
            failed += 1
    print("%d good, %d bad, %d wrong" % (len(good), len(bad), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
