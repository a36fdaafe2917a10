"""Generate tests/vectors/kadcast_*/*.json independently of dusk_edge (hashlib + struct only).

Run: python tests/vectors/_gen/gen_kadcast.py   (rewrites the four vector files)
Expected values follow PROTOCOL.md §1.2-§1.3 as written there, re-derived here from scratch.
"""
import hashlib
import ipaddress
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = "tests/vectors/_gen/gen_kadcast.py: independent hashlib/struct model of PROTOCOL.md §1.2-1.3"


def node_id(ip_text, port):
    return hashlib.blake2s(struct.pack("<H", port) + ipaddress.ip_address(ip_text).packed).digest()[:16]


def pow_ok(h, d):
    # the reference walks bytes from the last one: while d > 8 that byte must be 0, then the next
    # byte needs d trailing zeros; i.e. the BIG-endian reading of the hash ends in d zero bits
    return int.from_bytes(h, "big") & ((1 << d) - 1) == 0 if d <= 8 * len(h) else False


def smallest_nonce(nid, d):
    n = 0
    while not pow_ok(hashlib.blake2s(nid + struct.pack("<I", n)).digest(), d):
        n += 1
    return n


def header(nid, nonce, port, net):
    return nid + struct.pack("<IHB", nonce, port, net) + b"\x00\x00"


def write(suite, cases):
    os.makedirs(os.path.join(ROOT, suite), exist_ok=True)
    with open(os.path.join(ROOT, suite, "generated.json"), "w") as f:
        json.dump({"suite": suite, "source": SOURCE, "cases": cases}, f, indent=1)
        f.write("\n")


def gen_id():
    cases = []
    for ip, port in [("127.0.0.1", 9000), ("10.0.0.1", 0), ("192.168.1.20", 65535),
                     ("1.2.3.4", 9001), ("::1", 9000), ("2001:db8::7", 443)]:
        cases.append({"name": "%s-%d" % (ip, port), "input": {"ip": ip, "port": port},
                      "output": {"id": node_id(ip, port).hex()}})
    for name, inp in [("bad-ip", {"ip": "300.1.1.1", "port": 1}), ("bad-port", {"ip": "1.1.1.1", "port": 70000}),
                      ("negative-port", {"ip": "1.1.1.1", "port": -1}), ("text-port", {"ip": "1.1.1.1", "port": "9"})]:
        cases.append({"name": name, "input": inp, "output": {"error": True}})
    return cases


def gen_pow():
    cases = []
    for d in range(14):  # PROTOCOL.md §1.2 test vector: [0b11110000, 0] true for d=0..12, false for 13
        cases.append({"name": "protocol-vector-d%d" % d, "input": {"hash": "f000", "difficulty": d},
                      "output": {"ok": d <= 12}})
    for i in range(8):
        h = hashlib.blake2s(b"pow%d" % i).digest()
        for d in (0, 1, 3, 8):
            cases.append({"name": "blake-%d-d%d" % (i, d), "input": {"hash": h.hex(), "difficulty": d},
                          "output": {"ok": pow_ok(h, d)}})
    z = bytes(29) + b"\x10\x00\x00"
    for d in (19, 20, 21):
        cases.append({"name": "twenty-bits-d%d" % d, "input": {"hash": z.hex(), "difficulty": d},
                      "output": {"ok": pow_ok(z, d)}})
    cases.append({"name": "empty-hash", "input": {"hash": "", "difficulty": 0}, "output": {"error": True}})
    cases.append({"name": "odd-hex", "input": {"hash": "abc", "difficulty": 0}, "output": {"error": True}})
    return cases


def gen_nonce():
    cases = []
    for i, (ip, port, d) in enumerate([("127.0.0.1", 9000, 8), ("10.0.0.2", 9000, 8), ("10.0.0.3", 1, 12),
                                       ("::1", 9000, 16), ("127.0.0.2", 9000, 20)]):
        nid = node_id(ip, port)
        cases.append({"name": "nonce-%d-d%d" % (i, d), "input": {"id": nid.hex(), "difficulty": d},
                      "output": {"nonce": smallest_nonce(nid, d)}})
    cases.append({"name": "short-id", "input": {"id": "00" * 15, "difficulty": 8}, "output": {"error": True}})
    return cases


def decode_cases():
    nid = node_id("10.0.0.1", 9000)
    nonce = smallest_nonce(nid, 8)
    hdr = header(nid, nonce, 9000, 0x45)
    ver = struct.pack("<BHH", 1, 0, 0)
    common = {"id": nid.hex(), "nonce": nonce, "sender_port": 9000, "network_id": 0x45}
    peers = [("10.0.0.2", 9001), ("::1", 9002), ("::ffff:10.0.0.9", 7), ("2001:db8::1", 65535)]
    body = b""
    listed = []
    for ip, port in peers:
        packed = ipaddress.ip_address(ip).packed
        pid = node_id(ip, port)
        body += (packed if len(packed) == 4 else b"\x00" + packed) + struct.pack("<H", port) + pid
        listed.append({"ip": str(ipaddress.ip_address(ip)), "port": port, "id": pid.hex()})
    target = hashlib.blake2s(b"target").digest()[:16]
    payload = b"\x01\x00\x00\x00\x00\x0b" + bytes(range(40))
    ok = [
        ("ping", b"\x00" + hdr + ver, dict(common, type="ping", version="1.0.0")),
        ("pong", b"\x01" + hdr + struct.pack("<BHH", 0, 1, 300), dict(common, type="pong", version="0.1.300")),
        ("find-nodes", b"\x02" + hdr + ver + target, dict(common, type="find_nodes", version="1.0.0", target=target.hex())),
        ("nodes", b"\x03" + hdr + ver + struct.pack("<H", len(peers)) + body, dict(common, type="nodes", version="1.0.0", peers=listed)),
        ("nodes-no-count", b"\x03" + hdr + ver, dict(common, type="nodes", version="1.0.0", peers=[])),
        ("nodes-zero", b"\x03" + hdr + ver + b"\x00\x00", dict(common, type="nodes", version="1.0.0", peers=[])),
        ("broadcast", b"\x0a" + hdr + b"\x07" + struct.pack("<I", len(payload)) + payload,
         dict(common, type="broadcast", height=7, payload=payload.hex())),
        ("broadcast-empty", b"\x0a" + hdr + b"\x00" + struct.pack("<I", 0), dict(common, type="broadcast", height=0, payload="")),
        ("ping-trailing-junk", b"\x00" + hdr + ver + b"junk", dict(common, type="ping", version="1.0.0")),
        ("ping-reserved-set", b"\x00" + hdr[:-2] + b"\xff\xff" + ver, dict(common, type="ping", version="1.0.0")),
    ]
    bad_nonce = next(n for n in range(1000) if not pow_ok(hashlib.blake2s(nid + struct.pack("<I", n)).digest(), 8))
    many = b"".join(b"\x0a\x00\x00\x01" + struct.pack("<H", 1) + bytes(16) for _ in range(21))
    bad = [
        ("empty", b""),
        ("unknown-type", b"\x04" + hdr + ver),
        ("type-11-extension", b"\x0b" + hdr + ver + bytes(33)),
        ("truncated-header", b"\x00" + hdr[:20]),
        ("ping-no-version", b"\x00" + hdr),
        ("ping-short-version", b"\x00" + hdr + ver[:4]),
        ("bad-nonce", b"\x00" + header(nid, bad_nonce, 9000, 0x45) + ver),
        ("find-nodes-short-target", b"\x02" + hdr + ver + target[:15]),
        ("nodes-count-21", b"\x03" + hdr + ver + struct.pack("<H", 21) + many),
        ("nodes-count-exceeds-bytes", b"\x03" + hdr + ver + struct.pack("<H", 5) + body),
        ("nodes-half-entry", b"\x03" + hdr + ver + struct.pack("<H", 1) + body[:10]),
        ("nodes-count-one-byte", b"\x03" + hdr + ver + b"\x01"),
        ("broadcast-len-exceeds", b"\x0a" + hdr + b"\x01" + struct.pack("<I", 100) + payload),
        ("broadcast-no-len", b"\x0a" + hdr + b"\x01"),
    ]
    cases = [{"name": n, "input": {"bytes": raw.hex()}, "output": out} for n, raw, out in ok]
    cases += [{"name": n, "input": {"bytes": raw.hex()}, "output": {"error": True}} for n, raw in bad]
    cases.append({"name": "not-hex", "input": {"bytes": "zz"}, "output": {"error": True}})
    return cases


if __name__ == "__main__":
    write("kadcast_id", gen_id())
    write("kadcast_pow", gen_pow())
    write("kadcast_nonce", gen_nonce())
    write("kadcast_decode", decode_cases())
    print("wrote kadcast_id, kadcast_pow, kadcast_nonce, kadcast_decode")
