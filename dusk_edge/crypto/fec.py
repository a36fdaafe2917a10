"""Forward error correction for Kadcast broadcasts (PROTOCOL.md §1.7, DESIGN.md §3).

One interface, two schemes, picked by the network's genesis (``fec = "raptorq" | "rs"``):

- ``raptorq``: the Dusk wire profile. Chunk frame = ray_id[32] | OTI[12] | SBN:u8 | ESI:u24be |
  symbol[T], T = 1296, repair = max(5, floor(len * 0.15 / 1300)) per source block, using the
  ``raptorq`` package (RFC 6330, the same crate the reference uses).
- ``rs``: the project's own systematic Reed-Solomon code (core/kadcast/rs.py, docs/rs-chunk.md),
  for boards where raptorq has no wheel.

A scheme object offers ``new_encoder(frame, ray_id)`` -> encoder with ``initial_chunks()`` and
``fresh_chunks(block, need, bitmap)`` (new symbols for pull repair), ``parse_chunk(chunk)`` ->
(ray_id, decoder key, parsed) raising DecodeError, and ``new_decoder(key)`` -> decoder with
``add(parsed)`` (the frame once decodable, else None) and ``missing()`` -> [(block, need, bitmap)].
The ray cache, TTLs and the ray_id re-check after decoding are scheme-independent and live in
dusk_edge/core/kadcast/peer.py.
"""
from dusk_edge.core.errors import ConfigError, DecodeError
from dusk_edge.core.kadcast.rs import RsScheme, ray_id_of

__all__ = ["RaptorQScheme", "RsScheme", "make_fec", "ray_id_of", "raptorq_oti"]

MTU = 1300
ALIGNMENT = 8
SYMBOL_SIZE = MTU - MTU % ALIGNMENT   # 1296
REPAIR_RATIO_PERCENT = 15
MIN_REPAIR = 5
MAX_TRANSFER_LEN = 10 * 1024 * 1024   # max_udp_len of the reference decoder
MAX_SOURCE_SYMBOLS = 56403
OTI_LEN = 12
RAY_ID_LEN = 32
PACKET_HEADER_LEN = 4


def raptorq_oti(transfer_len):
    """OTI bytes of ObjectTransmissionInformation::with_defaults(len, 1300) for messages whose
    source symbols fit one block (every message up to the 10 MiB cap): Z = 1, N = 1, Al = 8."""
    return (transfer_len.to_bytes(5, "big") + b"\x00" + SYMBOL_SIZE.to_bytes(2, "big")
            + b"\x01" + (1).to_bytes(2, "big") + bytes((ALIGNMENT,)))


def _parse_oti(oti):
    transfer_len = int.from_bytes(oti[0:5], "big")
    symbol_size = int.from_bytes(oti[6:8], "big")
    blocks, sub_blocks, alignment = oti[8], int.from_bytes(oti[9:11], "big"), oti[11]
    # the reference's safety checks (safe.rs) first, then what our decoder can build
    if blocks == 0 or symbol_size == 0 or symbol_size > 8192 or alignment != ALIGNMENT:
        raise DecodeError("unsafe OTI")
    if transfer_len == 0 or transfer_len >= MAX_TRANSFER_LEN:
        raise DecodeError("OTI transfer length %d outside 1..%d" % (transfer_len, MAX_TRANSFER_LEN - 1))
    if -(-transfer_len // symbol_size) > MAX_SOURCE_SYMBOLS * blocks:
        raise DecodeError("OTI implies too many source symbols")
    if oti != raptorq_oti(transfer_len):
        raise DecodeError("OTI differs from with_defaults(len, 1300): unsupported")
    return transfer_len, symbol_size


def _repair_packets(frame_len):
    return max(MIN_REPAIR, frame_len * REPAIR_RATIO_PERCENT // 100 // MTU)


class RaptorQScheme:
    name = "raptorq"

    def __init__(self):
        try:
            import raptorq
        except ImportError:
            raise ConfigError("fec: the raptorq package is not installed (use fec = \"rs\")") from None
        self._raptorq = raptorq

    def new_encoder(self, frame, ray_id):
        if not 0 < len(frame) < MAX_TRANSFER_LEN:
            raise DecodeError("broadcast frame of %d bytes outside 1..%d" % (len(frame), MAX_TRANSFER_LEN - 1))
        return RaptorQRayEncoder(self._raptorq, frame, ray_id)

    def parse_chunk(self, chunk):
        head = RAY_ID_LEN + OTI_LEN
        if len(chunk) < head + PACKET_HEADER_LEN + 1:
            raise DecodeError("raptorq chunk of %d bytes is too short" % len(chunk))
        oti = bytes(chunk[RAY_ID_LEN:head])
        _, symbol_size = _parse_oti(oti)
        packet = bytes(chunk[head:])
        if len(packet) != PACKET_HEADER_LEN + symbol_size:
            raise DecodeError("raptorq packet of %d bytes, OTI says %d" % (len(packet), symbol_size))
        if packet[0] != 0:
            raise DecodeError("source block number %d of 1" % packet[0])
        return bytes(chunk[:RAY_ID_LEN]), oti, packet

    def new_decoder(self, key):
        transfer_len, _ = _parse_oti(key)
        return RaptorQRayDecoder(self._raptorq.Decoder.with_defaults(transfer_len, MTU), transfer_len)


class RaptorQRayEncoder:
    __slots__ = ("ray_id", "_encoder", "_prefix", "_source", "_sent_repair")

    def __init__(self, raptorq, frame, ray_id):
        self.ray_id = ray_id
        self._encoder = raptorq.Encoder.with_defaults(bytes(frame), MTU)
        self._prefix = bytes(ray_id) + raptorq_oti(len(frame))
        self._source = -(-len(frame) // SYMBOL_SIZE)
        self._sent_repair = _repair_packets(len(frame))

    def initial_chunks(self):
        packets = self._encoder.get_encoded_packets(self._sent_repair)
        return [self._prefix + p for p in packets]

    def fresh_chunks(self, block, need, bitmap):
        """``need`` repair packets never sent before (ESIs continue after the last sent)."""
        if block != 0 or need <= 0:
            return []
        total = self._sent_repair + need
        packets = self._encoder.get_encoded_packets(total)[self._source + self._sent_repair:]
        self._sent_repair = total
        return [self._prefix + p for p in packets]


class RaptorQRayDecoder:
    __slots__ = ("_decoder", "transfer_len", "_received", "_source")

    def __init__(self, decoder, transfer_len):
        self._decoder = decoder
        self.transfer_len = transfer_len
        self._received = set()
        self._source = -(-transfer_len // SYMBOL_SIZE)

    def add(self, packet):
        esi = int.from_bytes(packet[1:4], "big")
        if esi in self._received:
            return None
        self._received.add(esi)
        return self._decoder.decode(packet)

    def missing(self):
        # raptorq usually decodes from K symbols, sometimes K+1 or K+2: ask for two spare
        need = max(1, self._source + 2 - len(self._received))
        return [(0, need, bytes(32))]


def make_fec(name):
    """The FEC scheme a genesis names; raises ConfigError for an unknown or unavailable one."""
    if name == "raptorq":
        return RaptorQScheme()
    if name == "rs":
        return RsScheme()
    raise ConfigError("fec: unknown scheme %r (raptorq | rs)" % (name,))
