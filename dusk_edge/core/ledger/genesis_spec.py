# Theory of operation: a genesis is a plain dict (parsed from TOML on CPython, from JSON or a
# literal elsewhere) checked field by field into a GenesisSpec; every rejection is a ConfigError
# that names the field and the values it allows (DESIGN.md §4). `build_genesis` turns a spec into
# the height-0 State and the genesis block header whose hash the first block must name.
from dusk_edge.core.errors import ConfigError, DuskEdgeError
from dusk_edge.core.ledger.header import Header
from dusk_edge.core.ledger.profile import NetworkProfile
from dusk_edge.core.ledger.transactions import KEY_SIZES, SCHEME_NAMES, AccountKey

REQUIRED = ("chain_id", "network_id", "protocol_version", "fec", "time_scale", "epoch_blocks", "minimum_stake",
            "genesis_seed", "genesis_timestamp", "emergency_key", "dusk_fund", "provisioners", "balances")
OPTIONAL = ("name", "zk_verifying_keys", "overrides", "source", "comment")
U64_MAX = (1 << 64) - 1
ZK_KEY_NAMES = ("transfer",)  # shielded transfers (docs/shielded.md); the key enables the kind
MAX_ZK_KEY_SIZE = 16384
# every amount is a u64; the whole schedule emits ~5e17 LUX, so 2^63 at genesis keeps all sums in range
MAX_GENESIS_SUPPLY = 1 << 63


def parse_account_key(text, field):
    """'bls:<hex96>', 'ed25519:<hex32>' or 'p256:<hex33>' -> AccountKey."""
    if not isinstance(text, str) or ":" not in text:
        raise ConfigError("%s: must be 'SCHEME:HEX' with SCHEME one of %s, got %r"
                          % (field, ", ".join(SCHEME_NAMES), text))
    scheme_name, hex_key = text.split(":", 1)
    if scheme_name not in SCHEME_NAMES:
        raise ConfigError("%s: key scheme must be one of %s, got %r" % (field, ", ".join(SCHEME_NAMES), scheme_name))
    scheme = SCHEME_NAMES.index(scheme_name)
    key = _hex(hex_key, KEY_SIZES[scheme], field)
    return AccountKey(scheme, key)


def format_account_key(key):
    return "%s:%s" % (SCHEME_NAMES[key.scheme], key.key.hex())


def _hex(value, size, field):
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise ConfigError("%s: must be %d bytes of hex, got %r" % (field, size, value)) from None
    if len(raw) != size:
        raise ConfigError("%s: must be %d bytes of hex, got %d bytes" % (field, size, len(raw)))
    return raw


def _int(value, field, low=0, high=U64_MAX):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError("%s: must be an integer in %d..%d, got %r" % (field, low, high, value))
    return value


class GenesisSpec:
    __slots__ = ("name", "profile", "genesis_seed", "genesis_timestamp", "emergency_key", "dusk_fund",
                 "provisioners", "balances", "zk_verifying_keys")

    def __init__(self, name, profile, genesis_seed, genesis_timestamp, emergency_key, dusk_fund, provisioners,
                 balances, zk_verifying_keys=None):
        self.name = name
        self.profile = profile
        self.genesis_seed = genesis_seed
        self.genesis_timestamp = genesis_timestamp
        self.emergency_key = emergency_key
        self.dusk_fund = dusk_fund
        self.provisioners = provisioners  # [(account_pk96, owner AccountKey, stake, eligible_since)]
        self.balances = balances  # [(AccountKey, amount)]
        self.zk_verifying_keys = zk_verifying_keys or {}  # name -> verifying key bytes

    @classmethod
    def from_dict(cls, doc):
        """Check every field; raises ConfigError naming the first bad one."""
        if not isinstance(doc, dict):
            raise ConfigError("genesis: must be a table of fields")
        for key in doc:
            if key not in REQUIRED and key not in OPTIONAL:
                raise ConfigError("%s: unknown genesis field (allowed: %s)" % (key, ", ".join(REQUIRED + OPTIONAL)))
        for key in REQUIRED:
            if key not in doc:
                raise ConfigError("%s: missing from genesis" % key)
        name = doc.get("name", "custom")
        try:
            profile = NetworkProfile(name, doc["chain_id"], doc["network_id"], doc["protocol_version"], doc["fec"],
                                     doc["time_scale"], doc["epoch_blocks"], doc["minimum_stake"],
                                     doc.get("overrides"))
        except ConfigError:
            raise
        except DuskEdgeError as exc:
            raise ConfigError("genesis: %s" % exc) from None
        spec = cls(name, profile, _hex(doc["genesis_seed"], 48, "genesis_seed"),
                   _int(doc["genesis_timestamp"], "genesis_timestamp"),
                   _hex(doc["emergency_key"], 96, "emergency_key"),
                   parse_account_key(doc["dusk_fund"], "dusk_fund"),
                   _parse_provisioners(doc["provisioners"], profile), _parse_balances(doc["balances"]),
                   _parse_zk_keys(doc.get("zk_verifying_keys", {})))
        supply = sum(a for _, a in spec.balances) + sum(p[2] for p in spec.provisioners)
        if supply > MAX_GENESIS_SUPPLY:
            raise ConfigError("balances: genesis supply %d exceeds %d (room for emission in u64)"
                              % (supply, MAX_GENESIS_SUPPLY))
        return spec

    def to_dict(self):
        p = self.profile
        doc = {
            "name": self.name, "chain_id": p.chain_id, "network_id": p.network_id,
            "protocol_version": p.protocol_version, "fec": p.fec, "time_scale": p.time_scale,
            "epoch_blocks": p.epoch_blocks, "minimum_stake": p.minimum_stake,
            "genesis_seed": self.genesis_seed.hex(), "genesis_timestamp": self.genesis_timestamp,
            "emergency_key": self.emergency_key.hex(), "dusk_fund": format_account_key(self.dusk_fund),
            "provisioners": [{"account": pk.hex(), "owner": format_account_key(owner), "stake": stake,
                              "eligible_since": since} for pk, owner, stake, since in self.provisioners],
            "balances": [{"account": format_account_key(k), "amount": a} for k, a in self.balances],
        }
        if self.zk_verifying_keys:
            doc["zk_verifying_keys"] = dict((n, k.hex()) for n, k in sorted(self.zk_verifying_keys.items()))
        return doc


def _parse_zk_keys(table):
    """{name: hex} -> {name: bytes}; the curve checks are the CPython loader's (genesis.py)."""
    if not isinstance(table, dict):
        raise ConfigError("zk_verifying_keys: must be a table of name = \"<hex>\" (names: %s)"
                          % ", ".join(ZK_KEY_NAMES))
    out = {}
    for name, value in table.items():
        field = "zk_verifying_keys.%s" % name
        if name not in ZK_KEY_NAMES:
            raise ConfigError("%s: unknown key name (allowed: %s)" % (field, ", ".join(ZK_KEY_NAMES)))
        try:
            raw = bytes.fromhex(value)
        except (TypeError, ValueError):
            raise ConfigError("%s: must be hex, got %r" % (field, str(value)[:40])) from None
        if not 0 < len(raw) <= MAX_ZK_KEY_SIZE:
            raise ConfigError("%s: must be 1..%d bytes, got %d" % (field, MAX_ZK_KEY_SIZE, len(raw)))
        out[name] = raw
    return out


def _parse_provisioners(items, profile):
    if not isinstance(items, list):
        raise ConfigError("provisioners: must be a list of {account, owner, stake, eligible_since}")
    out = []
    seen = set()
    for i, item in enumerate(items):
        field = "provisioners[%d]" % i
        if not isinstance(item, dict) or set(item) != {"account", "owner", "stake", "eligible_since"}:
            raise ConfigError("%s: must have exactly account, owner, stake, eligible_since" % field)
        pk = _hex(item["account"], 96, field + ".account")
        if pk in seen:
            raise ConfigError("%s.account: duplicate provisioner" % field)
        seen.add(pk)
        stake = _int(item["stake"], field + ".stake", profile.minimum_stake)
        out.append((pk, parse_account_key(item["owner"], field + ".owner"), stake,
                    _int(item["eligible_since"], field + ".eligible_since")))
    return out


def _parse_balances(items):
    if not isinstance(items, list):
        raise ConfigError("balances: must be a list of {account, amount}")
    out = []
    for i, item in enumerate(items):
        field = "balances[%d]" % i
        if not isinstance(item, dict) or set(item) != {"account", "amount"}:
            raise ConfigError("%s: must have exactly account, amount" % field)
        out.append((parse_account_key(item["account"], field + ".account"), _int(item["amount"], field + ".amount")))
    return out


def build_genesis(spec):
    """(State at height 0, genesis Header). The header commits to the genesis state_hash."""
    from dusk_edge.core.ledger.state import new_state_from_genesis

    state = new_state_from_genesis(spec, spec.profile)
    header = Header(height=0, timestamp=spec.genesis_timestamp, seed=spec.genesis_seed,
                    state_hash=state.state_hash(), generator_bls_pubkey=spec.emergency_key)
    header.seal()
    state.tip_hash = header.hash
    return state, header
