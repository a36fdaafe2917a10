# Runs under real MicroPython (tests/test_firmware.py drives it through firmware_runner.mjs
# --check) and under CPython: the serial-line core (cbor, frame, console) on the interpreter the
# companion board and a MicroPython node would use. Plain statements; any failure raises.
from dusk_edge.core import cbor, frame
from dusk_edge.core.console import login
from dusk_edge.core.console.session import Session
from dusk_edge.core.errors import DecodeError

# CBOR: RFC 8949 Appendix A vectors, canonical map order, big ints, strictness.
VECTORS = [
    (0, "00"), (24, "1818"), (1000000, "1a000f4240"), (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"), (-1000, "3903e7"), (True, "f5"), (None, "f6"),
    (b"\x01\x02\x03\x04", "4401020304"), ("\u00fc", "62c3bc"), ([1, [2, 3], [4, 5]], "8301820203820405"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"), ({1000: 1, "a": 2}, "a26161021903e801"),
]
for value, hexed in VECTORS:
    assert cbor.encode(value).hex() == hexed, hexed
    assert cbor.decode(bytes.fromhex(hexed)) == value, hexed
for bad in ("1817", "5f", "c100", "f93c00", "a2616201616101", "0000", "62c328"):
    try:
        cbor.decode(bytes.fromhex(bad))
    except DecodeError:
        pass
    else:
        raise AssertionError("accepted " + bad)

# Frames: round trip, resync through garbage, byte-by-byte.
data = frame.encode_frame(frame.KIND_DATA, 513, cbor.encode({"cmd": "status"}))
dec = frame.FrameDecoder()
got = dec.feed(b"\xd5junk" + data[:5])
got += dec.feed(data[5:] + b"\x00")
assert len(got) == 1 and got[0].seq == 513 and dec.garbage_bytes >= 4

# Console session: login with lock-out, a command, machine mode.


class Control:
    def status(self):
        return {"height": 7, "caps": {"peers_max": 8}}


record = login.hash_passphrase_sha256i("pw", b"saltsalt", 1000)
gate = login.LoginGate(lambda p: login.verify_sha256i(record, p), max_failures=2, lockout_ms=1000)
s = Session(Control(), gate=gate, now=0)
s.receive_data(b"x\r\ny\r\n", 0)
s.receive_data(b"pw\r\n", 10)
assert b"locked" in s.data_to_send()
s.receive_data(b"pw\r\n", 1000)
s.receive_data(b"stats\x08us\r\n", 1000)
out = s.data_to_send()
assert b"welcome" in out and b"caps.peers_max: 8" in out, out
client = frame.FrameLink(initial_seq=9)
client.send(cbor.encode({"id": 1, "cmd": "status", "args": []}), 0)
s.receive_data(client.data_to_send(), 1000)
answer = client.receive_data(s.data_to_send(), 1000)
assert cbor.decode(answer[0].payload)["result"]["height"] == 7
print("firmware_core_check: ok")
