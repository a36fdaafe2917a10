"""Dusk's BLS12-381 multisig, V2 (PROTOCOL.md §7), on py-arkworks-bls12381.

Keys: secret keys are 32-byte little-endian canonical non-zero scalars; public keys are 96-byte
compressed G2 points; signatures are 48-byte compressed G1 points.

    H0(m)   = hash_to_curve_G1(m, DST_V2)                       (RFC 9380, SSWU, SHA-256)
    H1(pk)  = hash_to_scalar(H1_PREFIX || pk96)                  (BLAKE2b-512, wide reduction)
    sign    = sk * H0(m)                                         (plain, Moonlight transactions)
    msign   = sk * H1(pk) * H0(m)                                (multisig, every consensus signature)
    apk     = sum(H1(pk_i) * pk_i)
    verify  = e(sigma, g2) == e(H0(m), apk)

Each public key's coefficient-weighted point H1(pk)*pk is computed once and cached, so verifying a
64-member step costs 63 G2 additions plus two pairings. Malformed input (bad length, not on the
curve, not in the subgroup, identity, non-canonical scalar) raises CryptoError; a well-formed
signature that does not verify makes the verify functions return False.
"""
from collections import OrderedDict
from hashlib import blake2b

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from dusk_edge.core.errors import CryptoError

DST_V2 = b"BLS_SIG_BLS12381G1_XMD:SHA-256_DUSK_V2"
H1_PREFIX = b"BLS_SIG_BLS12381_SCALAR_SHA256_DUSK_H1_V2"
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
SECRET_KEY_SIZE = 32
PUBLIC_KEY_SIZE = 96
SIGNATURE_SIZE = 48

_G2 = G2Point()
_NEG_G2 = -G2Point()
_IDENTITY_G1 = G1Point.identity()
_IDENTITY_G2 = G2Point.identity()


def hash_to_scalar(message):
    """BLAKE2b-512 of ``message`` read little-endian, reduced mod r (an int)."""
    return int.from_bytes(blake2b(message).digest(), "little") % R


def h0(message):
    """H0: RFC 9380 hash-to-G1 with Dusk's V2 tag."""
    return G1Point.hash_to_curve(bytes(message), DST_V2)


def h1(public_key_bytes):
    """H1: the multisig coefficient of a 96-byte public key (an int mod r)."""
    return hash_to_scalar(H1_PREFIX + bytes(public_key_bytes))


# keys ---------------------------------------------------------------------------------------


def load_secret_key(secret_key_bytes):
    """Parse a 32-byte little-endian scalar; must be canonical (< r) and non-zero."""
    if len(secret_key_bytes) != SECRET_KEY_SIZE:
        raise CryptoError("secret key must be 32 bytes")
    value = int.from_bytes(secret_key_bytes, "little")
    if value == 0 or value >= R:
        raise CryptoError("secret key is zero or not canonical")
    return Scalar(value)


def secret_key_from_int(value):
    """A canonical secret key (32 bytes LE) for an integer 1 <= value < r."""
    if not 0 < value < R:
        raise CryptoError("secret key out of range")
    return value.to_bytes(32, "little")


def public_key(secret_key_bytes):
    """96-byte compressed G2 public key of a secret key."""
    return bytes((_G2 * load_secret_key(secret_key_bytes)).to_compressed_bytes())


def load_public_key(public_key_bytes):
    """Decode a compressed G2 public key, checking subgroup and non-identity."""
    if len(public_key_bytes) != PUBLIC_KEY_SIZE:
        raise CryptoError("public key must be 96 bytes")
    try:
        point = G2Point.from_compressed_bytes(bytes(public_key_bytes))
    except (ValueError, TypeError) as exc:
        raise CryptoError("invalid public key encoding: %s" % exc) from None
    if point == _IDENTITY_G2:
        raise CryptoError("public key is the identity")
    return point


def load_signature(signature_bytes):
    """Decode a compressed G1 signature, checking subgroup and non-identity."""
    if len(signature_bytes) != SIGNATURE_SIZE:
        raise CryptoError("signature must be 48 bytes")
    try:
        point = G1Point.from_compressed_bytes(bytes(signature_bytes))
    except (ValueError, TypeError) as exc:
        raise CryptoError("invalid signature encoding: %s" % exc) from None
    if point == _IDENTITY_G1:
        raise CryptoError("signature is the identity")
    return point


# coefficient keys (cached) ---------------------------------------------------------------


class CoefficientKeyCache:
    """LRU cache of H1(pk)*pk per public key; bounded so a peer cannot grow it without limit."""

    def __init__(self, capacity=4096):
        self.capacity = capacity
        self._points = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, public_key_bytes):
        key = bytes(public_key_bytes)
        point = self._points.get(key)
        if point is not None:
            self._points.move_to_end(key)
            self.hits += 1
            return point
        self.misses += 1
        point = load_public_key(key) * Scalar(h1(key))
        self._points[key] = point
        if len(self._points) > self.capacity:
            self._points.popitem(last=False)
        return point

    def clear(self):
        self._points.clear()


COEFFICIENT_KEYS = CoefficientKeyCache()


def aggregate_public_keys(public_keys, cache=COEFFICIENT_KEYS):
    """APK = sum(H1(pk_i) * pk_i) as a G2 point. Raises CryptoError on an empty list."""
    if not public_keys:
        raise CryptoError("no public keys to aggregate")
    points = [cache.get(pk) for pk in public_keys]
    apk = points[0]
    for point in points[1:]:
        apk = apk + point
    return apk


def aggregate_public_keys_uncached(public_keys):
    """The same APK without the cache (the baseline the benchmark compares against)."""
    return aggregate_public_keys(public_keys, cache=CoefficientKeyCache(capacity=len(public_keys) + 1))


# signing -----------------------------------------------------------------------------------


def sign(secret_key_bytes, message):
    """Plain BLS signature sk*H0(m) (Moonlight transactions, stake calls); 48 bytes."""
    return bytes((h0(message) * load_secret_key(secret_key_bytes)).to_compressed_bytes())


def sign_multisig(secret_key_bytes, message, public_key_bytes=None):
    """Multisig signature sk*H1(pk)*H0(m) (votes, candidates, seeds); 48 bytes."""
    sk = load_secret_key(secret_key_bytes)
    pk = public_key_bytes if public_key_bytes is not None else public_key(secret_key_bytes)
    coefficient = Scalar(h1(pk))
    return bytes((h0(message) * (sk * coefficient)).to_compressed_bytes())


def aggregate_signatures(signatures):
    """Sum of 48-byte G1 signatures; raises CryptoError when the list is empty or malformed."""
    if not signatures:
        raise CryptoError("no signatures to aggregate")
    total = load_signature(signatures[0])
    for sig in signatures[1:]:
        total = total + load_signature(sig)
    return bytes(total.to_compressed_bytes())


# verification ------------------------------------------------------------------------------


def _pairing_holds(signature_point, message, key_point):
    return GT.pairing_check([signature_point, h0(message)], [_NEG_G2, key_point])


def verify(public_key_bytes, message, signature_bytes):
    """Plain signature check e(sig, g2) == e(H0(m), pk)."""
    return _pairing_holds(load_signature(signature_bytes), message, load_public_key(public_key_bytes))


def verify_multisig(public_keys, message, signature_bytes, cache=COEFFICIENT_KEYS):
    """Aggregate multisig check against the APK of ``public_keys`` (one key works too)."""
    apk = aggregate_public_keys(public_keys, cache)
    return _pairing_holds(load_signature(signature_bytes), message, apk)


def verify_multisig_apk(apk_point, message, signature_bytes):
    """Aggregate check against an already-built APK point (G2Point)."""
    return _pairing_holds(load_signature(signature_bytes), message, apk_point)
