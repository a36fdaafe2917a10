# Pure twins of the C speedups in dusk_edge/_speedups.c. Same names, same results, same errors;
# tests/test_speedups_equiv.py proves it with hypothesis. Keep each function a hot leaf loop: all
# policy stays in the callers.


def _make_crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli, reflected) of ``data`` continuing from ``crc`` (0 to start)."""
    table = _CRC32C_TABLE
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def xor_bucket(a, b):
    """Kadcast bucket of two equal-length ids: index of the highest set bit of a XOR b read as a
    little-endian integer, or -1 when the ids are equal. Raises ValueError on unequal lengths."""
    if len(a) != len(b):
        raise ValueError("ids differ in length")
    for i in range(len(a) - 1, -1, -1):
        x = a[i] ^ b[i]
        if x:
            bit = 7
            while not (x >> bit) & 1:
                bit -= 1
            return i * 8 + bit
    return -1


def bitset_indices(bitset, size):
    """Indices i < ``size`` whose bit is set in the integer ``bitset`` (ascending).
    Raises ValueError when size is outside 0..64 or bitset outside 0..2**64-1."""
    if size < 0 or size > 64:
        raise ValueError("size out of range")
    if bitset < 0 or bitset >> 64:
        raise ValueError("bitset out of range")
    out = []
    for i in range(size):
        if (bitset >> i) & 1:
            out.append(i)
    return out


def sortition_pick(weights, score):
    """Index of the provisioner that covers ``score`` (PROTOCOL.md §4 walk): the first i with
    weights[i] >= score, subtracting each weight passed. Raises ValueError when the score is not
    below the sum of the weights, or a weight or the score is outside 0..2**64-1."""
    if score < 0 or score >> 64:
        raise ValueError("score out of range")
    for i in range(len(weights)):
        w = weights[i]
        if w < 0 or w >> 64:
            raise ValueError("weight out of range")
        if w >= score:
            return i
        score -= w
    raise ValueError("score beyond the total weight")
