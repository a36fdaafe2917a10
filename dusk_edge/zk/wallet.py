"""A shielded wallet (keys + owned notes in a JSON file), the node it talks to (`NodeLedger`, over
the node's status socket) and a local ledger state file for running without a node.

Theory of operation. The wallet file holds the 32-byte seed (all keys derive from it, see notes.py)
and the notes found so far. `Wallet.scan` trial-decrypts every new output ciphertext of the chain
with the viewing key, keeps those that open to a commitment it owns, and marks notes spent when
their nullifier appears in the pool. Building a transaction picks at most two unspent notes
(largest first), adds change back to the wallet, and proves with the circom/snarkjs prover.

`LocalLedger` is a stand-in for the node: public account balances (name -> amount), the
ShieldedPool, the output log (commitment, ciphertext) that wallets scan, burned fees, and the
verifying key fixed when the file is created (its "genesis"). It applies a transaction with the
same pool rules the node uses (check_shielded_tx / apply_shielded_tx) and does the public side the
ledger would do: debit public_in from the account, credit public_out. It checks no signature on
the public debit (the ledger's signed transaction envelope does that on a real network).
"""
import json
import os

from dusk_edge.core.errors import ConfigError, DecodeError
from dusk_edge.zk import notes
from dusk_edge.zk.pool import ShieldedPool, apply_shielded_tx, check_shielded_tx
from dusk_edge.zk.prover import SpendableNote, plan_transaction
from dusk_edge.zk.tree import NoteTree
from dusk_edge.zk.verifier import TransferVerifier

FILE_VERSION = 1


def _write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def _read_json(path, what):
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ConfigError("%s file %s does not exist" % (what, path)) from None
    except ValueError as exc:
        raise ConfigError("%s file %s is not valid JSON: %s" % (what, path, exc)) from None
    if doc.get("version") != FILE_VERSION:
        raise ConfigError("%s file %s has version %r, this build reads %d"
                          % (what, path, doc.get("version"), FILE_VERSION))
    return doc


class LocalLedger:
    """Public balances + shielded pool + output log in one JSON file."""

    def __init__(self, vk_bytes, accounts=None):
        self.vk_bytes = bytes(vk_bytes)
        self.accounts = dict(accounts or {})
        self.pool = ShieldedPool()
        self.outputs = []  # (commitment, ciphertext) in tree order
        self.burned = 0
        self.nullifier_order = []  # the pool's chain needs them in application order
        self.verifier = TransferVerifier(self.vk_bytes)

    def public_balance(self, account):
        return self.accounts.get(account, 0)

    def submit(self, tx):
        """Check and apply one transaction (raises a ShieldedTxError or ConfigError)."""
        account = tx.account.decode("utf-8", "replace")
        if tx.public_in > self.public_balance(account):
            raise ConfigError("public account %r holds %d, cannot shield %d"
                              % (account, self.public_balance(account), tx.public_in))
        check_shielded_tx(self.pool, tx, self.verifier)
        apply_shielded_tx(self.pool, tx, None)
        self.accounts[account] = self.public_balance(account) - tx.public_in + tx.public_out
        self.outputs.extend(zip(tx.commitments, tx.ciphertexts))
        self.nullifier_order.extend(tx.nullifiers)
        self.burned += tx.fee

    def save(self, path):
        pool = self.pool
        _write_json(path, {
            "version": FILE_VERSION, "vk": self.vk_bytes.hex(), "accounts": self.accounts,
            "outputs": [[str(c), ct.hex()] for c, ct in self.outputs],
            "nullifiers_in_order": [str(n) for n in self.nullifier_order],
            "balance": pool.balance, "burned": self.burned,
        })

    @classmethod
    def load(cls, path):
        doc = _read_json(path, "ledger state")
        try:
            return cls._from_doc(doc)
        except (KeyError, TypeError, ValueError, DecodeError) as exc:
            raise ConfigError("ledger state file %s is damaged: %r" % (path, exc)) from None

    @classmethod
    def _from_doc(cls, doc):
        ledger = cls(bytes.fromhex(doc["vk"]), doc["accounts"])
        ledger.outputs = [(int(c), bytes.fromhex(ct)) for c, ct in doc["outputs"]]
        ledger.nullifier_order = [int(n) for n in doc["nullifiers_in_order"]]
        ledger.pool = ShieldedPool.rebuild([c for c, _ in ledger.outputs], ledger.nullifier_order,
                                           doc["balance"])
        ledger.burned = doc["burned"]
        return ledger



class NodeOutOfStep(ConfigError):
    """The outputs read from the node do not end on a root the node knows (it moved on: retry)."""


class NodeLedger:
    """A running node seen through its status socket (`query` is ops.status_client.query)."""

    BATCH = 256

    def __init__(self, socket_path, query=None, timeout=10.0):
        if query is None:
            from dusk_edge.ops.status_client import query
        self.socket_path = socket_path
        self.query = query
        self.timeout = timeout
        self.outputs = []  # (commitment, ciphertext), all notes in tree order
        self.final_total = 0
        self.spent = set()
        self.tree = NoteTree()
        self.pool_balance = 0

    def call(self, cmd, **args):
        return self.query(self.socket_path, cmd, timeout=self.timeout, **args)

    def sync(self, nullifiers=()):
        """Fetch every output, the final count and the spent subset of ``nullifiers`` (ints)."""
        wanted = [notes.field_to_bytes(n).hex() for n in nullifiers]
        info = self.call("shielded_sync", start=0, limit=self.BATCH, nullifiers=wanted[:self.BATCH])
        outputs = []
        spent = set(int(n, 16) for n in info["spent"])
        for i in range(self.BATCH, len(wanted), self.BATCH):
            more = self.call("shielded_sync", start=0, limit=0, nullifiers=wanted[i:i + self.BATCH])
            spent.update(int(n, 16) for n in more["spent"])
        while True:
            outputs.extend((int(cm, 16), bytes.fromhex(ct)) for cm, ct in info["outputs"])
            if len(outputs) >= info["total"] or not info["outputs"]:
                break
            info = self.call("shielded_sync", start=len(outputs), limit=self.BATCH)
        tree = NoteTree()
        tree.extend([cm for cm, _ in outputs])
        if notes.field_to_bytes(tree.root).hex() not in info["roots"]:
            raise NodeOutOfStep("the node's notes changed while syncing; try again")
        self.outputs, self.tree, self.spent = outputs, tree, spent
        self.final_total = min(info["final_total"], len(outputs))
        self.pool_balance = info["pool_balance"]
        return info

    def final_outputs(self):
        return self.outputs[:self.final_total]

    def account(self, key_text):
        return self.call("account", key=key_text)

    def submit(self, tx):
        """Submit a signed ledger Transaction; returns its id (hex)."""
        return self.call("submit_tx", tx=tx.encode().hex())


class Wallet:
    def __init__(self, seed, account, owned=None, scanned=0):
        self.key = notes.SpendingKey(seed)
        self.account = account
        self.owned = list(owned or [])  # dicts: position, value, blinding, nullifier, spent
        self.scanned = scanned

    @classmethod
    def create(cls, account, rng=os.urandom):
        return cls(rng(32), account)

    def save(self, path):
        _write_json(path, {"version": FILE_VERSION, "seed": self.key.seed.hex(), "account": self.account,
                           "notes": self.owned, "scanned": self.scanned})

    @classmethod
    def load(cls, path):
        doc = _read_json(path, "wallet")
        try:
            return cls(bytes.fromhex(doc["seed"]), doc["account"], doc["notes"], doc["scanned"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError("wallet file %s is damaged: %r" % (path, exc)) from None

    def scan(self, outputs, spent_nullifiers):
        """Pick up new notes from ``outputs`` [(commitment, ciphertext)], mark spent ones."""
        for position in range(self.scanned, len(outputs)):
            commitment, ciphertext = outputs[position]
            opened = self.key.decrypt_note(commitment, ciphertext)
            if opened is not None:
                value, blinding = opened
                nf = notes.nullifier(self.key.secret, position, commitment)
                self.owned.append({"position": position, "value": value, "blinding": str(blinding),
                                   "nullifier": str(nf), "spent": False})
        self.scanned = len(outputs)
        for note in self.owned:
            if int(note["nullifier"]) in spent_nullifiers:
                note["spent"] = True

    def shielded_balance(self):
        return sum(n["value"] for n in self.owned if not n["spent"])

    def _select(self, amount):
        unspent = sorted((n for n in self.owned if not n["spent"] and n["value"] > 0),
                         key=lambda n: -n["value"])[:2]
        if sum(n["value"] for n in unspent) < amount:
            raise ConfigError("need %d in at most two notes; the two largest hold %d (balance %d)"
                              % (amount, sum(n["value"] for n in unspent), self.shielded_balance()))
        chosen, total = [], 0
        for note in unspent:
            if total >= amount:
                break
            chosen.append(note)
            total += note["value"]
        return [SpendableNote(self.key.secret, n["value"], int(n["blinding"]), n["position"])
                for n in chosen], total

    def unspent_nullifiers(self):
        return [int(n["nullifier"]) for n in self.owned if not n["spent"]]

    def plan_shield(self, tree, amount, fee=0, account=None):
        """``account``: the bytes the proof binds (a ledger AccountKey encoding on a node; the
        wallet's account name in a local state file)."""
        account = self.account.encode() if account is None else account
        return plan_transaction(tree, [], [(self.key.address, amount), (self.key.address, 0)],
                                public_in=amount + fee, fee=fee, account=account)

    def plan_transfer(self, tree, address, amount, fee=0, account=None):
        spends, total = self._select(amount + fee)
        outputs = [(address, amount), (self.key.address, total - amount - fee)]
        account = self.account.encode() if account is None else account
        return plan_transaction(tree, spends, outputs, fee=fee, account=account)

    def plan_unshield(self, tree, amount, account, fee=0):
        """``account``: str (local state file account name) or bytes (AccountKey encoding)."""
        spends, total = self._select(amount + fee)
        outputs = [(self.key.address, total - amount - fee), (self.key.address, 0)]
        return plan_transaction(tree, spends, outputs, public_out=amount, fee=fee,
                                account=account.encode() if isinstance(account, str) else account)
