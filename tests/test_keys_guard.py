"""Double-sign guard: sans-I/O history, record codec fuzzing, the fsynced file (conflicts across
reopen, torn tail, corruption, pruning, lock), the JSON interchange, and duplicate detection."""
import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from dusk_edge.core.errors import DecodeError, RemoteProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.crypto import bls
from dusk_edge.keys.audit import AuditLog, read_audit
from dusk_edge.keys.duplicate import DuplicateInstanceGuard
from dusk_edge.keys.errors import (BadSignRequestError, DoubleSignError, DuplicateInstanceError,
                                   GuardCorruptError, GuardError, SigningNotReadyError)
from dusk_edge.keys.guard import DoubleSignGuard, load_interchange_file, parse_interchange
from dusk_edge.keys.keystore import ConsensusKey
from dusk_edge.keys.sign_history import (FILE_MAGIC, KIND_BLOCKED, KIND_SIGNED, RECORD_SIZE,
                                         STEP_RATIFICATION, STEP_VALIDATION, SignHistory,
                                         decode_record, encode_record)
from dusk_edge.keys.signer import LocalSigner
from tests.keys_fixtures import vote_message

KEY = ConsensusKey(bls.secret_key_from_int(424242))
OTHER = ConsensusKey(bls.secret_key_from_int(99))
H1, H2 = b"\x01" * 32, b"\x02" * 32
SIG = b"\x05" * 48


# sans-I/O history and records ---------------------------------------------------------------

@pytest.mark.twin
def test_record_round_trip():
    record = (KIND_SIGNED, 2 ** 63 + 5, 49, STEP_RATIFICATION, H1, SIG)
    raw = encode_record(*record)
    assert len(raw) == RECORD_SIZE
    assert decode_record(raw) == record


@pytest.mark.twin
def test_record_truncation_junk_and_flips_raise_decode_error():
    raw = encode_record(KIND_SIGNED, 7, 1, 1, H1, SIG)
    for n in range(len(raw)):
        with pytest.raises(DecodeError):
            decode_record(raw[:n])
    with pytest.raises(DecodeError):
        decode_record(raw + b"\x00")
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        with pytest.raises(DecodeError):
            decode_record(bytes(flipped))


@pytest.mark.twin
@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=120))
def test_random_records_parse_or_raise_remote_protocol_error(raw):
    try:
        decode_record(raw)
    except RemoteProtocolError:
        pass


@pytest.mark.twin
def test_history_rules():
    h = SignHistory()
    assert h.check(10, 0, STEP_VALIDATION, H1) is None
    h.apply((KIND_SIGNED, 10, 0, STEP_VALIDATION, H1, SIG))
    assert h.check(10, 0, STEP_VALIDATION, H1) == SIG            # identical: same signature
    with pytest.raises(DoubleSignError):
        h.check(10, 0, STEP_VALIDATION, H2)                        # conflict
    assert h.check(10, 1, STEP_VALIDATION, H2) is None             # other iteration is free
    assert h.check(10, 0, STEP_RATIFICATION, H2) is None           # other step is free
    h.apply((3, 11, 0, 0, b"\x00" * 32, b"\x00" * 48))             # floor 11
    assert h.entries == {}
    with pytest.raises(DoubleSignError, match="floor"):
        h.check(10, 5, STEP_VALIDATION, H1)


@pytest.mark.twin
def test_merge_blocks_disagreeing_slots():
    h = SignHistory()
    h.apply((KIND_SIGNED, 5, 0, 1, H1, SIG))
    assert h.merge_record((KIND_SIGNED, 5, 0, 1, H1, SIG)) is None
    assert h.merge_record((KIND_SIGNED, 6, 0, 1, H2, SIG))[0] == KIND_SIGNED
    blocked = h.merge_record((KIND_SIGNED, 5, 0, 1, H2, SIG))
    assert blocked[0] == KIND_BLOCKED
    h.apply(blocked)
    for data_hash in (H1, H2):
        with pytest.raises(DoubleSignError, match="blocked"):
            h.check(5, 0, 1, data_hash)


# duplicate instances (virtual clock) ---------------------------------------------------------

@pytest.mark.twin
def test_duplicate_guard_waits_then_allows():
    g = DuplicateInstanceGuard(KEY.public_key, now=1000, window_ms=5000)
    with pytest.raises(SigningNotReadyError):
        g.check_signing_allowed(5999)
    assert g.observe_vote(3000, OTHER.public_key, 1, 0, 1, H1) is False   # someone else's vote
    g.check_signing_allowed(6000)
    assert g.status(6000) == "ready"


@pytest.mark.twin
def test_duplicate_guard_refuses_after_seeing_our_key():
    ours = {(4, 0, 1, H1)}
    g = DuplicateInstanceGuard(KEY.public_key, now=0, window_ms=1000,
                               signed_by_us=lambda *slot: slot in ours)
    assert g.observe_vote(10, KEY.public_key, 4, 0, 1, H1) is False       # our own vote echoed
    assert g.observe_vote(20, KEY.public_key, 4, 0, 1, H2) is True        # not ours: a duplicate
    for now in (500, 5000, 10 ** 9):
        with pytest.raises(DuplicateInstanceError):
            g.check_signing_allowed(now)
    assert g.status(5000) == "duplicate-detected"


@pytest.mark.twin
def test_duplicate_seen_after_window_still_disables_signing():
    g = DuplicateInstanceGuard(KEY.public_key, now=0, window_ms=100)
    g.check_signing_allowed(200)
    g.observe_vote(300, KEY.public_key, 9, 0, 2, H1)
    with pytest.raises(DuplicateInstanceError):
        g.check_signing_allowed(301)


# the file-backed guard -------------------------------------------------------------------------

def _signer(tmp_path, key=KEY, **kwargs):
    guard = DoubleSignGuard(str(tmp_path / "guard.bin"), key.public_key)
    return LocalSigner(key, guard, AuditLog(str(tmp_path / "audit.log")), **kwargs)


def test_signatures_verify_and_conflicts_survive_reopen(tmp_path):
    s = _signer(tmp_path)
    msg = vote_message(100, 2, STEP_VALIDATION)
    sig = s.sign_vote(100, 2, STEP_VALIDATION, msg)
    assert bls.verify_multisig([KEY.public_key], msg, sig)
    cand = s.sign_candidate(100, 2, b"\x33" * 32)
    assert bls.verify_multisig([KEY.public_key], b"\x33" * 32, cand)
    seed = s.sign_seed(100, b"\x44" * 48)
    assert bls.verify_multisig([KEY.public_key], b"\x44" * 48, seed)
    s.close()

    s = _signer(tmp_path)
    assert s.sign_vote(100, 2, STEP_VALIDATION, msg) == sig
    with pytest.raises(DoubleSignError):
        s.sign_vote(100, 2, STEP_VALIDATION, vote_message(100, 2, STEP_VALIDATION, vote=b"\x00"))
    with pytest.raises(DoubleSignError):
        s.sign_candidate(100, 2, b"\x34" * 32)
    with pytest.raises(DoubleSignError):
        s.sign_seed(100, b"\x45" * 48)
    audit = read_audit(str(tmp_path / "audit.log"))
    assert [(a["kind"], a["repeat"]) for a in audit] == [
        ("vote", False), ("candidate", False), ("seed", False), ("vote", True)]
    assert all(a["signature"] in (sig.hex(), cand.hex(), seed.hex()) for a in audit)
    s.close()


def test_mislabeled_vote_requests_are_refused(tmp_path):
    s = _signer(tmp_path)
    msg = vote_message(7, 1, STEP_VALIDATION)
    for args in ((8, 1, STEP_VALIDATION, msg), (7, 2, STEP_VALIDATION, msg),
                 (7, 1, STEP_RATIFICATION, msg), (7, 1, 0, msg), (7, 1, STEP_VALIDATION, msg[:42]),
                 (7, 1, STEP_VALIDATION, msg + b"\x00" * 300), (-1, 1, 1, msg), ("7", 1, 1, msg)):
        with pytest.raises(BadSignRequestError):
            s.sign_vote(*args)
    with pytest.raises(BadSignRequestError):
        s.sign_candidate(7, 1, b"\x00" * 31)
    with pytest.raises(BadSignRequestError):
        s.sign_seed(7, b"\x00" * 47)
    s.close()


def test_second_instance_on_same_guard_is_refused(tmp_path):
    s = _signer(tmp_path)
    with pytest.raises(DuplicateInstanceError):
        DoubleSignGuard(str(tmp_path / "guard.bin"), KEY.public_key)
    s.close()
    DoubleSignGuard(str(tmp_path / "guard.bin"), KEY.public_key).close()   # free after close


def test_second_instance_with_same_key_refuses_to_sign(tmp_path):
    """Two copies of one key with separate guards: the second hears the first's vote and stops."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _signer(tmp_path / "a")
    clock = [0]
    second_guard = DoubleSignGuard(str(tmp_path / "b" / "guard.bin"), KEY.public_key)
    second = LocalSigner(KEY, second_guard, clock_ms=lambda: clock[0])
    second.duplicate = DuplicateInstanceGuard(KEY.public_key, now=0, window_ms=10000,
                                              signed_by_us=second.signed_by_us)
    msg = vote_message(50, 0, STEP_VALIDATION)
    sig = first.sign_vote(50, 0, STEP_VALIDATION, msg)
    assert bls.verify_multisig([KEY.public_key], msg, sig)     # the node checks before observing
    clock[0] = 4000
    assert second.duplicate.observe_vote(clock[0], KEY.public_key, 50, 0, STEP_VALIDATION, sha3_256(msg))
    clock[0] = 20000
    with pytest.raises(DuplicateInstanceError):
        second.sign_vote(51, 0, STEP_VALIDATION, vote_message(51, 0, STEP_VALIDATION))
    assert second_guard.status()["entries"] == 0
    first.close()
    second.close()


def test_guard_file_of_another_key_is_refused(tmp_path):
    DoubleSignGuard(str(tmp_path / "guard.bin"), KEY.public_key).close()
    with pytest.raises(GuardError, match="another public key"):
        DoubleSignGuard(str(tmp_path / "guard.bin"), OTHER.public_key)
    with pytest.raises(BadSignRequestError):
        LocalSigner(OTHER, DoubleSignGuard(str(tmp_path / "g2.bin"), KEY.public_key))


def test_torn_tail_is_truncated_and_mid_file_corruption_refused(tmp_path):
    path = str(tmp_path / "guard.bin")
    s = _signer(tmp_path)
    for r in range(1, 4):
        s.sign_vote(r, 0, 1, vote_message(r, 0, 1))
    s.close()
    full = open(path, "rb").read()
    with open(path, "ab") as f:
        f.write(encode_record(KIND_SIGNED, 9, 0, 1, H1, SIG)[:40])   # power cut mid-append
    g = DoubleSignGuard(path, KEY.public_key)
    assert g.truncated_tail == 40 and g.status()["entries"] == 3
    g.close()
    assert open(path, "rb").read() == full
    corrupt = bytearray(full)
    corrupt[len(FILE_MAGIC) + RECORD_SIZE + 20] ^= 0xFF
    with open(path, "wb") as f:
        f.write(corrupt)
    with pytest.raises(GuardCorruptError):
        DoubleSignGuard(path, KEY.public_key)
    with open(path, "wb") as f:
        f.write(b"not a guard file at all" * 5)
    with pytest.raises(GuardCorruptError):
        DoubleSignGuard(path, KEY.public_key)


def test_pruning_bounds_growth_and_refuses_old_rounds(tmp_path):
    path = str(tmp_path / "guard.bin")
    s = _signer(tmp_path)
    for r in range(1, 21):
        s.sign_vote(r, 0, 1, vote_message(r, 0, 1))
    size_before = os.path.getsize(path)
    assert s.prune_below(15) == 14
    assert os.path.getsize(path) < size_before
    with pytest.raises(DoubleSignError, match="floor"):
        s.sign_vote(14, 0, 1, vote_message(14, 0, 1))
    with pytest.raises(DoubleSignError):
        s.sign_vote(15, 0, 1, vote_message(15, 0, 1, vote=b"\x00"))
    s.sign_vote(21, 0, 1, vote_message(21, 0, 1))     # still appending after the rewrite
    with pytest.raises(DuplicateInstanceError):        # and still holding the lock
        DoubleSignGuard(path, KEY.public_key)
    s.close()
    g = DoubleSignGuard(path, KEY.public_key)
    assert g.status() == {"entries": 7, "floor": 15, "last_round": 21, "truncated_tail_bytes": 0}
    g.close()


def test_interchange_round_trip_and_conflict_blocking(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _signer(tmp_path / "a")
    for r in (5, 6, 7):
        a.sign_vote(r, 0, 1, vote_message(r, 0, 1))
    a.prune_below(6)
    exported = a.guard.export_interchange()
    assert exported["floor"] == 6 and [e["round"] for e in exported["entries"]] == [6, 7]
    out = tmp_path / "guard.json"
    out.write_text(json.dumps(exported))

    b = _signer(tmp_path / "b")
    b.sign_vote(7, 0, 1, vote_message(7, 0, 1, vote=b"\x00"))      # b disagrees at round 7
    b.sign_vote(9, 0, 1, vote_message(9, 0, 1))
    assert b.guard.import_interchange(load_interchange_file(str(out))) == 3   # floor, 6, block 7
    assert b.sign_vote(6, 0, 1, vote_message(6, 0, 1)) == a.sign_vote(6, 0, 1, vote_message(6, 0, 1))
    with pytest.raises(DoubleSignError):
        b.sign_vote(6, 0, 1, vote_message(6, 0, 1, vote=b"\x03"))
    for vote in (b"\x00", b"\x01" + b"\xaa" * 32):
        with pytest.raises(DoubleSignError, match="blocked"):
            b.sign_vote(7, 0, 1, vote_message(7, 0, 1, vote=vote))
    with pytest.raises(DoubleSignError, match="floor"):
        b.sign_vote(5, 0, 1, vote_message(5, 0, 1))
    assert b.guard.import_interchange(exported) == 0       # idempotent
    again = b.guard.export_interchange()
    assert {"round": 7, "iteration": 0, "step": "validation", "blocked": True} in again["entries"]
    a.close()
    b.close()


@pytest.mark.twin
@pytest.mark.parametrize("mutate", [
    lambda d: d.update(format="x"), lambda d: d.update(version=2), lambda d: d.update(public_key="00"),
    lambda d: d.update(floor=-1), lambda d: d.update(entries={}),
    lambda d: d["entries"].append({"round": 1, "iteration": 0, "step": "nope"}),
    lambda d: d["entries"].append({"round": 1, "iteration": 256, "step": "seed",
                                   "data_hash": "00" * 32, "signature": "00" * 48}),
    lambda d: d["entries"].append({"round": 1, "iteration": 0, "step": "seed",
                                   "data_hash": "00" * 31, "signature": "00" * 48}),
    lambda d: d["entries"].append({"round": True, "iteration": 0, "step": "seed", "blocked": True}),
    lambda d: d["entries"].append("x")])
def test_bad_interchange_documents_are_named(mutate):
    doc = {"format": "dusk-edge-guard-interchange", "version": 1,
           "public_key": KEY.public_key.hex(), "floor": 0, "entries": []}
    assert len(parse_interchange(json.loads(json.dumps(doc)), KEY.public_key)) == 1
    mutate(doc)
    with pytest.raises(GuardError):
        parse_interchange(doc, KEY.public_key)


def test_failed_guard_write_withholds_the_signature(tmp_path, monkeypatch):
    """Disk full at fsync: GuardError, nothing released, and the file stays consistent."""
    import errno
    s = _signer(tmp_path)
    s.sign_vote(1, 0, 1, vote_message(1, 0, 1))
    size = os.path.getsize(str(tmp_path / "guard.bin"))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("dusk_edge.keys.guard.os.fdatasync", full)
    with pytest.raises(GuardError, match="refusing to sign"):
        s.sign_vote(2, 0, 1, vote_message(2, 0, 1))
    assert os.path.getsize(str(tmp_path / "guard.bin")) == size
    monkeypatch.undo()
    assert s.guard.check(2, 0, 1, b"\x00" * 32) is None        # the slot was not taken
    s.sign_vote(2, 0, 1, vote_message(2, 0, 1, vote=b"\x00"))   # and later works normally
    s.close()
    reopened = DoubleSignGuard(str(tmp_path / "guard.bin"), KEY.public_key)
    assert reopened.status()["entries"] == 2 and reopened.truncated_tail == 0
    reopened.close()


def test_failed_audit_write_withholds_the_signature(tmp_path, monkeypatch):
    s = _signer(tmp_path)

    def broken(*args):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(s.audit, "append", broken)
    msg = vote_message(4, 0, 1)
    with pytest.raises(GuardError, match="withheld"):
        s.sign_vote(4, 0, 1, msg)
    monkeypatch.undo()
    sig = s.sign_vote(4, 0, 1, msg)                 # retry returns the guarded signature
    assert bls.verify_multisig([KEY.public_key], msg, sig)
    assert read_audit(str(tmp_path / "audit.log"))[-1]["repeat"] is True
    s.close()


def test_guard_cut_short_at_creation_starts_fresh(tmp_path):
    path = tmp_path / "guard.bin"
    path.write_bytes(FILE_MAGIC[:3])
    g = DoubleSignGuard(str(path), KEY.public_key)
    assert g.status()["entries"] == 0
    g.close()
    assert path.read_bytes().startswith(FILE_MAGIC)
