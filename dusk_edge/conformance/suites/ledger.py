"""Suites header_hash and emission (CONFORMANCE.md), on the ledger's own Header and emission()."""
from dusk_edge.conformance import hexbytes
from dusk_edge.core.consensus.attestation import (
    MAX_FAILED_ITERATIONS,
    RESULT_FAIL,
    RESULT_SUCCESS,
    VOTE_NAMES,
    Attestation,
    FailedIteration,
    StepVotes,
    Vote,
)
from dusk_edge.core.errors import DecodeError
from dusk_edge.core.ledger.header import Header
from dusk_edge.core.ledger.rewards import emission as emission_at

HEADER_BYTES = (("prev_block_hash", 32), ("seed", 48), ("state_hash", 32), ("event_bloom", 256),
                ("generator_bls_pubkey", 96), ("txroot", 32), ("faultroot", 32))
HEADER_INTS = (("version", 8), ("height", 64), ("timestamp", 64), ("gas_limit", 64), ("iteration", 8))
HEADER_KEYS = set(n for n, _ in HEADER_BYTES) | set(n for n, _ in HEADER_INTS) | {"prev_block_cert", "failed_iterations"}


def _int(value, bits, field):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < (1 << bits):
        raise DecodeError("%s: must be an integer in 0..2^%d-1" % (field, bits))
    return value


def _exact_keys(obj, keys, field):
    if not isinstance(obj, dict) or set(obj) != set(keys):
        raise DecodeError("%s: keys must be exactly %s" % (field, ", ".join(sorted(keys))))


def _step_votes(obj, field):
    _exact_keys(obj, ("bitset", "aggregate_signature"), field)
    return StepVotes(_int(obj["bitset"], 64, field + ".bitset"),
                     hexbytes(obj["aggregate_signature"], 48, field + ".aggregate_signature"))


def _attestation(obj, field):
    if not isinstance(obj, dict):
        raise DecodeError("%s: must be an object" % field)
    vote_name = obj.get("vote")
    if vote_name not in VOTE_NAMES:
        raise DecodeError("%s.vote: one of %s" % (field, ", ".join(VOTE_NAMES)))
    kind = VOTE_NAMES.index(vote_name)
    has_hash = vote_name in ("valid", "invalid")
    keys = ("result", "vote", "validation", "ratification") + (("hash",) if has_hash else ())
    _exact_keys(obj, keys, field)
    if obj["result"] not in ("success", "fail"):
        raise DecodeError("%s.result: success or fail" % field)
    vote = Vote(kind, hexbytes(obj["hash"], 32, field + ".hash") if has_hash else None)
    result = RESULT_SUCCESS if obj["result"] == "success" else RESULT_FAIL
    return Attestation(result, vote, _step_votes(obj["validation"], field + ".validation"),
                       _step_votes(obj["ratification"], field + ".ratification"))


def header_from_json(obj):
    """A Header from CONFORMANCE.md's header object; raises DecodeError on any deviation."""
    _exact_keys(obj, HEADER_KEYS, "header")
    values = {}
    for name, size in HEADER_BYTES:
        values[name] = hexbytes(obj[name], size, name)
    for name, bits in HEADER_INTS:
        values[name] = _int(obj[name], bits, name)
    failed = obj["failed_iterations"]
    if not isinstance(failed, list) or len(failed) > MAX_FAILED_ITERATIONS:
        raise DecodeError("failed_iterations: a list of at most %d entries" % MAX_FAILED_ITERATIONS)
    entries = []
    for i, item in enumerate(failed):
        field = "failed_iterations[%d]" % i
        if item is None:
            entries.append(None)
            continue
        _exact_keys(item, ("attestation", "generator"), field)
        entries.append(FailedIteration(_attestation(item["attestation"], field + ".attestation"),
                                       hexbytes(item["generator"], 96, field + ".generator")))
    return Header(values["version"], values["height"], values["timestamp"], values["prev_block_hash"],
                  values["seed"], values["state_hash"], values["event_bloom"], values["generator_bls_pubkey"],
                  values["txroot"], values["faultroot"], values["gas_limit"], values["iteration"],
                  _attestation(obj["prev_block_cert"], "prev_block_cert"), entries)


def header_hash(inp):
    _exact_keys(inp, ("header",), "input")
    return {"hash": header_from_json(inp["header"]).compute_hash().hex()}


def emission(inp):
    _exact_keys(inp, ("height",), "input")
    return {"emission": emission_at(_int(inp["height"], 64, "height"))}


SUITES = {"header_hash": header_hash, "emission": emission}
