# Theory of operation: dusk-edge's public (Moonlight-style) transactions. The byte layout is ours
# (docs/transactions.md); the rules follow PROTOCOL.md §6/§7.
#
#   Transaction = version:u8(=1) | chain_id:u8 | kind:u8 | sender:AccountKey | receiver:AccountKey |
#                 value:u64 | deposit:u64 | gas_limit:u64 | gas_price:u64 | nonce:u64 |
#                 memo_len:u32 | memo[memo_len] | call | signature
#   AccountKey  = scheme:u8 | key   (0 BLS: 96 B, 1 Ed25519: 32 B, 2 ECDSA P-256: 33 B compressed)
#   call        = transfer: nothing
#               | stake:    account_pk[96] | account_sig[48] | owner_sig[sender's signature size]
#               | unstake / withdraw: account_pk[96] | amount:u64
#               | shielded: payload_len:u32 | payload (a ShieldedTx, dusk_edge/zk/pool.py; dusk-edge
#                 extension kind 4, accepted only on networks whose genesis fixes a verifying key)
#   signature   = by the sender key over every byte before it (48 BLS, 64 Ed25519, 64 ECDSA r||s)
#
# Non-transfer kinds carry receiver = sender and value = 0; a stake moves `deposit` into the stake.
# The stake message both stake keys sign is the reference's 201 bytes:
#   chain_id:u8 | account_pk[96] | owner slot[96] | value:u64
# where the owner slot holds a BLS owner key as is, or an Ed25519 / P-256 key zero-padded to 96 B.
# The tx id is hash_to_scalar(signed bytes || signature) as 32 LE bytes (§7); the tx/merkle leaf
# digest is SHA3-256 of the whole encoding.
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.hashes import blake2b_512, sha3_256
from dusk_edge.core.wire import Buffer

TX_VERSION = 1
KIND_TRANSFER = 0
KIND_STAKE = 1
KIND_UNSTAKE = 2
KIND_WITHDRAW = 3
KIND_SHIELDED = 4  # dusk-edge extension (docs/shielded.md), not in PROTOCOL.md's kinds
KIND_NAMES = ("transfer", "stake", "unstake", "withdraw", "shielded")
KINDS = (KIND_TRANSFER, KIND_STAKE, KIND_UNSTAKE, KIND_WITHDRAW, KIND_SHIELDED)
# a ShieldedTx is at most ~1.5 KB (two 512-byte ciphertexts); this bounds junk before any parsing
MAX_SHIELDED_PAYLOAD = 4096
# ShieldedTx prefix read by the ledger: version u8 | root, nf0, nf1, cm0, cm1 (32 B each) |
# public_in, public_out, fee (u64) | account_len u8 | account
SHIELDED_PAYLOAD_VERSION = 1
_SHIELDED_AMOUNTS_AT = 1 + 5 * 32

SCHEME_BLS = 0
SCHEME_ED25519 = 1
SCHEME_P256 = 2
SCHEME_NAMES = ("bls", "ed25519", "p256")
KEY_SIZES = (96, 32, 33)
SIGNATURE_SIZES = (48, 64, 64)

# 1 MiB minus the smallest header (PROTOCOL.md §7 mempool bound); a tx must fit an empty block.
MAX_TX_SIZE = 1048576 - 863
BLS_SCALAR_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
STAKE_MESSAGE_SIZE = 201


class AccountKey:
    """A tagged account public key; `account_id` (SHA3 of the encoding) keys the state tree."""

    __slots__ = ("scheme", "key")

    def __init__(self, scheme, key):
        if scheme not in (SCHEME_BLS, SCHEME_ED25519, SCHEME_P256):
            raise LocalProtocolError("unknown key scheme %r" % (scheme,))
        if len(key) != KEY_SIZES[scheme]:
            raise LocalProtocolError("%s key must be %d bytes" % (SCHEME_NAMES[scheme], KEY_SIZES[scheme]))
        self.scheme = scheme
        self.key = bytes(key)

    def __eq__(self, other):
        return isinstance(other, AccountKey) and self.scheme == other.scheme and self.key == other.key

    def __hash__(self):
        return hash((self.scheme, self.key))

    def __repr__(self):
        return "AccountKey(%s, %s)" % (SCHEME_NAMES[self.scheme], self.key.hex()[:16])

    def encode(self):
        return bytes([self.scheme]) + self.key

    def account_id(self):
        return sha3_256(self.encode())

    def owner_slot(self):
        """The 96-byte owner slot of the stake message."""
        return self.key + bytes(96 - len(self.key))

    def signature_size(self):
        return SIGNATURE_SIZES[self.scheme]


def pull_account_key(buf):
    scheme = buf.pull_u8()
    if scheme not in (SCHEME_BLS, SCHEME_ED25519, SCHEME_P256):
        raise DecodeError("unknown account key scheme %d" % scheme)
    return AccountKey(scheme, buf.pull_bytes(KEY_SIZES[scheme]))


def push_account_key(buf, key):
    buf.push_u8(key.scheme)
    buf.push_bytes(key.key)


def stake_message(chain_id, account_pk, owner, value):
    """The 201-byte message both stake keys sign (PROTOCOL.md §6)."""
    return bytes([chain_id]) + bytes(account_pk) + owner.owner_slot() + value.to_bytes(8, "little")


class Transaction:
    __slots__ = ("version", "chain_id", "kind", "sender", "receiver", "value", "deposit", "gas_limit",
                 "gas_price", "nonce", "memo", "account_pk", "amount", "account_sig", "owner_sig", "signature",
                 "payload", "_encoded", "_shielded")

    def __init__(self, chain_id, kind, sender, receiver=None, value=0, deposit=0, gas_limit=0, gas_price=0,
                 nonce=0, memo=b"", account_pk=None, amount=0, account_sig=None, owner_sig=None, signature=None,
                 version=TX_VERSION, payload=None):
        if kind not in KINDS:
            raise LocalProtocolError("unknown transaction kind %r" % (kind,))
        self.version = version
        self.chain_id = chain_id
        self.kind = kind
        self.sender = sender
        self.receiver = receiver if receiver is not None else sender
        self.value = value
        self.deposit = deposit
        self.gas_limit = gas_limit
        self.gas_price = gas_price
        self.nonce = nonce
        self.memo = bytes(memo)
        self.account_pk = bytes(account_pk) if account_pk is not None else None
        self.amount = amount
        self.account_sig = account_sig
        self.owner_sig = owner_sig
        self.signature = signature
        self.payload = bytes(payload) if payload is not None else None
        self._encoded = None
        self._shielded = None

    def __eq__(self, other):
        return isinstance(other, Transaction) and self.encode() == other.encode()

    def __hash__(self):
        return hash(self.encode())

    def __repr__(self):
        return "Transaction(%s nonce=%d)" % (KIND_NAMES[self.kind], self.nonce)

    def signed_bytes(self):
        """Every byte before the sender's signature: what the sender signs."""
        buf = Buffer()
        push_unsigned(buf, self)
        return buf.data

    def stake_message(self):
        return stake_message(self.chain_id, self.account_pk, self.sender, self.deposit)

    def encode(self):
        if self._encoded is None:
            if self.signature is None:
                raise LocalProtocolError("transaction is not signed")
            self._encoded = self.signed_bytes() + self.signature
        return self._encoded

    def digest(self):
        """Merkle leaf digest: SHA3-256 of the encoding (txroot)."""
        return sha3_256(self.encode())

    def tx_id(self):
        """hash_to_scalar(signed bytes || signature) as 32 little-endian bytes (§7)."""
        wide = int.from_bytes(blake2b_512(self.encode()), "little")
        return (wide % BLS_SCALAR_ORDER).to_bytes(32, "little")

    def max_fee(self):
        return self.gas_limit * self.gas_price

    def spend_limit(self):
        """What the sender must hold: value + deposit + gas_limit * gas_price; for a shielded
        transaction only public_in (its fee is paid out of the shielded pool)."""
        if self.kind == KIND_SHIELDED:
            return self.shielded_public().public_in
        return self.value + self.deposit + self.gas_limit * self.gas_price

    def shielded_public(self):
        """The public amounts and account of a shielded payload (ShieldedPublic); DecodeError."""
        if self._shielded is None:
            if self.kind != KIND_SHIELDED or self.payload is None:
                raise LocalProtocolError("not a shielded transaction")
            self._shielded = parse_shielded_public(self.payload)
        return self._shielded

    def size(self):
        return len(self.encode())


def push_unsigned(buf, tx):
    buf.push_u8(tx.version)
    buf.push_u8(tx.chain_id)
    buf.push_u8(tx.kind)
    push_account_key(buf, tx.sender)
    push_account_key(buf, tx.receiver)
    for v in (tx.value, tx.deposit, tx.gas_limit, tx.gas_price, tx.nonce):
        buf.push_u64(v)
    buf.push_u32(len(tx.memo))
    buf.push_bytes(tx.memo)
    if tx.kind == KIND_STAKE:
        _push_sized(buf, tx.account_pk, 96, "account_pk")
        _push_sized(buf, tx.account_sig, 48, "account_sig")
        _push_sized(buf, tx.owner_sig, tx.sender.signature_size(), "owner_sig")
    elif tx.kind in (KIND_UNSTAKE, KIND_WITHDRAW):
        _push_sized(buf, tx.account_pk, 96, "account_pk")
        buf.push_u64(tx.amount)
    elif tx.kind == KIND_SHIELDED:
        if tx.payload is None or len(tx.payload) > MAX_SHIELDED_PAYLOAD:
            raise LocalProtocolError("a shielded transaction carries a payload of at most %d bytes"
                                     % MAX_SHIELDED_PAYLOAD)
        buf.push_u32(len(tx.payload))
        buf.push_bytes(tx.payload)


class ShieldedPublic:
    """What the ledger reads from a shielded payload: the amounts crossing the pool boundary and
    the account the proof binds (an AccountKey encoding, or empty)."""

    __slots__ = ("public_in", "public_out", "fee", "account")

    def __init__(self, public_in, public_out, fee, account):
        self.public_in = public_in
        self.public_out = public_out
        self.fee = fee
        self.account = account


def parse_shielded_public(payload):
    """ShieldedPublic of a ShieldedTx's bytes; the rest (proof, notes) is the hook's to check."""
    buf = Buffer(bytes(payload))
    version = buf.pull_u8()
    if version != SHIELDED_PAYLOAD_VERSION:
        raise DecodeError("unknown shielded payload version %d" % version)
    buf.pull_bytes(_SHIELDED_AMOUNTS_AT - 1)
    public_in, public_out, fee = buf.pull_u64(), buf.pull_u64(), buf.pull_u64()
    account = buf.pull_bytes(buf.pull_u8())
    return ShieldedPublic(public_in, public_out, fee, account)


def _push_sized(buf, value, size, name):
    if value is None or len(value) != size:
        raise LocalProtocolError("%s must be %d bytes" % (name, size))
    buf.push_bytes(value)


def push_transaction(buf, tx):
    buf.push_bytes(tx.encode())


def pull_transaction(buf):
    """Decode one transaction; raises DecodeError on malformed bytes or a broken size limit."""
    start = buf.position
    version = buf.pull_u8()
    if version != TX_VERSION:
        raise DecodeError("unsupported transaction version %d" % version)
    chain_id = buf.pull_u8()
    kind = buf.pull_u8()
    if kind > KIND_SHIELDED:
        raise DecodeError("unknown transaction kind %d" % kind)
    sender = pull_account_key(buf)
    receiver = pull_account_key(buf)
    value, deposit, gas_limit, gas_price, nonce = [buf.pull_u64() for _ in range(5)]
    memo_len = buf.pull_u32()
    if memo_len > MAX_TX_SIZE:
        raise DecodeError("memo of %d bytes exceeds the transaction limit %d" % (memo_len, MAX_TX_SIZE))
    memo = buf.pull_bytes(memo_len)
    account_pk = account_sig = owner_sig = payload = None
    amount = 0
    if kind == KIND_STAKE:
        account_pk, account_sig = buf.pull_bytes(96), buf.pull_bytes(48)
        owner_sig = buf.pull_bytes(sender.signature_size())
    elif kind == KIND_SHIELDED:
        size = buf.pull_u32()
        if size > MAX_SHIELDED_PAYLOAD:
            raise DecodeError("shielded payload of %d bytes exceeds %d" % (size, MAX_SHIELDED_PAYLOAD))
        payload = buf.pull_bytes(size)
        parse_shielded_public(payload)
    elif kind != KIND_TRANSFER:
        account_pk, amount = buf.pull_bytes(96), buf.pull_u64()
    signature = buf.pull_bytes(sender.signature_size())
    if buf.position - start > MAX_TX_SIZE:
        raise DecodeError("transaction of %d bytes exceeds %d" % (buf.position - start, MAX_TX_SIZE))
    tx = Transaction(chain_id, kind, sender, receiver, value, deposit, gas_limit, gas_price, nonce, memo,
                     account_pk, amount, account_sig, owner_sig, signature, version, payload)
    return tx


def decode_transaction(data):
    """A whole transaction from bytes; trailing bytes are a DecodeError."""
    if len(data) > MAX_TX_SIZE:
        raise DecodeError("transaction of %d bytes exceeds %d" % (len(data), MAX_TX_SIZE))
    buf = Buffer(bytes(data))
    tx = pull_transaction(buf)
    buf.expect_eof()
    return tx


def signature_checks(tx):
    """The (scheme, key, message, signature) checks a transaction needs, for a batch verifier."""
    checks = [(tx.sender.scheme, tx.sender.key, tx.signed_bytes(), tx.signature)]
    if tx.kind == KIND_STAKE:
        msg = tx.stake_message()
        checks.append((SCHEME_BLS, tx.account_pk, msg, tx.account_sig))
        checks.append((tx.sender.scheme, tx.sender.key, msg, tx.owner_sig))
    return checks
