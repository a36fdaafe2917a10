# Theory of operation: the ledger never does curve arithmetic itself; it calls a verifier object
# (DESIGN.md §1 "crypto is injected"). The interface:
#
#   verify_batch([(scheme, key, message, signature)]) -> index of the first bad entry, or -1
#   verify_multisig(pk96, message, sig48) -> bool        (single-key multisig: faults)
#
# `NativeVerifier` is the CPython backend. Plain BLS signatures on distinct messages are checked
# as one random-linear-combination batch: e(sum r_i s_i, g2) == prod e(r_i H0(m_i), pk_i), i.e.
# one multi-pairing with a single final exponentiation, one pairing per distinct key (messages of
# the same key are summed first); the r_i are 128-bit values derived from
# a hash of the whole batch, so a forger cannot pick signatures that cancel. When the batch fails,
# each entry is checked alone to name the culprit. Ed25519 and P-256 go one by one through
# `cryptography`. Malformed keys or signatures count as bad, never raise.
from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.core.hashes import blake2b_512
from dusk_edge.core.ledger.transactions import SCHEME_BLS, SCHEME_ED25519, SCHEME_P256


class NativeVerifier:
    """CPython verifier over dusk_edge.crypto.bls (arkworks) and `cryptography`."""

    def __init__(self, batch_bls=True):
        from dusk_edge.crypto import bls

        self._bls = bls
        self.batch_bls = batch_bls

    def verify_multisig(self, pk, message, signature):
        try:
            return bool(self._bls.verify_multisig([pk], message, signature))
        except DuskEdgeError:
            return False

    def verify_one(self, scheme, key, message, signature):
        try:
            if scheme == SCHEME_BLS:
                return bool(self._bls.verify(key, message, signature))
            if scheme == SCHEME_ED25519:
                return _verify_ed25519(key, message, signature)
            if scheme == SCHEME_P256:
                return _verify_p256(key, message, signature)
        except DuskEdgeError:
            return False
        return False

    def verify_batch(self, checks):
        bls_indexes = [i for i, c in enumerate(checks) if c[0] == SCHEME_BLS]
        if self.batch_bls and len(bls_indexes) > 1 and self._bls_batch_holds([checks[i] for i in bls_indexes]):
            done = set(bls_indexes)
        else:
            done = set()
        for i, (scheme, key, message, signature) in enumerate(checks):
            if i not in done and not self.verify_one(scheme, key, message, signature):
                return i
        return -1

    def _bls_batch_holds(self, checks):
        from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

        bls = self._bls
        keys = {}
        try:
            sigs = [bls.load_signature(c[3]) for c in checks]
            for c in checks:
                if c[1] not in keys:
                    keys[c[1]] = bls.load_public_key(c[1])
        except DuskEdgeError:
            return False
        seed = blake2b_512(b"".join(c[1] + c[3] + blake2b_512(c[2]) for c in checks))
        weights = []
        for i in range(len(checks)):
            wide = blake2b_512(seed + i.to_bytes(4, "little"))
            weights.append(Scalar(int.from_bytes(wide[:16], "little") | 1))
        # messages signed by the same key share one pairing: e(sum r_i H0(m_i), pk)
        by_key = {}
        for index in range(len(checks)):
            _, key, message, _ = checks[index]
            weight = weights[index]
            group = by_key.get(key)
            if group is None:
                group = by_key[key] = ([], [])
            group[0].append(bls.h0(message))
            group[1].append(weight)
        g1 = [G1Point.multiexp_unchecked(sigs, weights)]
        g2 = [-G2Point()]
        for key, (points, scalars) in by_key.items():
            g1.append(G1Point.multiexp_unchecked(points, scalars))
            g2.append(keys[key])
        return GT.pairing_check(g1, g2)


def _verify_ed25519(key, message, signature):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes(key)).verify(bytes(signature), bytes(message))
        return True
    except (InvalidSignature, ValueError):
        return False


def _verify_p256(key, message, signature):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(key))
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        public.verify(encode_dss_signature(r, s), bytes(message), ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False
