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


# ---- GF(2^8) (polynomial 0x11d) for the rs erasure code (core/kadcast/rs.py) -------------------
GF_EXP = bytearray(512)
GF_LOG = bytearray(256)
_GF_ROWS = {}


def _gf_init():
    x = 1
    for i in range(255):
        GF_EXP[i] = x
        GF_LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        GF_EXP[i] = GF_EXP[i - 255]


_gf_init()


def _gf_row(c):
    # bytes.translate table multiplying every byte by c: the pure twin's fast path on CPython
    row = _GF_ROWS.get(c)
    if row is None:
        lc = GF_LOG[c]
        row = bytes([0] + [GF_EXP[lc + GF_LOG[v]] for v in range(1, 256)])
        _GF_ROWS[c] = row
    return row


def gf256_mul_add(dst, src, c):
    """dst[i] ^= c * src[i] in GF(2^8) (0x11d), in place. ``dst`` is a bytearray of the same
    length as ``src``; c in 0..255. Raises ValueError on unequal lengths or c out of range."""
    if len(dst) != len(src):
        raise ValueError("rows differ in length")
    if not 0 <= c <= 255:
        raise ValueError("coefficient out of range")
    if c == 0 or not src:
        return None
    row = _gf_row(c)
    try:
        prod = bytes(src).translate(row)
    except AttributeError:  # MicroPython: no bytes.translate
        prod = bytes(row[b] for b in src)
    n = len(dst)
    dst[:] = (int.from_bytes(bytes(dst), "little") ^ int.from_bytes(prod, "little")).to_bytes(n, "little")
    return None


def gf256_combine(symbols, coefficients, size):
    """sum_j coefficients[j] * symbols[j] over GF(2^8) as ``size`` bytes (one Reed-Solomon repair
    or decoded symbol). Raises ValueError when the counts differ or a symbol is not ``size`` long."""
    if size < 0 or len(coefficients) != len(symbols):
        raise ValueError("coefficients and symbols differ in count")
    acc = 0
    for sym, c in zip(symbols, coefficients):
        if len(sym) != size:
            raise ValueError("rows differ in length")
        if c:
            row = _gf_row(c)
            try:
                prod = bytes(sym).translate(row)
            except AttributeError:  # MicroPython: no bytes.translate
                prod = bytes(row[b] for b in sym)
            acc ^= int.from_bytes(prod, "little")
    return acc.to_bytes(size, "little")


def _gf_mul(a, b):
    if a == 0 or b == 0:
        return 0
    return GF_EXP[GF_LOG[a] + GF_LOG[b]]


def gf256_invert(matrix, n):
    """Inverse of the n x n matrix (row-major bytes) over GF(2^8) by Gauss-Jordan elimination;
    returns n*n bytes. Raises ValueError when singular or when len(matrix) != n*n."""
    if n < 0 or len(matrix) != n * n:
        raise ValueError("matrix is not n x n")
    a = [bytearray(matrix[r * n:(r + 1) * n]) for r in range(n)]
    inv = [bytearray(n) for _ in range(n)]
    for r in range(n):
        inv[r][r] = 1
    for col in range(n):
        pivot = col
        while pivot < n and a[pivot][col] == 0:
            pivot += 1
        if pivot == n:
            raise ValueError("matrix is singular")
        a[col], a[pivot] = a[pivot], a[col]
        inv[col], inv[pivot] = inv[pivot], inv[col]
        scale = GF_EXP[255 - GF_LOG[a[col][col]]]
        a[col] = bytearray(_gf_mul(scale, v) for v in a[col])
        inv[col] = bytearray(_gf_mul(scale, v) for v in inv[col])
        for r in range(n):
            f = a[r][col]
            if r != col and f:
                gf256_mul_add(a[r], a[col], f)
                gf256_mul_add(inv[r], inv[col], f)
    out = bytearray()
    for row in inv:
        out.extend(row)
    return bytes(out)


def sortition_extract(weights, hashes, unit):
    """The whole extraction loop of PROTOCOL.md §4 over precomputed sortition hashes (ints, one per
    credit, counter order): score = hash % total, walk (sortition_pick), take min(weight, unit)
    from the picked weight, stop early when the total is used up (partial committee). Returns the
    picked indices; ``weights`` is updated in place. Raises ValueError when a weight or the total
    weight is outside 0..2**64-1, TypeError when a hash is not an int."""
    if unit < 0 or unit >> 64:
        raise ValueError("unit out of range")
    total = 0
    for w in weights:
        if w < 0 or w >> 64:
            raise ValueError("weight out of range")
        total += w
    if total >> 64:
        raise ValueError("total weight out of range")
    picks = []
    for h in hashes:
        if not isinstance(h, int):
            raise TypeError("hashes must be ints")
        if total == 0:
            break
        score = h % total
        i = 0
        while weights[i] < score:
            score -= weights[i]
            i += 1
        taken = weights[i] if weights[i] < unit else unit
        weights[i] -= taken
        picks.append(i)
        if total > taken:
            total -= taken
        else:
            break
    return picks
