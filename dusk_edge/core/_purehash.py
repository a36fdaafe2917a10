# Theory of operation: pure-Python SHA3-256 (FIPS 202), BLAKE2s-256 and BLAKE2b-512 (RFC 7693,
# unkeyed) for interpreters whose hashlib lacks them (MicroPython ships only sha256). CPython
# never uses these in production: core/hashes.py prefers hashlib and falls back here.
#
# Words are plain Python ints masked to their width (64-bit Keccak lanes and BLAKE2b words,
# 32-bit BLAKE2s words), so the code needs no struct, array or platform word size. The round
# constants and the rho/pi lane walk are derived at import from their definitions in FIPS 202
# rather than typed in, so a typo cannot hide in a table. These functions are one-shot (whole
# message in, digest out): every caller in the core hashes short, complete byte strings.

_MASK64 = 0xFFFFFFFFFFFFFFFF
_MASK32 = 0xFFFFFFFF

# --- Keccak-f[1600] --------------------------------------------------------------------------


def _keccak_round_constants():
    # FIPS 202 §3.2.5 rc(t): the LFSR x^8 + x^6 + x^5 + x^4 + 1, bit j of round ir at 2^j - 1.
    constants = []
    state = 1
    for _ in range(24):
        rc = 0
        for j in range(7):
            if state & 1:
                rc |= 1 << ((1 << j) - 1)
            state = ((state << 1) ^ 0x71) & 0xFF if state & 0x80 else (state << 1) & 0xFF
        constants.append(rc)
    return constants


def _keccak_rho_pi():
    # FIPS 202 §3.2.2-3.2.3: lane (x, y) rotates by (t+1)(t+2)/2 and moves to (y, 2x + 3y).
    # Returns (source, source column x, destination, rotation) per lane, index = x + 5 * y.
    offsets = [0] * 25
    x, y = 1, 0
    for t in range(24):
        offsets[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    moves = []
    for x in range(5):
        for y in range(5):
            moves.append((x + 5 * y, x, y + 5 * ((2 * x + 3 * y) % 5), offsets[x + 5 * y]))
    return tuple(moves)


_KECCAK_RC = _keccak_round_constants()
_KECCAK_RHO_PI = _keccak_rho_pi()
_ROWS = (0, 5, 10, 15, 20)


def _keccak_f1600(lanes):
    """Permute the 25 lanes (list of 64-bit ints) in place.

    Written with locals and unrolled columns because it is the hot loop of the MicroPython
    merkle and sortition paths (about 1.7x faster there than a literal transcription; the
    64-bit lanes are bignums on a 32-bit MicroPython, which bounds what unrolling can win)."""
    mask = _MASK64
    moves = _KECCAK_RHO_PI
    moved = [0] * 25
    d = [0] * 5
    for rc in _KECCAK_RC:
        # theta: each lane takes the parities of its two neighbouring columns
        c0 = lanes[0] ^ lanes[5] ^ lanes[10] ^ lanes[15] ^ lanes[20]
        c1 = lanes[1] ^ lanes[6] ^ lanes[11] ^ lanes[16] ^ lanes[21]
        c2 = lanes[2] ^ lanes[7] ^ lanes[12] ^ lanes[17] ^ lanes[22]
        c3 = lanes[3] ^ lanes[8] ^ lanes[13] ^ lanes[18] ^ lanes[23]
        c4 = lanes[4] ^ lanes[9] ^ lanes[14] ^ lanes[19] ^ lanes[24]
        d[0] = c4 ^ (((c1 << 1) | (c1 >> 63)) & mask)
        d[1] = c0 ^ (((c2 << 1) | (c2 >> 63)) & mask)
        d[2] = c1 ^ (((c3 << 1) | (c3 >> 63)) & mask)
        d[3] = c2 ^ (((c4 << 1) | (c4 >> 63)) & mask)
        d[4] = c3 ^ (((c0 << 1) | (c0 >> 63)) & mask)
        # theta applied on the way through rho (rotate) and pi (move); a 0 shift is harmless
        for source, column, destination, shift in moves:
            v = lanes[source] ^ d[column]
            moved[destination] = ((v << shift) | (v >> (64 - shift))) & mask
        # chi (xor with the mask is NOT within 64 bits), then iota
        for y in _ROWS:
            b0 = moved[y]
            b1 = moved[y + 1]
            b2 = moved[y + 2]
            b3 = moved[y + 3]
            b4 = moved[y + 4]
            lanes[y] = b0 ^ ((b1 ^ mask) & b2)
            lanes[y + 1] = b1 ^ ((b2 ^ mask) & b3)
            lanes[y + 2] = b2 ^ ((b3 ^ mask) & b4)
            lanes[y + 3] = b3 ^ ((b4 ^ mask) & b0)
            lanes[y + 4] = b4 ^ ((b0 ^ mask) & b1)
        lanes[0] ^= rc


def _keccak_sponge(data, rate, suffix, digest_size):
    # Pad10*1 with the domain suffix (0x06 for SHA3) and absorb rate-byte blocks.
    padded = bytearray(data)
    padded.append(suffix)
    while len(padded) % rate:
        padded.append(0)
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), rate):
        for i in range(rate // 8):
            at = start + 8 * i
            lanes[i] ^= int.from_bytes(bytes(padded[at:at + 8]), "little")
        _keccak_f1600(lanes)
    out = bytearray()
    for i in range((digest_size + 7) // 8):
        out.extend(lanes[i].to_bytes(8, "little"))
    return bytes(out[:digest_size])


def sha3_256(data):
    """SHA3-256 digest (32 bytes) of ``data`` (bytes-like)."""
    return _keccak_sponge(data, 136, 0x06, 32)


# --- BLAKE2 (RFC 7693) -----------------------------------------------------------------------

_BLAKE2_SIGMA = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)

# The initial values are the SHA-512 / SHA-256 ones (RFC 7693 §2.6).
_BLAKE2B_IV = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)
_BLAKE2S_IV = (
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
)

# The column and diagonal steps of one round: (a, b, c, d) indices into the work vector.
_BLAKE2_MIX = (
    (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
    (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
)


class _Blake2Variant:
    # word size, rounds and the four G rotations that tell BLAKE2b from BLAKE2s (RFC 7693 §2.1).
    __slots__ = ("bits", "mask", "block", "rounds", "rotations", "iv")

    def __init__(self, bits, rounds, rotations, iv):
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.block = 16 * bits // 8
        self.rounds = rounds
        self.rotations = rotations
        self.iv = iv


_BLAKE2B = _Blake2Variant(64, 12, (32, 24, 16, 63), _BLAKE2B_IV)
_BLAKE2S = _Blake2Variant(32, 10, (16, 12, 8, 7), _BLAKE2S_IV)


def _blake2_compress(variant, h, block, counter, final):
    bits = variant.bits
    mask = variant.mask
    r1, r2, r3, r4 = variant.rotations
    size = bits // 8
    m = [int.from_bytes(bytes(block[i:i + size]), "little") for i in range(0, variant.block, size)]
    v = list(h) + list(variant.iv)
    v[12] ^= counter & mask
    v[13] ^= (counter >> bits) & mask
    if final:
        v[14] ^= mask
    for r in range(variant.rounds):
        s = _BLAKE2_SIGMA[r % 10]
        for step in range(8):
            a, b, c, d = _BLAKE2_MIX[step]
            x = m[s[2 * step]]
            y = m[s[2 * step + 1]]
            va = (v[a] + v[b] + x) & mask
            vd = v[d] ^ va
            vd = ((vd >> r1) | (vd << (bits - r1))) & mask
            vc = (v[c] + vd) & mask
            vb = v[b] ^ vc
            vb = ((vb >> r2) | (vb << (bits - r2))) & mask
            va = (va + vb + y) & mask
            vd ^= va
            vd = ((vd >> r3) | (vd << (bits - r3))) & mask
            vc = (vc + vd) & mask
            vb ^= vc
            vb = ((vb >> r4) | (vb << (bits - r4))) & mask
            v[a] = va
            v[b] = vb
            v[c] = vc
            v[d] = vd
    for i in range(8):
        h[i] ^= v[i] ^ v[i + 8]


def _blake2(variant, data, digest_size):
    h = list(variant.iv)
    h[0] ^= 0x01010000 ^ digest_size  # parameter block: fanout 1, depth 1, no key
    block = variant.block
    length = len(data)
    start = 0
    # Every full block but the last is compressed as non-final; the last (possibly empty or
    # partial) block is zero-padded and flagged final, with the counter at the total length.
    while length - start > block:
        _blake2_compress(variant, h, data[start:start + block], start + block, False)
        start += block
    last = bytearray(data[start:])
    last.extend(bytes(block - len(last)))
    _blake2_compress(variant, h, last, length, True)
    size = variant.bits // 8
    out = bytearray()
    for word in h:
        out.extend(word.to_bytes(size, "little"))
    return bytes(out[:digest_size])


def blake2s_256(data):
    """Unkeyed BLAKE2s with a 32-byte digest of ``data`` (bytes-like)."""
    return _blake2(_BLAKE2S, data, 32)


def blake2b_512(data):
    """Unkeyed BLAKE2b with a 64-byte digest of ``data`` (bytes-like)."""
    return _blake2(_BLAKE2B, data, 64)
