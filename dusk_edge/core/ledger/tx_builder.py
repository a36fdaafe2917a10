# Theory of operation: building and signing transactions. Signing is injected like verifying:
# a signer has `account_key` (an AccountKey) and `sign(message) -> bytes`. BlsSigner, Ed25519Signer
# and P256Signer are the CPython signers (imports are lazy so the core stays importable on
# MicroPython); an HSM-backed signer only needs the same two members.
from dusk_edge.core.ledger.transactions import (
    KIND_SHIELDED,
    KIND_STAKE,
    KIND_TRANSFER,
    KIND_UNSTAKE,
    KIND_WITHDRAW,
    SCHEME_BLS,
    SCHEME_ED25519,
    SCHEME_P256,
    AccountKey,
    Transaction,
    stake_message,
)

DEFAULT_GAS_LIMIT = 150000
DEFAULT_GAS_PRICE = 1


class BlsSigner:
    """Plain BLS (non-multisig) signatures, as Moonlight transactions and stake calls use."""

    def __init__(self, secret_key):
        from dusk_edge.crypto import bls

        self._bls = bls
        self._sk = bytes(secret_key)
        self.public_key = bls.public_key(self._sk)
        self.account_key = AccountKey(SCHEME_BLS, self.public_key)

    def sign(self, message):
        return self._bls.sign(self._sk, message)


class Ed25519Signer:
    def __init__(self, seed32):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = Ed25519PrivateKey.from_private_bytes(bytes(seed32))
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.account_key = AccountKey(SCHEME_ED25519, raw)

    def sign(self, message):
        return self._key.sign(bytes(message))


class P256Signer:
    """ECDSA P-256 over SHA-256, raw r||s (what PKCS#11 tokens return)."""

    def __init__(self, secret_int):
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._ec = ec
        self._key = ec.derive_private_key(secret_int, ec.SECP256R1())
        point = self._key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        self.account_key = AccountKey(SCHEME_P256, point)

    def sign(self, message):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self._key.sign(bytes(message), self._ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_transaction(tx, signer):
    """Fill the sender signature (after every other field is final); returns tx."""
    tx.signature = None
    tx._encoded = None
    tx.signature = signer.sign(tx.signed_bytes())
    return tx


def build_transfer(signer, receiver, value, nonce, chain_id, gas_limit=DEFAULT_GAS_LIMIT,
                   gas_price=DEFAULT_GAS_PRICE, memo=b""):
    tx = Transaction(chain_id, KIND_TRANSFER, signer.account_key, receiver, value, 0, gas_limit, gas_price, nonce,
                     memo)
    return sign_transaction(tx, signer)


def build_stake(owner_signer, consensus_signer, amount, nonce, chain_id, gas_limit=DEFAULT_GAS_LIMIT,
                gas_price=DEFAULT_GAS_PRICE):
    """Stake `amount` for the consensus key; both keys sign the 201-byte stake message (§6)."""
    account_pk = consensus_signer.public_key
    msg = stake_message(chain_id, account_pk, owner_signer.account_key, amount)
    tx = Transaction(chain_id, KIND_STAKE, owner_signer.account_key, None, 0, amount, gas_limit, gas_price, nonce,
                     b"", account_pk, 0, consensus_signer.sign(msg), owner_signer.sign(msg))
    return sign_transaction(tx, owner_signer)


def build_unstake(owner_signer, account_pk, amount, nonce, chain_id, gas_limit=DEFAULT_GAS_LIMIT,
                  gas_price=DEFAULT_GAS_PRICE):
    tx = Transaction(chain_id, KIND_UNSTAKE, owner_signer.account_key, None, 0, 0, gas_limit, gas_price, nonce,
                     b"", account_pk, amount)
    return sign_transaction(tx, owner_signer)


def build_withdraw(owner_signer, account_pk, amount, nonce, chain_id, gas_limit=DEFAULT_GAS_LIMIT,
                   gas_price=DEFAULT_GAS_PRICE):
    tx = Transaction(chain_id, KIND_WITHDRAW, owner_signer.account_key, None, 0, 0, gas_limit, gas_price, nonce,
                     b"", account_pk, amount)
    return sign_transaction(tx, owner_signer)


def build_shielded(signer, payload, nonce, chain_id, receiver=None, gas_limit=200000, gas_price=DEFAULT_GAS_PRICE):
    """A shielded transaction carrying ShieldedTx bytes; `receiver` gets its public_out. The payload's
    fee must be GAS_COSTS[KIND_SHIELDED] * gas_price (execution.check_shielded_static)."""
    tx = Transaction(chain_id, KIND_SHIELDED, signer.account_key, receiver, 0, 0, gas_limit, gas_price, nonce,
                     b"", payload=payload)
    return sign_transaction(tx, signer)
