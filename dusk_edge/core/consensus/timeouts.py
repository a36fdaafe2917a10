# Theory of operation: the durations of Succinct Attestation (PROTOCOL.md §3.1, §3.5, §3.6).
#
# A Timing holds every consensus duration of a network profile in integer milliseconds: the `dusk`
# preset uses PROTOCOL.md's constants, `devnet` divides each by its time_scale (so whole-second
# rounding becomes rounding to 1000/time_scale ms). Each step's base timeout at round start is the
# average of the last 5 successful elapsed times of that step, rounded up to the next unit when the
# remainder holds at least one whole millisecond (CONFORMANCE.md), clamped to [min, max]; no data
# gives the max. A step that times out grows by `increase` (capped) for the rest of the round.
from dusk_edge.core.errors import LocalProtocolError

AVG_VALUES_NUM = 5
STEP_NAMES = ("proposal", "validation", "ratification")


class Timing:
    """Consensus durations of one network profile, all in ms."""

    __slots__ = ("time_scale", "min_step_timeout", "max_step_timeout", "timeout_increase",
                 "minimum_block_time", "rounding_unit", "emergency_block_time", "timestamp_margin")

    def __init__(self, time_scale=1):
        if time_scale < 1:
            raise LocalProtocolError("time_scale must be >= 1")
        self.time_scale = time_scale
        self.min_step_timeout = 7000 // time_scale
        self.max_step_timeout = 40000 // time_scale
        self.timeout_increase = 2000 // time_scale
        self.minimum_block_time = 10000 // time_scale
        self.rounding_unit = 1000 // time_scale
        # 40 s * 3 steps * (50 + 1) iterations after the previous block (MIN_EMERGENCY_BLOCK_TIME)
        self.emergency_block_time = 40 * 3 * 51 * 1000 // time_scale
        self.timestamp_margin = 3000 // time_scale

    def __repr__(self):
        return "Timing(time_scale=%d)" % self.time_scale


DUSK_TIMING = Timing(1)


def devnet_timing(time_scale=5):
    return Timing(time_scale)


# Timing field <- NetworkProfile field (already divided by time_scale, genesis overrides applied)
_PROFILE_FIELDS = (("min_step_timeout", "min_step_timeout_ms"), ("max_step_timeout", "max_step_timeout_ms"),
                   ("timeout_increase", "timeout_increase_ms"), ("minimum_block_time", "minimum_block_time_ms"),
                   ("rounding_unit", "timeout_rounding_ms"),
                   ("emergency_block_time", "min_emergency_block_time_ms"),
                   ("timestamp_margin", "timestamp_margin_ms"))


def timing_from_profile(profile):
    """The Timing of a NetworkProfile: its durations as the profile holds them (so a genesis that
    overrides one is obeyed); a bare object with only ``time_scale`` gets the scaled defaults."""
    timing = Timing(getattr(profile, "time_scale", 1) if profile is not None else 1)
    for field, profile_field in _PROFILE_FIELDS:
        value = getattr(profile, profile_field, None)
        if value is not None:
            setattr(timing, field, value)
    return timing


def compute_base_timeout(elapsed_ms, timing=DUSK_TIMING):
    """Base step timeout (ms) from successful step durations, oldest first."""
    values = list(elapsed_ms)[-AVG_VALUES_NUM:]
    if not values:
        return timing.max_step_timeout
    for v in values:
        if v < 0:
            raise LocalProtocolError("elapsed time must be >= 0")
    avg_ns = sum(values) * 1000000 // len(values)
    unit_ns = timing.rounding_unit * 1000000
    units = avg_ns // unit_ns
    if (avg_ns % unit_ns) // 1000000 > 0:
        units += 1
    timeout = units * timing.rounding_unit
    if timeout < timing.min_step_timeout:
        return timing.min_step_timeout
    if timeout > timing.max_step_timeout:
        return timing.max_step_timeout
    return timeout


def compute_increased_timeout(timeout, timing=DUSK_TIMING):
    """The step timeout after that step timed out once more."""
    grown = timeout + timing.timeout_increase
    return grown if grown < timing.max_step_timeout else timing.max_step_timeout


class StepTimeouts:
    """Per-step elapsed history (last 5 successes) and the current round's timeouts."""

    __slots__ = ("timing", "history", "current")

    def __init__(self, timing=DUSK_TIMING):
        self.timing = timing
        self.history = [[], [], []]
        self.current = [timing.max_step_timeout] * 3

    def on_round_start(self):
        """Reset the timeouts from the history (called when a new round begins)."""
        self.current = [compute_base_timeout(h, self.timing) for h in self.history]

    def on_step_success(self, step_index, elapsed_ms):
        hist = self.history[step_index]
        hist.append(elapsed_ms)
        if len(hist) > AVG_VALUES_NUM:
            del hist[0]

    def on_step_timeout(self, step_index):
        self.current[step_index] = compute_increased_timeout(self.current[step_index], self.timing)

    def get(self, step_index):
        return self.current[step_index]
