"""Generate tests/vectors/cbor_decode/ and tests/vectors/serial_frame/.

cbor_decode: RFC 8949 Appendix A examples typed in (encoded hex and diagnostic notation as the RFC
prints them); the items outside dusk-edge's subset (floats, tags, undefined, simple values,
indefinite lengths) must be rejected, as must non-canonical forms.
serial_frame: frames laid out by hand from the table in docs/frames.md with struct and the
`crc32c` package (not dusk_edge's encoder), plus corruptions that must be rejected.
Run: .venv/bin/python tests/vectors/_gen/gen_serial.py
"""
import json
import os
import struct

import crc32c

HERE = os.path.dirname(os.path.abspath(__file__))

ACCEPTED = [  # RFC 8949 Appendix A, Table 6: (diagnostic, encoded hex)
    ("0", "00"), ("1", "01"), ("10", "0a"), ("23", "17"), ("24", "1818"), ("25", "1819"), ("100", "1864"),
    ("1000", "1903e8"), ("1000000", "1a000f4240"), ("1000000000000", "1b000000e8d4a51000"),
    ("18446744073709551615", "1bffffffffffffffff"), ("-18446744073709551616", "3bffffffffffffffff"),
    ("-1", "20"), ("-10", "29"), ("-100", "3863"), ("-1000", "3903e7"), ("false", "f4"), ("true", "f5"),
    ("null", "f6"), ("h''", "40"), ("h'01020304'", "4401020304"), ('""', "60"), ('"a"', "6161"),
    ('"IETF"', "6449455446"), ('"\\"\\\\"', "62225c"), ('"\\u00fc"', "62c3bc"), ('"\\u6c34"', "63e6b0b4"),
    ('"\\ud800\\udd51"', "64f0908591"), ("[]", "80"), ("[1, 2, 3]", "83010203"),
    ("[1, [2, 3], [4, 5]]", "8301820203820405"),
    ("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]",
     "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ("{}", "a0"), ("{1: 2, 3: 4}", "a201020304"), ('{"a": 1, "b": [2, 3]}', "a26161016162820203"),
    ('["a", {"b": "c"}]', "826161a161626163"),
    ('{"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}', "a56161614161626142616361436164614461656145"),
]
REJECTED = [  # Appendix A items outside the subset, then non-canonical or malformed inputs
    ("bignum-tag", "c249010000000000000000"), ("half-float-zero", "f90000"), ("double-1.1", "fb3ff199999999999a"),
    ("undefined", "f7"), ("simple-16", "f0"), ("simple-255", "f8ff"),
    ("tag-0-datetime", "c074323031332d30332d32315432303a30343a30305a"), ("indefinite-bytes", "5f42010243030405ff"),
    ("indefinite-array", "9fff"), ("indefinite-map", "bf61610161629f0203ffff"),
    ("non-shortest-23", "1817"), ("non-shortest-255", "1900ff"), ("non-shortest-len", "780161"),
    ("unsorted-map", "a203040102"), ("duplicate-key", "a201020102"), ("trailing-byte", "0000"),
    ("truncated-u16", "1903"), ("truncated-array", "830102"), ("bad-utf8", "61ff"), ("empty", ""),
    ("reserved-info-28", "1c"), ("array-key", "a1800102"),
]


def frame_bytes(kind, seq, payload, version=1):
    head = struct.pack("<BBHH", version, kind, seq, len(payload))
    body = head + bytes([crc32c.crc32c(head) & 0xFF]) + payload
    return b"\xd5\x4e" + body + struct.pack("<I", crc32c.crc32c(body))


def write(suite, source, cases):
    os.makedirs(os.path.join(HERE, "..", suite), exist_ok=True)
    with open(os.path.join(HERE, "..", suite, suite + ".json"), "w") as f:
        json.dump({"suite": suite, "source": source, "cases": cases}, f, indent=1)
        f.write("\n")


def main():
    cases = [{"name": "rfc8949-" + hexed, "input": {"bytes": hexed}, "output": {"diag": diag}}
             for diag, hexed in ACCEPTED]
    cases += [{"name": name, "input": {"bytes": hexed}, "output": {"error": True}} for name, hexed in REJECTED]
    write("cbor_decode", "RFC 8949 Appendix A (Table 6) typed in; rejections per dusk_edge/core/cbor.py's subset; "
          "gen_serial.py", cases)

    good = [("data-status", 0, 1, bytes.fromhex("a163636d6466737461747573")), ("ack-empty", 1, 0xFFFF, b""),
            ("note-heartbeat", 2, 513, bytes.fromhex("a26174626862666865696768741904")),
            ("data-1024", 0, 7, bytes(range(256)) * 4)]
    cases = [{"name": name, "input": {"bytes": frame_bytes(k, s, p).hex()},
              "output": {"kind": k, "seq": s, "payload": p.hex()}} for name, k, s, p in good]
    base = frame_bytes(0, 1, b"\xa0")
    bad_crc = bytearray(base)
    bad_crc[-1] ^= 1
    bad_hcheck = bytearray(base)
    bad_hcheck[8] ^= 1
    flipped_payload = bytearray(base)
    flipped_payload[9] ^= 0x80
    errors = [("bad-crc", bytes(bad_crc)), ("bad-header-check", bytes(bad_hcheck)),
              ("flipped-payload", bytes(flipped_payload)), ("version-2", frame_bytes(0, 1, b"\xa0", version=2)),
              ("kind-3", frame_bytes(3, 1, b"\xa0")), ("payload-1025", frame_bytes(0, 1, bytes(1025))),
              ("truncated", base[:-1]), ("trailing-junk", base + b"\x00"), ("bad-sync", b"\xd5\x4f" + base[2:]),
              ("empty", b"")]
    cases += [{"name": name, "input": {"bytes": data.hex()}, "output": {"error": True}} for name, data in errors]
    write("serial_frame", "docs/frames.md layout built with struct + the crc32c package (not dusk_edge); "
          "gen_serial.py", cases)


if __name__ == "__main__":
    main()
