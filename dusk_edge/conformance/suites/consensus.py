"""Suites sortition_hash, sortition_score, committee, generator, step_timeout, rolling_finality
(CONFORMANCE.md), run through dusk_edge.core.consensus."""
from dusk_edge.conformance import hexbytes
from dusk_edge.core.consensus import finality, sortition, timeouts
from dusk_edge.core.errors import DecodeError, LocalProtocolError

MAX_CREDITS = 10000  # a vector asking for more is rejected rather than run for minutes
MAX_PROVISIONERS = 100000


def _int(value, field, low=0, high=None):
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError("%s: expected an integer" % field)
    if value < low or (high is not None and value > high):
        raise DecodeError("%s: %d outside %s..%s" % (field, value, low, high))
    return value


def _provisioners(items):
    if not isinstance(items, list) or len(items) > MAX_PROVISIONERS:
        raise DecodeError("provisioners: expected a list of at most %d" % MAX_PROVISIONERS)
    out = []
    seen = set()
    for item in items:
        if not isinstance(item, dict):
            raise DecodeError("provisioners: expected objects")
        pk = hexbytes(item.get("public_key"), 96, "public_key")
        if pk in seen:
            raise DecodeError("provisioners: duplicate public key %s" % pk.hex()[:16])
        seen.add(pk)
        out.append((pk, _int(item.get("stake"), "stake", 0, (1 << 64) - 1),
                    _int(item.get("eligible_since"), "eligible_since", 0, (1 << 64) - 1)))
    return out


def _require_eligible(provisioners, round):
    keys, _weights = sortition.get_eligible(provisioners, round)
    if not keys:
        raise DecodeError("no eligible provisioner at round %d" % round)


def sortition_hash(inp):
    seed = hexbytes(inp["seed"], 48, "seed")
    step = _int(inp["step"], "step", 0, 255)
    counter = _int(inp["counter"], "counter", 0, (1 << 32) - 1)
    return {"hash": sortition.compute_sortition_hash(seed, step, counter).hex()}


def sortition_score(inp):
    digest = hexbytes(inp["hash"], 32, "hash")
    total = _int(inp["total_weight"], "total_weight", 1)
    return {"score": sortition.compute_sortition_score(digest, total)}


def committee(inp):
    provisioners = _provisioners(inp["provisioners"])
    seed = hexbytes(inp["seed"], 48, "seed")
    round = _int(inp["round"], "round", 0, (1 << 64) - 1)
    step = _int(inp["step"], "step", 0, 255)
    credits = _int(inp["credits"], "credits", 0, MAX_CREDITS)
    if not isinstance(inp["exclusion"], list):
        raise DecodeError("exclusion: expected a list")
    exclusion = [hexbytes(pk, 96, "exclusion") for pk in inp["exclusion"]]
    _require_eligible(provisioners, round)
    result = sortition.create_committee(provisioners, seed, round, step, credits, exclusion)
    return {"members": [{"public_key": pk.hex(), "credits": c}
                        for pk, c in zip(result.members, result.credits)]}


def generator(inp):
    provisioners = _provisioners(inp["provisioners"])
    seed = hexbytes(inp["seed"], 48, "seed")
    round = _int(inp["round"], "round", 0, (1 << 64) - 1)
    iteration = _int(inp["iteration"], "iteration", 0, sortition.MAX_ITERATIONS - 1)
    _require_eligible(provisioners, round)
    return {"public_key": sortition.get_generator(provisioners, seed, round, iteration).hex()}


def step_timeout(inp):
    values = inp["elapsed_ms"]
    if not isinstance(values, list):
        raise DecodeError("elapsed_ms: expected a list")
    elapsed = [_int(v, "elapsed_ms", 0, (1 << 64) - 1) for v in values]
    return {"timeout_s": timeouts.compute_base_timeout(elapsed, timeouts.DUSK_TIMING) // 1000}


def rolling_finality(inp):
    blocks = inp["blocks"]
    if not isinstance(blocks, list):
        raise DecodeError("blocks: expected a list")
    tracker = finality.RollingFinality(0)
    finals = {}
    for height, block in enumerate(blocks, 1):
        if not isinstance(block, dict):
            raise DecodeError("blocks: expected objects")
        iteration = _int(block.get("iteration"), "iteration", 0, 255)
        attested = _int(block.get("failed_attested"), "failed_attested", 0)
        try:
            for h, label in tracker.on_block_accepted(height, iteration, attested):
                finals[h] = label
        except LocalProtocolError as exc:
            raise DecodeError(str(exc)) from None
    labels = []
    for height in range(1, len(blocks) + 1):
        label = tracker.get_label(height) or finals[height]
        labels.append({"label": label.name, "value": label.value})
    return {"labels": labels}


SUITES = {
    "sortition_hash": sortition_hash,
    "sortition_score": sortition_score,
    "committee": committee,
    "generator": generator,
    "step_timeout": step_timeout,
    "rolling_finality": rolling_finality,
}
