# Theory of operation: a provisioner's stake and the rules that change it (PROTOCOL.md §6).
#
# Stake = value (consensus weight) | locked (not weight, not withdrawable until unstake) |
#         eligibility (first round it may be drawn) | reward (unclaimed) | faults | hard_faults |
#         owner (the tagged account key that controls it).
# Functions here are pure: they take a Stake and return a new one (the state journals the swap),
# or raise StakeRuleViolation naming the broken rule.
from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.wire import Buffer


class StakeRuleViolation(RemoteProtocolError):
    """A stake, unstake or withdraw breaks a §6 rule."""


class Stake:
    __slots__ = ("value", "locked", "eligibility", "reward", "faults", "hard_faults", "owner")

    def __init__(self, owner, value=0, locked=0, eligibility=0, reward=0, faults=0, hard_faults=0):
        self.owner = owner
        self.value = value
        self.locked = locked
        self.eligibility = eligibility
        self.reward = reward
        self.faults = faults
        self.hard_faults = hard_faults

    def copy(self, **changes):
        s = Stake(self.owner, self.value, self.locked, self.eligibility, self.reward, self.faults, self.hard_faults)
        for key, value in changes.items():
            setattr(s, key, value)
        return s

    def __eq__(self, other):
        return isinstance(other, Stake) and self.leaf(b"") == other.leaf(b"")

    def __repr__(self):
        return "Stake(value=%d, locked=%d, eligibility=%d, reward=%d, faults=%d)" % (
            self.value, self.locked, self.eligibility, self.reward, self.faults)

    def total(self):
        return self.value + self.locked + self.reward

    def leaf(self, account_pk):
        buf = Buffer()
        buf.push_u8(1)
        buf.push_bytes(account_pk)
        buf.push_bytes(self.owner.encode())
        for v in (self.value, self.locked, self.eligibility, self.reward):
            buf.push_u64(v)
        buf.push_u8(min(self.faults, 255))
        buf.push_u8(min(self.hard_faults, 255))
        return sha3_256(buf.data)


def apply_stake(stake, owner, amount, height, profile):
    """Stake `amount` LUX for `owner`. A new (or emptied) stake needs the minimum and becomes
    eligible at next_epoch + one epoch; a top-up of an eligible stake locks 10 % of it."""
    if amount <= 0:
        raise StakeRuleViolation("stake: amount must be positive")
    if stake is not None and stake.owner != owner:
        raise StakeRuleViolation("stake: the account is staked by another owner")
    if stake is None or stake.value == 0:
        if amount < profile.minimum_stake:
            raise StakeRuleViolation("stake: %d LUX is below the minimum stake %d" % (amount, profile.minimum_stake))
        base = stake if stake is not None else Stake(owner)
        return base.copy(value=amount, eligibility=profile.stake_eligibility(height))
    if stake.eligibility <= height:
        lock = amount // 10
        return stake.copy(value=stake.value + amount - lock, locked=stake.locked + lock)
    return stake.copy(value=stake.value + amount)


def apply_unstake(stake, owner, amount, profile):
    """Returns (new stake, LUX paid back). A full unstake also releases `locked`; a partial one
    must leave at least the minimum stake."""
    _check_owner(stake, owner, "unstake")
    if amount <= 0 or amount > stake.value:
        raise StakeRuleViolation("unstake: amount %d not in 1..%d" % (amount, stake.value))
    left = stake.value - amount
    if left == 0:
        return stake.copy(value=0, locked=0, eligibility=0), amount + stake.locked
    if left < profile.minimum_stake:
        raise StakeRuleViolation("unstake: would leave %d LUX, below the minimum stake" % left)
    return stake.copy(value=left), amount


def apply_withdraw(stake, owner, amount):
    """Returns (new stake, LUX paid out of the unclaimed reward)."""
    _check_owner(stake, owner, "withdraw")
    if amount <= 0 or amount > stake.reward:
        raise StakeRuleViolation("withdraw: amount %d not in 1..%d" % (amount, stake.reward))
    return stake.copy(reward=stake.reward - amount), amount


def _check_owner(stake, owner, what):
    if stake is None:
        raise StakeRuleViolation("%s: no such stake" % what)
    if stake.owner != owner:
        raise StakeRuleViolation("%s: sender is not the stake owner" % what)


def apply_reward(stake, amount):
    """Credit a reward; any reward clears faults and hard_faults (§6)."""
    return stake.copy(reward=stake.reward + amount, faults=0, hard_faults=0)


def apply_soft_slash(stake, height, profile):
    """faults += 1; beyond the warnings, suspend to next_epoch + eff epochs and lock
    value // 100 * eff * 10 (capped at the value). Returns (new stake, LUX moved to locked)."""
    faults = stake.faults + 1
    effective = faults - profile.stake_warnings
    if effective <= 0:
        return stake.copy(faults=faults), 0
    to_lock = min(stake.value, stake.value // 100 * effective * 10)
    eligibility = profile.next_epoch(height) + effective * profile.epoch_blocks
    return stake.copy(faults=faults, eligibility=eligibility, value=stake.value - to_lock,
                      locked=stake.locked + to_lock), to_lock


def apply_hard_slash(stake, height, severity, profile):
    """hard_faults += severity; suspend and burn value // 100 * hard_faults * 10.
    Returns (new stake, LUX burned). Kept for completeness: rusk runs soft slashes only."""
    hard = stake.hard_faults + severity
    to_burn = min(stake.value, stake.value // 100 * hard * 10)
    eligibility = profile.next_epoch(height) + hard * profile.epoch_blocks
    return stake.copy(hard_faults=hard, eligibility=eligibility, value=stake.value - to_burn), to_burn
