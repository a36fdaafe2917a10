"""The serial frame format (docs/frames.md): codec, streaming decoder on a noisy line, ARQ link."""
import random

import crc32c as crc32c_ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import cbor, frame
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError

pytestmark = pytest.mark.twin


def test_layout_matches_docs_with_independent_crc():
    data = frame.encode_frame(frame.KIND_DATA, 0x0102, b"\xa0")
    assert data[:2] == b"\xd5\x4e"
    assert data[2:8] == bytes([1, 0, 0x02, 0x01, 1, 0])
    assert data[8] == crc32c_ref.crc32c(data[2:8]) & 0xFF
    assert data[9:10] == b"\xa0"
    assert int.from_bytes(data[10:], "little") == crc32c_ref.crc32c(data[2:10])
    assert len(data) == frame.OVERHEAD + 1


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0, 1, 2]), st.integers(0, 0xFFFF), st.binary(max_size=300))
def test_round_trip(kind, seq, payload):
    data = frame.encode_frame(kind, seq, payload)
    assert frame.decode_frame(data) == frame.Frame(kind, seq, payload)
    dec = frame.FrameDecoder()
    assert dec.feed(data) == [frame.Frame(kind, seq, payload)]
    assert not dec.pending


def test_byte_by_byte_and_truncation_and_trailing_junk():
    data = frame.encode_frame(frame.KIND_DATA, 7, cbor.encode({"cmd": "status"}))
    dec = frame.FrameDecoder()
    for i in range(len(data) - 1):
        assert dec.feed(data[i:i + 1]) == []
    assert dec.feed(data[-1:]) == [frame.Frame(0, 7, cbor.encode({"cmd": "status"}))]
    for cut in range(len(data)):
        with pytest.raises(DecodeError):
            frame.decode_frame(data[:cut])
    with pytest.raises(DecodeError):
        frame.decode_frame(data + b"\x00")
    assert frame.FrameDecoder().feed(data + b"junk") == [frame.decode_frame(data)]


def test_resync_after_garbage_and_corruption():
    a = frame.encode_frame(0, 1, b"first")
    b = frame.encode_frame(2, 2, b"second")
    bad = bytearray(frame.encode_frame(0, 3, b"corrupt"))
    bad[-6] ^= 0x40
    dec = frame.FrameDecoder()
    stream = b"\xd5\x4e\xd5garbage\r\n" + a + bytes(bad) + b"\xd5" + b + b"\xff" * 5
    got = dec.feed(stream)
    assert [f.payload for f in got] == [b"first", b"second"]
    assert dec.bad_frames >= 1 and dec.garbage_bytes > 0


def test_corrupt_length_is_caught_by_header_check():
    good = frame.encode_frame(0, 9, b"ok")
    bad = bytearray(frame.encode_frame(0, 8, b"x"))
    bad[6] = 0xFF  # claims a long payload; the header check rejects it at once
    dec = frame.FrameDecoder()
    assert [f.seq for f in dec.feed(bytes(bad) + good)] == [9]


def test_half_sent_frame_expires_and_next_frame_arrives():
    half = frame.encode_frame(0, 1, b"x" * 200)[:50]
    nxt = frame.encode_frame(0, 2, b"next")
    dec = frame.FrameDecoder(idle_ms=500)
    assert dec.feed(half, now=0) == []
    assert dec.get_timer() == 500
    got = dec.feed(nxt, now=100)  # swallowed into the stale frame's payload for now
    assert got == []
    assert dec.expire(499) == []
    got = dec.expire(600)
    assert [f.seq for f in got] == [2]
    assert not dec.pending and dec.expired == 1


def test_buffer_stays_bounded():
    dec = frame.FrameDecoder(max_payload=64)
    rng = random.Random(1)
    for _ in range(200):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        dec.feed(b"\xd5\x4e" + junk)
        assert len(dec._buf) <= 2 * (frame.OVERHEAD + 64)


def test_limits():
    big = frame.encode_frame(0, 1, b"z" * 2000)
    with pytest.raises(DecodeError):
        frame.decode_frame(big)
    assert frame.decode_frame(big, max_payload=2000).payload == b"z" * 2000
    assert frame.FrameDecoder().feed(big) == []
    with pytest.raises(LocalProtocolError):
        frame.encode_frame(0, 1, b"z" * (frame.HARD_MAX_PAYLOAD + 1))
    with pytest.raises(LocalProtocolError):
        frame.encode_frame(5, 1, b"")
    with pytest.raises(LocalProtocolError):
        frame.encode_frame(0, 70000, b"")
    with pytest.raises(LocalProtocolError):
        frame.FrameDecoder(max_payload=frame.HARD_MAX_PAYLOAD + 1)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=80))
def test_fuzz_decode_frame(data):
    try:
        frame.decode_frame(data)
    except RemoteProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=6), st.binary(max_size=60), st.integers(0, 2**32))
def test_fuzz_stream_delivers_every_intact_frame(payloads, noise, seed):
    rng = random.Random(seed)
    stream = bytearray()
    for i, p in enumerate(payloads):
        cut = rng.randrange(len(noise) + 1)
        stream += noise[:cut].replace(b"\xd5", b"") + frame.encode_frame(0, i, p)
    dec = frame.FrameDecoder()
    got = []
    pos = 0
    while pos < len(stream):
        step = rng.randrange(1, 20)
        got += dec.feed(bytes(stream[pos:pos + step]))
        pos += step
    assert [f.payload for f in got] == payloads


class LossyWire:
    """Two FrameLinks joined by a wire that drops whole writes with probability `loss`."""

    def __init__(self, loss, seed):
        self.rng = random.Random(seed)
        self.loss = loss
        self.a = frame.FrameLink(initial_seq=100, rto_ms=200, max_retries=30, max_queue=64)
        self.b = frame.FrameLink(initial_seq=900, rto_ms=200, max_retries=30, max_queue=64)

    def pump(self, now):
        got = {"a": [], "b": []}
        for src, dst, name in ((self.a, self.b, "b"), (self.b, self.a, "a")):
            data = src.data_to_send()
            if data and self.rng.random() >= self.loss:
                got[name] += dst.receive_data(data, now)
        return got


def test_link_delivers_in_order_exactly_once_under_loss():
    wire = LossyWire(loss=0.3, seed=5)
    sent = [cbor.encode({"n": i}) for i in range(40)]
    for p in sent:
        wire.a.send(p, 0)
    received = []
    now = 0
    while not wire.a.idle and now < 200000:
        received += [f.payload for f in wire.pump(now)["b"]]
        now += 50
        for link in (wire.a, wire.b):
            if link.get_timer() is not None and now >= link.get_timer():
                delivered, lost = link.handle_timer(now)
                assert lost == []
    received += [f.payload for f in wire.pump(now)["b"]]
    assert received == sent
    assert wire.a.resent > 0


def test_link_gives_up_after_max_retries():
    link = frame.FrameLink(rto_ms=100, max_retries=2)
    link.send(b"lost", 0)
    link.data_to_send()
    lost = []
    for now in (100, 200, 300):
        lost += link.handle_timer(now)[1]
    assert lost == [b"lost"] and link.idle and link.given_up == 1


def test_link_duplicate_not_redelivered_and_queue_bounded():
    rx = frame.FrameLink()
    data = frame.encode_frame(frame.KIND_DATA, 5, b"once")
    assert len(rx.receive_data(data, 0)) == 1
    assert rx.receive_data(data, 10) == []  # resent because our ACK was lost
    acks = frame.FrameDecoder().feed(rx.data_to_send())
    assert [(f.kind, f.seq) for f in acks] == [(frame.KIND_ACK, 5), (frame.KIND_ACK, 5)]
    tx = frame.FrameLink(max_queue=2)
    tx.send(b"1", 0)
    tx.send(b"2", 0)
    with pytest.raises(LocalProtocolError):
        tx.send(b"3", 0)


def test_notes_are_not_acknowledged():
    tx, rx = frame.FrameLink(), frame.FrameLink()
    tx.send_note(b"hb")
    got = rx.receive_data(tx.data_to_send(), 0)
    assert [(f.kind, f.payload) for f in got] == [(frame.KIND_NOTE, b"hb")]
    assert rx.data_to_send() == b""


def test_trickle_does_not_keep_a_stale_frame_alive():
    dec = frame.FrameDecoder(max_payload=4096, idle_ms=1000, max_age_ms=3000)
    header = frame.encode_frame(0, 1, b"y" * 4000)[:9]
    dec.feed(header, now=0)
    now = 0
    while now < 2500:
        now += 500
        dec.feed(b"\x03", now)  # someone keeps pressing a key
        assert dec.expire(now) == []
    assert dec.get_timer() == 3000
    dec.expire(3000)
    assert dec.expired == 1
    assert [f.seq for f in dec.feed(frame.encode_frame(0, 2, b"ok"), 3001)] == [2]
