"""A counting stand-in for BLS in simulations of 16+ nodes (DESIGN.md §7): same interface as
dusk_edge.crypto.bls for what consensus uses (verify_multisig, aggregate_signatures) plus signers.

A "signature" of (pk, msg) is 48 bytes of SHA3 over both; an aggregate is the XOR of its parts, so
verifying against the wrong key set or message still fails, at hash speed. Not secure, not for nodes.
"""
from dusk_edge.core.hashes import sha3_256


def fake_public_key(index):
    """A deterministic 96-byte stand-in public key."""
    seed = b"fake-bls-pk" + index.to_bytes(4, "little")
    return sha3_256(seed + b"0") + sha3_256(seed + b"1") + sha3_256(seed + b"2")


def fake_sign(pk, message):
    digest = sha3_256(bytes(pk) + bytes(message))
    return digest + sha3_256(digest)[:16]


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


class FakeBls:
    """Verifier with call counters."""

    def __init__(self):
        self.verifications = 0
        self.aggregations = 0

    def verify_multisig(self, public_keys, message, signature):
        self.verifications += 1
        total = bytes(48)
        for pk in public_keys:
            total = _xor(total, fake_sign(pk, message))
        return total == bytes(signature)

    def aggregate_signatures(self, signatures):
        self.aggregations += 1
        total = bytes(48)
        for sig in signatures:
            total = _xor(total, sig)
        return total


class FakeSigner:
    """Unguarded signer with the dusk_edge.keys Signer interface (a Byzantine node may misuse it)."""

    def __init__(self, pk):
        self.pk = bytes(pk)

    def public_key(self):
        return self.pk

    def sign_vote(self, round_, iteration, step, message):
        return fake_sign(self.pk, message)

    def sign_candidate(self, round_, iteration, block_hash):
        return fake_sign(self.pk, block_hash)

    def sign_seed(self, round_, prev_seed):
        return fake_sign(self.pk, prev_seed)


class RealVerifier:
    """dusk_edge.crypto.bls with call counters (the 4-node simulation and the bench)."""

    def __init__(self):
        self.verifications = 0
        self.aggregations = 0

    def verify_multisig(self, public_keys, message, signature):
        from dusk_edge.crypto import bls  # imported here so fake-only runs need no BLS library

        self.verifications += 1
        return bls.verify_multisig(public_keys, message, signature)

    def aggregate_signatures(self, signatures):
        from dusk_edge.crypto import bls

        self.aggregations += 1
        return bls.aggregate_signatures(signatures)


class BlsSigner:
    """Unguarded real BLS multisig signer for simulations (nodes use dusk_edge.keys.signer)."""

    def __init__(self, secret_key):
        from dusk_edge.crypto import bls

        self.bls = bls
        self.sk = bytes(secret_key)
        self.pk = bls.public_key(self.sk)

    def public_key(self):
        return self.pk

    def sign_vote(self, round_, iteration, step, message):
        return self.bls.sign_multisig(self.sk, message, self.pk)

    def sign_candidate(self, round_, iteration, block_hash):
        return self.bls.sign_multisig(self.sk, block_hash, self.pk)

    def sign_seed(self, round_, prev_seed):
        return self.bls.sign_multisig(self.sk, prev_seed, self.pk)
