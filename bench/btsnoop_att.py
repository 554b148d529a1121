# SPDX-License-Identifier: MIT
"""Reading a btsnoop capture of the benchmark peripheral's controller
(btmon -i hci1 -w FILE): per connection, the ATT requests the central sent
for discovery, and the database the responses describe. Used by
bench/report.py; no dependency beyond the standard library."""
import struct

DISCOVERY = {0x04: "find-info", 0x06: "find-by-type", 0x08: "read-by-type",
             0x10: "read-by-group-type"}


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"btsnoop\0":
        raise ValueError("%s: not a btsnoop file" % path)
    _, link = struct.unpack_from(">II", data, 8)
    pos = 16
    while pos + 24 <= len(data):
        orig, incl, flags, _drops, _ts = struct.unpack_from(">IIIIq", data, pos)
        pos += 24
        pkt = data[pos:pos + incl]
        pos += incl
        if link == 2001:  # btmon's monitor format: opcode in the flags' low half
            opcode = flags & 0xFFFF
            kind = {2: 1, 3: 4, 4: 2, 5: 2}.get(opcode)  # cmd, event, acl tx, acl rx
            if kind is None:
                continue
            received = opcode in (3, 5)
            yield kind, received, pkt
        else:  # 1002: H4 type byte first
            yield pkt[0], bool(flags & 1), pkt[1:]


def connections(path):
    """Per connection: a list of (received, att_pdu) in order. ACL is
    reassembled per direction; ATT on the fixed channel and on EATT
    channels (their SDU length header skipped)."""
    conns, cur = [], None
    partial = {}
    for kind, received, pkt in records(path):
        if kind == 4 and len(pkt) >= 3:  # event
            code = pkt[0]
            if code == 0x3E and len(pkt) >= 4 and pkt[2] in (0x01, 0x0A) and pkt[3] == 0:
                cur = []
                conns.append(cur)
                partial = {}
            continue
        if kind != 2 or cur is None or len(pkt) < 4:
            continue
        hf, dlen = struct.unpack_from("<HH", pkt)
        pb = (hf >> 12) & 3
        data = pkt[4:4 + dlen]
        if pb in (0, 2):
            if len(data) < 4:
                continue
            l2len = struct.unpack_from("<H", data)[0]
            partial[received] = [l2len + 4, bytearray(data)]
        elif received in partial:
            partial[received][1] += data
        else:
            continue
        need, buf = partial[received]
        if len(buf) < need:
            continue
        del partial[received]
        cid = struct.unpack_from("<H", buf, 2)[0]
        payload = bytes(buf[4:need])
        if cid == 4:
            cur.append((received, payload))
        elif cid >= 0x40 and len(payload) > 2:  # an EATT channel's first K-frame
            cur.append((received, payload[2:]))
    return conns


def discovery_requests(conn):
    """ATT requests the central sent on one connection to learn the
    database: discovery, and the Database Hash a cache is checked with (the
    capture is the peripheral's: received = from the central)."""
    n = 0
    for received, pdu in conn:
        if received and pdu and pdu[0] in DISCOVERY:
            if pdu[0] == 0x08 and len(pdu) == 7:
                # Includes, characteristics, and the Database Hash (what a
                # cached connect asks instead of discovering).
                if struct.unpack_from("<H", pdu, 5)[0] not in (0x2802, 0x2803, 0x2B2A):
                    continue  # another read by UUID, not discovery
            n += 1
    return n


def database(conn):
    """The attributes the discovery responses of @p conn describe:
    {'services': [(start, end, uuid_len)], 'chars': [(decl, value, uuid_len,
    properties)], 'descs': [(handle, uuid_len)]}."""
    svcs, chars, infos = {}, {}, {}
    last_req = None
    for received, pdu in conn:
        if received:
            last_req = pdu
            continue
        if not pdu or last_req is None:
            continue
        op = pdu[0]
        if op == 0x11 and len(pdu) >= 2 and pdu[1] in (6, 20):
            e = pdu[1]
            for i in range(2, len(pdu) - e + 1, e):
                s, end = struct.unpack_from("<HH", pdu, i)
                svcs[s] = (s, end, e - 4)
        elif op == 0x09 and len(pdu) >= 2 and pdu[1] in (7, 21) and last_req[0] == 0x08 \
                and len(last_req) == 7 and struct.unpack_from("<H", last_req, 5)[0] == 0x2803:
            e = pdu[1]
            for i in range(2, len(pdu) - e + 1, e):
                h, props, v = struct.unpack_from("<HBH", pdu, i)
                chars[h] = (h, v, e - 5, props)
        elif op == 0x05 and len(pdu) >= 2 and pdu[1] in (1, 2):
            e = 4 if pdu[1] == 1 else 18
            for i in range(2, len(pdu) - e + 1, e):
                h = struct.unpack_from("<H", pdu, i)[0]
                infos[h] = e - 2
    known = set(chars) | {c[1] for c in chars.values()} | set(svcs)
    descs = sorted((h, n) for h, n in infos.items() if h not in known)
    return {"services": sorted(svcs.values()), "chars": sorted(chars.values()), "descs": descs}


def runs(sizes):
    """Lengths of the runs of equal values."""
    out, prev = [], None
    for s in sizes:
        if s == prev:
            out[-1] += 1
        else:
            out.append(1)
        prev = s
    return out


def lower_bound(db, mtu):
    """The fewest ATT requests a client can discover @p db with at @p mtu,
    knowing only what earlier responses told it: each response carries one
    entry format and what the MTU holds; services and characteristics take
    one more request to learn that none follow (unless the last one ends
    the handle space); a characteristic that notifies or indicates with
    room for one descriptor has its CCCD without asking (the spec says it
    has one); Find Information over neighbouring descriptor ranges can be
    merged only where every attribute between them has a 16-bit type."""
    def need(sizes, entry):
        return sum(-(-k // ((mtu - 2) // entry(s))) for k, s in
                   zip(runs(sizes), [sizes[i] for i in _starts(sizes)]))
    svcs, chars = db["services"], db["chars"]
    total = need([s[2] for s in svcs], lambda u: 4 + u)
    if not svcs or svcs[-1][1] != 0xFFFF:
        total += 1
    total += need([c[2] for c in chars], lambda u: 5 + u) + 1
    # Descriptor ranges, and which must be asked for.
    ranges = []
    for i, (decl, value, ulen, props) in enumerate(chars):
        end = next((s[1] for s in svcs if s[0] <= decl <= s[1]), value)
        if i + 1 < len(chars) and chars[i + 1][0] <= end:
            end = chars[i + 1][0] - 1
        if value < end and not ((props & 0x30) and value + 1 == end):
            ranges.append((value + 1, end, i))
    spans, cur = [], None
    for start, end, i in ranges:
        between_16 = cur is not None and all(chars[j][2] == 2 for j in range(cur[2] + 1, i + 1))
        if between_16:
            cur = (cur[0], end, i)
        else:
            if cur:
                spans.append(cur)
            cur = (start, end, i)
    if cur:
        spans.append(cur)
    per = (mtu - 2) // 4
    total += sum(-(-(end - start + 1) // per) for start, end, _ in spans)
    return total


def _starts(sizes):
    idx, prev = [], object()
    for i, s in enumerate(sizes):
        if s != prev:
            idx.append(i)
        prev = s
    return idx
