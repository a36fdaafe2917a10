# Theory of operation: the project's own systematic Reed-Solomon erasure code over GF(2^8)
# (polynomial 0x11d), used when a network's genesis picks the `rs` FEC scheme (boards where the
# raptorq wheel does not exist). A message is cut into symbols of T bytes (last one zero-padded)
# and the symbols into blocks of <= MAX_BLOCK_SOURCE. In a block of k source symbols, ESI < k is a
# source symbol and ESI e >= k a repair symbol sum_j C(e, j) * src_j with the Cauchy coefficient
# C(e, j) = 1 / (e xor j): every square submatrix of a Cauchy matrix is invertible, so ANY k
# distinct symbols of a block decode it (MDS: zero reception overhead). ESIs are bytes, so a block
# has at most 256 - k repair symbols; fresh ones on demand (pull repair) come from that reserve.
# The hot loops (linear combination of symbols, matrix inversion) are accel.gf256_combine and
# accel.gf256_invert (C in _speedups.c, pure twin in core/_native.py). Chunk header: docs/rs-chunk.md.
from dusk_edge.core import accel
from dusk_edge.core._native import GF_EXP, GF_LOG
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.hashes import blake2s_256

SCHEME_TAG = 0x52                 # 'R': first byte after the ray id in an rs chunk frame
SYMBOL_SIZE = 1296                # same T as the raptorq profile: 1375-byte datagrams
MAX_BLOCK_SOURCE = 128            # leaves >= 128 repair ESIs per block for pull repair
MAX_TRANSFER_LEN = 10 * 1024 * 1024
REPAIR_RATIO_PERCENT = 15
MIN_REPAIR = 5
RAY_ID_LEN = 32
CHUNK_HEADER_LEN = RAY_ID_LEN + 1 + 4 + 2 + 1 + 1 + 1

# log/antilog tables of GF(2^8) (polynomial 0x11D): the pure twin builds them once
_EXP = GF_EXP
_LOG = GF_LOG


def gf_mul(a, b):
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_inv(a):
    if a == 0:
        raise LocalProtocolError("zero has no inverse in GF(2^8)")
    return _EXP[255 - _LOG[a]]


def partition(total_symbols, num_blocks):
    """Block sizes as RFC 6330 partitions: the first (total % n) blocks get one symbol more."""
    base, extra = divmod(total_symbols, num_blocks)
    return [base + 1 if i < extra else base for i in range(num_blocks)]


def layout(transfer_len, symbol_size=SYMBOL_SIZE):
    """(num_blocks, block sizes) for a message; raises DecodeError outside the caps."""
    if transfer_len <= 0 or transfer_len > MAX_TRANSFER_LEN:
        raise DecodeError("rs transfer length %d outside 1..%d" % (transfer_len, MAX_TRANSFER_LEN))
    if symbol_size <= 0 or symbol_size > 8192:
        raise DecodeError("rs symbol size %d outside 1..8192" % symbol_size)
    total = (transfer_len + symbol_size - 1) // symbol_size
    num_blocks = (total + MAX_BLOCK_SOURCE - 1) // MAX_BLOCK_SOURCE
    if num_blocks > 255:
        raise DecodeError("rs message needs %d blocks, at most 255" % num_blocks)
    return num_blocks, partition(total, num_blocks)


def repair_count(k):
    return max(MIN_REPAIR, k * REPAIR_RATIO_PERCENT // 100)


def combine(symbols, coefficients, symbol_size):
    """sum_j coefficients[j] * symbols[j] over GF(2^8) (one leaf call: accel.gf256_combine)."""
    return accel.gf256_combine(symbols, bytes(coefficients), symbol_size)


class RsEncoder:
    """Encodes one message; symbol(block, esi) gives any source or repair symbol."""
    __slots__ = ("transfer_len", "symbol_size", "num_blocks", "sizes", "_blocks", "_repair")

    def __init__(self, data, symbol_size=SYMBOL_SIZE):
        self.transfer_len = len(data)
        self.symbol_size = symbol_size
        self.num_blocks, self.sizes = layout(len(data), symbol_size)
        self._blocks = []
        pos = 0
        for k in self.sizes:
            syms = []
            for _ in range(k):
                sym = bytes(data[pos:pos + symbol_size])
                if len(sym) < symbol_size:
                    sym = sym + bytes(symbol_size - len(sym))
                syms.append(sym)
                pos += symbol_size
            self._blocks.append(syms)
        self._repair = {}

    def symbol(self, block, esi):
        k = self.sizes[block]
        if esi < k:
            return self._blocks[block][esi]
        if esi > 255:
            raise LocalProtocolError("rs ESI above 255")
        key = (block, esi)
        sym = self._repair.get(key)
        if sym is None:
            coefs = [gf_inv(esi ^ j) for j in range(k)]
            sym = self._repair[key] = combine(self._blocks[block], coefs, self.symbol_size)
        return sym


class RsBlockDecoder:
    __slots__ = ("k", "received", "done")

    def __init__(self, k):
        self.k = k
        self.received = {}
        self.done = None

    def add(self, esi, symbol):
        if self.done is None and esi not in self.received:
            self.received[esi] = symbol
            if len(self.received) >= self.k:
                self.done = self._solve(len(symbol))
        return self.done is not None

    def _solve(self, symbol_size):
        k = self.k
        source = [self.received.get(j) for j in range(k)]
        missing = [j for j in range(k) if source[j] is None]
        if not missing:
            return source
        repairs = [e for e in sorted(self.received) if e >= k][:len(missing)]
        known = [j for j in range(k) if source[j] is not None]
        known_syms = [source[j] for j in known]
        n = len(missing)
        matrix = bytearray(n * n)
        rhs = []
        for r, e in enumerate(repairs):
            for c, m in enumerate(missing):
                matrix[r * n + c] = gf_inv(e ^ m)
            # strip the known sources out of the repair symbol (xor is GF addition)
            coefficients = bytes([gf_inv(e ^ j) for j in known]) + b"\x01"
            rhs.append(combine(known_syms + [self.received[e]], coefficients, symbol_size))
        try:
            inverse = accel.gf256_invert(bytes(matrix), n)
        except ValueError:
            raise LocalProtocolError("Cauchy submatrix singular: a bug") from None
        for c, m in enumerate(missing):
            source[m] = combine(rhs, inverse[c * n:(c + 1) * n], symbol_size)
        return source

    def bitmap(self):
        bits = bytearray(32)
        for esi in self.received:
            bits[esi >> 3] |= 1 << (esi & 7)
        return bytes(bits)


class RsDecoder:
    """Collects symbols of one message; add() returns the message bytes once all blocks decode."""
    __slots__ = ("transfer_len", "symbol_size", "num_blocks", "blocks")

    def __init__(self, transfer_len, symbol_size, num_blocks):
        expected_blocks, sizes = layout(transfer_len, symbol_size)
        if expected_blocks != num_blocks:
            raise DecodeError("rs header names %d blocks, the length implies %d"
                              % (num_blocks, expected_blocks))
        self.transfer_len = transfer_len
        self.symbol_size = symbol_size
        self.num_blocks = num_blocks
        self.blocks = [RsBlockDecoder(k) for k in sizes]

    def add(self, block, esi, symbol):
        if block >= self.num_blocks:
            raise DecodeError("rs block %d of %d" % (block, self.num_blocks))
        if len(symbol) != self.symbol_size:
            raise DecodeError("rs symbol of %d bytes, header says %d" % (len(symbol), self.symbol_size))
        self.blocks[block].add(esi, symbol)
        for b in self.blocks:
            if b.done is None:
                return None
        out = bytearray()
        for b in self.blocks:
            for sym in b.done:
                out.extend(sym)
        return bytes(out[:self.transfer_len])

    def missing(self):
        """[(block, need, bitmap)] for blocks not decoded yet."""
        return [(i, b.k - len(b.received), b.bitmap())
                for i, b in enumerate(self.blocks) if b.done is None]


def push_chunk(ray_id, enc, block, esi):
    head = bytearray(ray_id)
    tl = enc.transfer_len
    head.append(SCHEME_TAG)
    head.extend(bytes((tl & 0xFF, (tl >> 8) & 0xFF, (tl >> 16) & 0xFF, tl >> 24)))
    head.extend(bytes((enc.symbol_size & 0xFF, enc.symbol_size >> 8)))
    head.extend(bytes((enc.num_blocks, block, esi)))
    return bytes(head) + enc.symbol(block, esi)


def pull_chunk(frame):
    """(ray_id, key, block, esi, symbol) of an rs chunk frame; raises DecodeError."""
    if len(frame) < CHUNK_HEADER_LEN + 1:
        raise DecodeError("rs chunk frame of %d bytes is too short" % len(frame))
    if frame[RAY_ID_LEN] != SCHEME_TAG:
        raise DecodeError("not an rs chunk (tag %d)" % frame[RAY_ID_LEN])
    p = RAY_ID_LEN + 1
    tl = frame[p] | frame[p + 1] << 8 | frame[p + 2] << 16 | frame[p + 3] << 24
    t = frame[p + 4] | frame[p + 5] << 8
    num_blocks, block, esi = frame[p + 6], frame[p + 7], frame[p + 8]
    num_expected, sizes = layout(tl, t)
    if num_blocks != num_expected:
        raise DecodeError("rs header names %d blocks, the length implies %d" % (num_blocks, num_expected))
    if block >= num_blocks:
        raise DecodeError("rs block %d of %d" % (block, num_blocks))
    symbol = frame[CHUNK_HEADER_LEN:]
    if len(symbol) != t:
        raise DecodeError("rs symbol of %d bytes, header says %d" % (len(symbol), t))
    return bytes(frame[:RAY_ID_LEN]), bytes(frame[RAY_ID_LEN:CHUNK_HEADER_LEN - 2]), block, esi, symbol


def ray_id_of(frame):
    n = len(frame)
    return blake2s_256(bytes((n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF, (n >> 24) & 0xFF)) + frame)


class RsScheme:
    """The `rs` FEC scheme behind the interface of dusk_edge.crypto.fec."""
    name = "rs"

    def __init__(self, symbol_size=SYMBOL_SIZE):
        self.symbol_size = symbol_size

    def new_encoder(self, frame, ray_id):
        return RsRayEncoder(frame, ray_id, self.symbol_size)

    def parse_chunk(self, chunk):
        ray_id, key, block, esi, symbol = pull_chunk(chunk)
        return ray_id, key, (block, esi, symbol)

    def new_decoder(self, key):
        p = 1
        tl = key[p] | key[p + 1] << 8 | key[p + 2] << 16 | key[p + 3] << 24
        t = key[p + 4] | key[p + 5] << 8
        return RsRayDecoder(RsDecoder(tl, t, key[p + 6]), tl)


class RsRayEncoder:
    __slots__ = ("ray_id", "enc", "_next")

    def __init__(self, frame, ray_id, symbol_size):
        self.ray_id = ray_id
        self.enc = RsEncoder(frame, symbol_size)
        self._next = [k + repair_count(k) for k in self.enc.sizes]  # next unsent repair ESI

    def initial_chunks(self):
        out = []
        for b, k in enumerate(self.enc.sizes):
            for esi in range(k + repair_count(k)):
                out.append(push_chunk(self.ray_id, self.enc, b, esi))
        return out

    def fresh_chunks(self, block, need, bitmap):
        """Up to ``need`` symbols of ``block`` the requester lacks (per its ESI bitmap):
        never-sent repair ESIs first, then any symbol missing from the bitmap."""
        if block >= self.enc.num_blocks:
            return []
        out = []
        esi = self._next[block]
        while len(out) < need and esi <= 255:
            out.append(push_chunk(self.ray_id, self.enc, block, esi))
            esi += 1
        self._next[block] = esi
        for esi in range(256):
            if len(out) >= need:
                break
            if not bitmap[esi >> 3] >> (esi & 7) & 1 and esi < self._next[block]:
                out.append(push_chunk(self.ray_id, self.enc, block, esi))
        return out


class RsRayDecoder:
    __slots__ = ("dec", "transfer_len")

    def __init__(self, dec, transfer_len):
        self.dec = dec
        self.transfer_len = transfer_len

    def add(self, parsed):
        block, esi, symbol = parsed
        return self.dec.add(block, esi, symbol)

    def missing(self):
        return self.dec.missing()
