"""The node's verifier of shielded-transfer proofs: a genesis verifying key, prepared once.

Theory of operation. Genesis carries the transfer circuit's Groth16 verifying key as bytes
(`verifying_key_bytes_from_snarkjs` makes them from snarkjs's JSON); `TransferVerifier` decodes and
prepares that key once per process (dusk_edge.crypto.zk caches by the bytes) and answers the two
questions the pool rules ask: is this proof valid, are all of these valid (batch). Malformed proof
bytes count as invalid here — the transaction is rejected either way, with InvalidProof.
"""
import os

from dusk_edge.core.errors import CryptoError
from dusk_edge.crypto import zk

PUBLIC_INPUT_COUNT = 9


def verifying_key_bytes_from_snarkjs(vk_json):
    """The genesis bytes (VerifyingKey.to_bytes) of snarkjs's verification_key.json dict."""
    vk = zk.VerifyingKey.from_snarkjs(vk_json)
    if vk.public_input_count != PUBLIC_INPUT_COUNT:
        raise CryptoError("transfer verifying key must have %d public inputs" % PUBLIC_INPUT_COUNT)
    return vk.to_bytes()


class TransferVerifier:
    __slots__ = ("prepared", "rng")

    def __init__(self, vk_bytes, rng=os.urandom):
        self.prepared = zk.prepare_verifying_key(vk_bytes)
        if self.prepared.vk.public_input_count != PUBLIC_INPUT_COUNT:
            raise CryptoError("transfer verifying key must have %d public inputs" % PUBLIC_INPUT_COUNT)
        self.rng = rng

    def verify(self, public_inputs, proof_bytes):
        try:
            return zk.verify(self.prepared, zk.Proof.from_bytes(proof_bytes), public_inputs)
        except CryptoError:
            return False

    def batch_verify(self, items):
        """``items``: [(public_inputs, proof_bytes), ...]; True when all verify."""
        try:
            decoded = [(zk.Proof.from_bytes(proof), inputs) for inputs, proof in items]
            return zk.batch_verify(self.prepared, decoded, self.rng)
        except CryptoError:
            return False
