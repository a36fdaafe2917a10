"""Kadcast ids, PoW and wire format (PROTOCOL.md §1.2-§1.3): round trips and fuzzing."""
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.conformance import load_suites, run_paths
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.kadcast import ids
from dusk_edge.core.kadcast import messages as m

pytestmark = pytest.mark.twin
VECTORS = os.path.join(os.path.dirname(__file__), "vectors")


def make_header(port=9000, ip=b"\x0a\x00\x00\x01", net=0x45):
    node_id = ids.compute_id(ip, port)
    return m.Header(node_id, ids.find_nonce(node_id, 8), port, net)


HEADER = make_header()


def sample_messages():
    peers = [m.PeerInfo(b"\x0a\x00\x00\x02", 9001, bytes(range(16))),
             m.PeerInfo(bytes(15) + b"\x01", 65535, bytes(16))]
    return [
        m.Message(m.PING, HEADER, version=(1, 0, 0)),
        m.Message(m.PONG, HEADER, version=(0, 65535, 7)),
        m.Message(m.FIND_NODES, HEADER, version=(1, 2, 3), target=bytes(range(16, 32))),
        m.Message(m.NODES, HEADER, version=(1, 0, 0), peers=peers),
        m.Message(m.NODES, HEADER, version=(1, 0, 0), peers=[]),
        m.Message(m.BROADCAST, HEADER, height=127, payload=b"frame" * 100),
        m.Message(m.REPAIR, HEADER, version=(1, 0, 0), ray_id=bytes(32),
                  blocks=[m.RepairBlock(3, 17, bytes(range(32)))]),
    ]


def same(a, b):
    return all(getattr(a, k) == getattr(b, k) for k in ("kind", "version", "target", "peers",
                                                        "height", "payload", "ray_id")) \
        and (a.header.id, a.header.nonce, a.header.port, a.header.network_id) == \
        (b.header.id, b.header.nonce, b.header.port, b.header.network_id)


def test_sizes_match_protocol():
    sizes = [len(m.encode_message(x)) for x in sample_messages()[:3]]
    assert sizes == [31, 31, 47]
    nodes20 = m.Message(m.NODES, HEADER, version=(1, 0, 0),
                        peers=[m.PeerInfo(b"\x01\x02\x03\x04", 1, bytes(16))] * 20)
    assert len(m.encode_message(nodes20)) == 31 + 2 + 20 * 22  # 473 B, PROTOCOL.md §1.3


def test_round_trip_every_type():
    for msg in sample_messages():
        raw = m.encode_message(msg)
        back = m.decode_message(raw)
        assert same(msg, back)
        if msg.kind == m.REPAIR:
            assert [(b.block, b.need, b.bitmap) for b in back.blocks] == \
                [(b.block, b.need, b.bitmap) for b in msg.blocks]


def test_encoder_refuses_values_that_do_not_fit():
    with pytest.raises(LocalProtocolError):
        m.encode_message(m.Message(m.PING, HEADER, version=(256, 0, 0)))
    with pytest.raises(LocalProtocolError):
        m.encode_message(m.Message(m.NODES, HEADER, version=(1, 0, 0),
                                   peers=[m.PeerInfo(b"\x00\x01\x02\x03", 1, bytes(16))]))
    with pytest.raises(LocalProtocolError):
        m.encode_message(m.Message(m.NODES, HEADER, version=(1, 0, 0),
                                   peers=[m.PeerInfo(b"\x01\x02\x03\x04", 1, bytes(16))] * 21))


def test_caps_are_enforced():
    raw = bytearray(m.encode_message(sample_messages()[3]))
    raw[31:33] = (21).to_bytes(2, "little")
    with pytest.raises(DecodeError):
        m.decode_message(bytes(raw) + bytes(22 * 21))
    with pytest.raises(DecodeError):
        m.decode_message(b"\x0a" + bytes(80000))
    bad_need = m.Message(m.REPAIR, HEADER, version=(1, 0, 0), ray_id=bytes(32),
                         blocks=[m.RepairBlock(0, m.MAX_REPAIR_NEED + 1, bytes(32))])
    with pytest.raises(DecodeError):
        m.decode_message(m.encode_message(bad_need))


def test_nonce_is_checked_on_decode():
    node_id = ids.compute_id(b"\x0a\x00\x00\x01", 9000)
    bad = next(n for n in range(1000) if not ids.verify_nonce(node_id, n))
    msg = m.Message(m.PING, m.Header(node_id, bad, 9000, 0x45), version=(1, 0, 0))
    with pytest.raises(DecodeError):
        m.decode_message(m.encode_message(msg))


def test_difficulty_protocol_vector():
    for d in range(13):
        assert ids.difficulty_ok(bytes([0b11110000, 0]), d)
    assert not ids.difficulty_ok(bytes([0b11110000, 0]), 13)


def test_produced_nonce_has_twenty_bits():
    node_id = ids.compute_id(b"\x7f\x00\x00\x01", 9000)
    nonce = ids.find_nonce(node_id, 12)
    digest = ids.nonce_hash(node_id, nonce)
    assert digest[31] == 0 and digest[30] & 0x0F == 0
    assert all(not ids.difficulty_ok(ids.nonce_hash(node_id, n), 12) for n in range(nonce))


def test_bucket_index_and_distance(twins):
    a = bytes(16)
    assert ids.bucket_index(a, a) == -1
    for h in (0, 7, 8, 64, 127):
        assert ids.bucket_index(a, ids.id_at_distance(a, h)) == h
    b = bytes(15) + b"\x80"
    assert ids.bucket_index(a, b) == 127 and ids.distance(a, b) == 1 << 127


def fuzz_decoder(data):
    try:
        m.decode_message(data)
    except RemoteProtocolError:
        pass


def test_fuzz_truncation_and_junk():
    for msg in sample_messages():
        raw = m.encode_message(msg)
        for cut in range(len(raw)):
            fuzz_decoder(raw[:cut])
        assert same(m.decode_message(raw + b"junk" * 3), msg)  # trailing bytes ignored
        for i in range(len(raw)):
            flipped = bytearray(raw)
            flipped[i] ^= 0xFF
            fuzz_decoder(bytes(flipped))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_random_bytes(data):
    fuzz_decoder(data)
    for kind in (m.PING, m.FIND_NODES, m.NODES, m.BROADCAST, m.REPAIR):
        fuzz_decoder(bytes((kind,)) + m.encode_message(sample_messages()[0])[1:26] + data)


def test_conformance_vectors_pass():
    assert {"kadcast_id", "kadcast_pow", "kadcast_nonce", "kadcast_decode"} <= set(load_suites())
    lines = []
    paths = [os.path.join(VECTORS, s) for s in ("kadcast_id", "kadcast_pow", "kadcast_nonce", "kadcast_decode")]
    passed, failed = run_paths(paths, write=lines.append)
    assert failed == 0 and passed >= 80, [x for x in lines if not x.startswith("PASS")]


def test_ids_bind_the_address():
    r = random.Random(3)
    seen = set()
    for _ in range(200):
        ip = bytes(r.randrange(1, 255) for _ in range(4))
        port = r.randrange(65536)
        seen.add(ids.compute_id(ip, port))
    assert len(seen) == 200
    with pytest.raises(DecodeError):
        ids.compute_id(b"\x01\x02\x03", 1)
