# Theory of operation: every consensus duration and constant in one object, so no rule hard-codes
# a number twice (DESIGN.md §4). `NetworkProfile.dusk()` holds PROTOCOL.md's constants exactly;
# a profile with time_scale s divides every consensus duration by s (devnet: s = 5, so a 10 s
# minimum block time becomes 2 s and timeouts round up to 0.2 s instead of whole seconds).
# Durations are integer milliseconds; amounts are LUX (1 DUSK = 10^9 LUX).
from dusk_edge.core.errors import ConfigError

DUSK = 1000000000
DUSK_NETWORK_ID = 0x45
MIN_CHAIN_ID = 0x40
FEC_SCHEMES = ("raptorq", "rs")

# name -> value of the dusk preset (PROTOCOL.md §3.1, §6, §7, §9)
_DUSK_CONSTANTS = (
    ("max_iterations", 50),
    ("proposal_credits", 1),
    ("validation_credits", 64),
    ("ratification_credits", 64),
    ("relax_iteration_threshold", 8),
    ("max_failed_iterations", 8),
    ("emergency_iteration_threshold", 16),
    ("emergency_block_iteration", 255),
    ("max_round_distance", 10),
    ("block_header_version", 1),
    ("avg_values_num", 5),
    ("max_block_size", 1048576),
    ("max_transactions", 1000),
    ("max_faults", 100),
    ("block_gas_limit", 3000000000),
    ("min_gas_limit", 150000),
    ("min_gas_price", 1),
    ("stake_warnings", 1),
    ("mempool_max_txs", 10000),
    ("mempool_expiry_ms", 3 * 24 * 3600 * 1000),
)
# durations divided by time_scale (milliseconds at scale 1)
_DUSK_DURATIONS_MS = (
    ("minimum_block_time_ms", 10000),
    ("min_step_timeout_ms", 7000),
    ("max_step_timeout_ms", 40000),
    ("timeout_increase_ms", 2000),
    ("timeout_rounding_ms", 1000),
    ("timestamp_margin_ms", 3000),
    ("min_emergency_block_time_ms", 40 * 3 * (50 + 1) * 1000),
)

OVERRIDABLE = tuple(n for n, _ in _DUSK_CONSTANTS) + tuple(n for n, _ in _DUSK_DURATIONS_MS)


class NetworkProfile:
    """Constants of one network. Read attributes; build with dusk(), devnet() or from_genesis()."""

    __slots__ = ("name", "chain_id", "network_id", "protocol_version", "fec", "time_scale", "epoch_blocks",
                 "minimum_stake") + tuple(n for n, _ in _DUSK_CONSTANTS) + tuple(n for n, _ in _DUSK_DURATIONS_MS)

    def __init__(self, name="dusk", chain_id=0x40, network_id=DUSK_NETWORK_ID, protocol_version="0.1.0",
                 fec="raptorq", time_scale=1, epoch_blocks=2160, minimum_stake=1000 * DUSK, overrides=None):
        self.name = name
        self.chain_id = chain_id
        self.network_id = network_id
        self.protocol_version = protocol_version
        self.fec = fec
        self.time_scale = time_scale
        self.epoch_blocks = epoch_blocks
        self.minimum_stake = minimum_stake
        check_profile(self)
        for key, value in _DUSK_CONSTANTS:
            setattr(self, key, value)
        for key, value in _DUSK_DURATIONS_MS:
            setattr(self, key, value // time_scale)
        if overrides is not None and not isinstance(overrides, dict):
            raise ConfigError("overrides: must be a table of constant = integer")
        for key, value in (overrides or {}).items():
            if key not in OVERRIDABLE:
                raise ConfigError("overrides.%s: unknown constant (allowed: %s)" % (key, ", ".join(OVERRIDABLE)))
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError("overrides.%s: must be a non-negative integer, got %r" % (key, value))
            setattr(self, key, value)

    def __repr__(self):
        return "NetworkProfile(%s, chain_id=%#x, time_scale=%d)" % (self.name, self.chain_id, self.time_scale)

    @classmethod
    def dusk(cls, chain_id=0x40):
        return cls("dusk", chain_id=chain_id)

    @classmethod
    def devnet(cls, chain_id=0x41):
        return cls("devnet", chain_id=chain_id, fec="rs", time_scale=5, epoch_blocks=20)

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    # rules that only need constants ----------------------------------------------------
    def next_epoch(self, height):
        """First height of the next epoch: h + (E - h % E) (PROTOCOL.md §6)."""
        return height + (self.epoch_blocks - height % self.epoch_blocks)

    def stake_eligibility(self, height):
        """A new stake at `height` is eligible from next_epoch(h) + one epoch."""
        return self.next_epoch(height) + self.epoch_blocks

    def total_credits(self):
        return self.validation_credits + self.ratification_credits

    def round_timeout_up(self, ms):
        """Round a duration up to the profile's timeout granularity (1 s dusk, 0.2 s devnet)."""
        unit = self.timeout_rounding_ms
        return -(-ms // unit) * unit

    def clamp_step_timeout(self, ms):
        return max(self.min_step_timeout_ms, min(self.max_step_timeout_ms, ms))


def check_profile(p):
    """Raise ConfigError naming the bad field and its allowed values."""
    _check_int("chain_id", p.chain_id, MIN_CHAIN_ID, 255, "dusk-edge chain ids are 0x40..0xff (Dusk uses 1..3)")
    if p.network_id != DUSK_NETWORK_ID:
        raise ConfigError("network_id: must be 0x45 (dusk-edge networks never share Dusk's), got %r"
                          % (p.network_id,))
    if p.fec not in FEC_SCHEMES:
        raise ConfigError("fec: must be one of %s, got %r" % (", ".join(FEC_SCHEMES), p.fec))
    _check_int("time_scale", p.time_scale, 1, 1000, "a positive divisor of consensus durations")
    _check_int("epoch_blocks", p.epoch_blocks, 1, 1 << 32, "blocks per epoch")
    _check_int("minimum_stake", p.minimum_stake, 1, 1 << 64, "LUX")
    if not isinstance(p.protocol_version, str) or len(p.protocol_version.split(".")) != 3:
        raise ConfigError("protocol_version: must be 'MAJOR.MINOR.PATCH', got %r" % (p.protocol_version,))


def _check_int(field, value, low, high, allowed):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError("%s: must be an integer in %d..%d (%s), got %r" % (field, low, high, allowed, value))
