"""Inv / GetResource / GetBlocks / GetMempool: round trips, exact sizes, fuzz."""
import random

import pytest

from dusk_edge.core.consensus.attestation import ConsensusHeader
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.sync import messages as m
from dusk_edge.core.wire import Buffer

pytestmark = pytest.mark.twin
HEADER = ConsensusHeader(b"\x07" * 32, 42, 3)


def sample_inv():
    return m.Inv([
        m.InvItem(m.INV_MEMPOOL_TX, b"\x01" * 32), m.InvItem(m.INV_BLOCK_FROM_HASH, b"\x02" * 32),
        m.InvItem(m.INV_BLOCK_FROM_HEIGHT, 2 ** 64 - 1), m.InvItem(m.INV_CANDIDATE_FROM_HASH, b"\x03" * 32),
        m.InvItem(m.INV_CANDIDATE_FROM_ITERATION, HEADER), m.InvItem(m.INV_VALIDATION_RESULT, HEADER)], 100)


def encode(push, *args):
    buf = Buffer()
    push(buf, *args)
    return buf.data


CASES = [
    (m.push_inv, m.pull_inv, (sample_inv(),)),
    (m.push_get_resource, m.pull_get_resource, (m.GetResource(sample_inv(), (b"\x7f\x00\x00\x02", 9000), 1700000000, 16),)),
    (m.push_get_resource, m.pull_get_resource, (m.GetResource(m.Inv([]), (bytes(15) + b"\x01", 1), 0, 0),)),
]


@pytest.mark.parametrize("push,pull,args", CASES)
def test_round_trip(push, pull, args):
    data = encode(push, *args)
    buf = Buffer(data)
    assert pull(buf) == args[0]
    buf.expect_eof()


def test_exact_sizes():
    assert len(encode(m.push_inv, sample_inv())) == 4 + 3 * 33 + 9 + 2 * 42 + 2
    assert len(encode(m.push_get_blocks, b"\x00" * 32, b"\x01" * 8)) == 40
    assert m.pull_get_blocks(Buffer(encode(m.push_get_blocks, b"\x05" * 32, b"\x01" * 8))) == (b"\x05" * 32, b"\x01" * 8)
    assert m.pull_get_mempool(Buffer(encode(m.push_get_mempool, b"n" * 8))) == b"n" * 8


def test_inventory_caps_before_allocating():
    with pytest.raises(DecodeError, match="at most 10000"):
        m.pull_inv(Buffer((10001).to_bytes(4, "little") + bytes(10)))
    with pytest.raises(LocalProtocolError):
        m.Inv([m.InvItem(m.INV_MEMPOOL_TX, bytes(32))] * 10001)


@pytest.mark.parametrize("push,pull,args", CASES)
def test_every_truncation_and_garbage_is_a_protocol_error(push, pull, args):
    data = encode(push, *args)
    for cut in range(len(data)):
        with pytest.raises(RemoteProtocolError):
            pull(Buffer(data[:cut]))
    rng = random.Random(5)
    for _ in range(500):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(60)))
        try:
            pull(Buffer(junk))
        except RemoteProtocolError:
            pass


def test_expiry():
    req = m.GetResource(m.Inv([]), (b"\x7f\x00\x00\x01", 1), ttl_unix_secs=100, hops_limit=3)
    assert not req.is_expired(100) and req.is_expired(101)
    assert m.GetResource(m.Inv([]), (b"\x7f\x00\x00\x01", 1), 100, 0).is_expired(0)
