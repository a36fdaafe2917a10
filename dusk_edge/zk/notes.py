"""Phoenix-like notes: keys, commitments, nullifiers and the note ciphertext for the recipient.

Theory of operation. A spending secret s (a field element) gives the owner key
pk = H_owner(s, 0); a note is (pk, value, blinding) and only its commitment

    cm = H_note(H_note_inner(pk, value), blinding)

goes on chain, into the note tree. Spending the note at leaf `position` reveals the nullifier

    nf = H_nullifier(H_nullifier_inner(s, position), cm)

which only the owner can compute and which is the same whenever that note is spent, so the
nullifier set stops double spends without saying which leaf was spent. Binding the position stops
two equal commitments from sharing one nullifier. H_x is poseidon.hash2 under the tag x.

The recipient learns value and blinding from a ciphertext next to the commitment: X25519 from a
fresh ephemeral key to the recipient's viewing key, key = SHA-256(tag || shared || eph || view),
ChaCha20-Poly1305 over value (u64 LE) || blinding (32 B BE). An address is pk (32 B) || view
public key (32 B), shown as hex.
"""
import hashlib
import os
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.exceptions import InvalidTag

from dusk_edge.core.errors import ConfigError, DecodeError
from dusk_edge.zk import poseidon

R = poseidon.R
FIELD_SIZE = 32
ADDRESS_SIZE = 64
CIPHERTEXT_SIZE = 32 + 8 + 32 + 16
MAX_VALUE = (1 << 64) - 1
_KDF_TAG = b"dusk-edge/note-key/v1"


def field_to_bytes(value):
    return value.to_bytes(FIELD_SIZE, "big")


def field_from_bytes(data):
    """A canonical field element from 32 big-endian bytes; DecodeError otherwise."""
    if len(data) != FIELD_SIZE:
        raise DecodeError("field element must be 32 bytes")
    value = int.from_bytes(data, "big")
    if value >= R:
        raise DecodeError("field element is not canonical")
    return value


def random_field(rng=os.urandom):
    return int.from_bytes(rng(64), "big") % R


def owner_key(secret):
    return poseidon.hash2(poseidon.TAG_OWNER, secret, 0)


def note_commitment(owner, value, blinding):
    inner = poseidon.hash2(poseidon.TAG_NOTE_INNER, owner, value)
    return poseidon.hash2(poseidon.TAG_NOTE, inner, blinding)


def nullifier(secret, position, commitment):
    inner = poseidon.hash2(poseidon.TAG_NULLIFIER_INNER, secret, position)
    return poseidon.hash2(poseidon.TAG_NULLIFIER, inner, commitment)


class SpendingKey:
    """The wallet's keys, all derived from one 32-byte seed."""

    __slots__ = ("seed", "secret", "owner", "_view")

    def __init__(self, seed):
        if len(seed) != 32:
            raise ConfigError("wallet seed must be 32 bytes")
        self.seed = bytes(seed)
        self.secret = int.from_bytes(hashlib.sha512(b"dusk-edge/spend/v1" + seed).digest(), "big") % R
        self.owner = owner_key(self.secret)
        self._view = X25519PrivateKey.from_private_bytes(hashlib.sha256(b"dusk-edge/view/v1" + seed).digest())

    @property
    def address(self):
        view_public = self._view.public_key().public_bytes_raw()
        return field_to_bytes(self.owner) + view_public

    def decrypt_note(self, commitment, ciphertext):
        """(value, blinding) when ``ciphertext`` is a note for us matching ``commitment``, else None."""
        if len(ciphertext) != CIPHERTEXT_SIZE:
            return None
        ephemeral = ciphertext[:32]
        shared = self._view.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        key = _note_key(shared, ephemeral, self.address[32:])
        try:
            plain = ChaCha20Poly1305(key).decrypt(b"\0" * 12, ciphertext[32:], field_to_bytes(commitment))
        except InvalidTag:
            return None
        value = struct.unpack("<Q", plain[:8])[0]
        blinding = int.from_bytes(plain[8:], "big")
        if blinding >= R or note_commitment(self.owner, value, blinding) != commitment:
            return None
        return value, blinding


def parse_address(address):
    """(owner key, view public key bytes) from a 64-byte address; ConfigError on a bad one."""
    if len(address) != ADDRESS_SIZE:
        raise ConfigError("an address is 64 bytes (128 hex digits)")
    try:
        owner = field_from_bytes(address[:32])
    except DecodeError as exc:
        raise ConfigError("bad address: %s" % exc) from None
    return owner, address[32:]


def _note_key(shared, ephemeral, view_public):
    return hashlib.sha256(_KDF_TAG + shared + ephemeral + view_public).digest()


def encrypt_note(address, value, blinding, commitment, rng=os.urandom):
    """The ciphertext telling the owner of ``address`` the note's value and blinding."""
    _, view_public = parse_address(address)
    ephemeral_key = X25519PrivateKey.from_private_bytes(rng(32))
    ephemeral = ephemeral_key.public_key().public_bytes_raw()
    shared = ephemeral_key.exchange(X25519PublicKey.from_public_bytes(view_public))
    plain = struct.pack("<Q", value) + field_to_bytes(blinding)
    sealed = ChaCha20Poly1305(_note_key(shared, ephemeral, view_public)).encrypt(
        b"\0" * 12, plain, field_to_bytes(commitment))
    return ephemeral + sealed
