"""Remote-signer protocol, sans-I/O: mutual authentication, replay rejection, named refusals,
and fuzzing (the server never raises on hostile input; it answers with an error and resets)."""
import os
import random

import pytest
from hypothesis import given, settings, strategies as st

from dusk_edge.core import cbor
from dusk_edge.crypto import bls
from dusk_edge.keys.errors import (BadSignRequestError, DoubleSignError, ReplayError,
                                   SignerAuthError, SignerProtocolError)
from dusk_edge.keys.guard import DoubleSignGuard
from dusk_edge.keys.keystore import ConsensusKey
from dusk_edge.keys.remote_protocol import ClientSession, ServerSession
from dusk_edge.keys.signer import LocalSigner
from tests.keys_fixtures import vote_message

KEY = ConsensusKey(bls.secret_key_from_int(777))
SECRET = b"shared-secret-for-tests-0123456789"


def _rng(seed):
    r = random.Random(seed)
    return lambda n: bytes(r.getrandbits(8) for _ in range(n))


@pytest.fixture
def signer(tmp_path):
    s = LocalSigner(KEY, DoubleSignGuard(str(tmp_path / "guard.bin"), KEY.public_key))
    yield s
    s.close()


def _one(server, payload):
    replies, drop = server.receive(payload)
    assert len(replies) == 1
    return replies[0], drop


def _handshake(server, client):
    challenge, _ = _one(server, client.hello())
    ready, drop = _one(server, client.on_challenge(challenge))
    assert not drop
    return client.on_ready(ready)


def test_handshake_and_signing(signer):
    server = ServerSession(SECRET, signer, _rng(1))
    client = ClientSession(SECRET, _rng(2))
    assert _handshake(server, client) == KEY.public_key
    msg = vote_message(3, 0, 1)
    reply, _ = _one(server, client.request("sign_vote", round=3, iteration=0, step=1, msg=msg))
    sig = client.on_response(reply)["sig"]
    assert bls.verify_multisig([KEY.public_key], msg, sig)
    reply, _ = _one(server, client.request("sign_vote", round=3, iteration=0, step=1,
                                           msg=vote_message(3, 0, 1, vote=b"\x00")))
    with pytest.raises(DoubleSignError):
        client.on_response(reply)
    reply, _ = _one(server, client.request("sign_vote", round=3, iteration=0, step=2, msg=msg))
    with pytest.raises(BadSignRequestError):
        client.on_response(reply)


def test_client_with_wrong_secret_is_rejected(signer):
    server = ServerSession(SECRET, signer, _rng(1))
    client = ClientSession(b"x" * 32, _rng(2))
    challenge, _ = _one(server, client.hello())
    with pytest.raises(SignerAuthError):           # the client notices the server is not its peer
        client.on_challenge(challenge)
    # A client that ignores that and answers anyway is refused by the server.
    client.server_nonce = cbor.decode(challenge)["sn"]
    forged = cbor.encode({"t": "auth", "mac": b"\x00" * 32})
    reply, drop = _one(server, forged)
    assert drop and cbor.decode(reply)["error"] == "SignerAuthError"


def test_server_with_wrong_secret_is_rejected_by_client(signer):
    server = ServerSession(b"y" * 32, signer, _rng(1))
    client = ClientSession(SECRET, _rng(2))
    challenge, _ = _one(server, client.hello())
    with pytest.raises(SignerAuthError):
        client.on_challenge(challenge)


def test_unauthenticated_request_is_rejected(signer):
    server = ServerSession(SECRET, signer, _rng(1))
    request = cbor.encode({"t": "req", "seq": 1, "op": "sign_seed", "round": 1, "seed": b"\0" * 48,
                           "mac": b"\0" * 32})
    reply, drop = _one(server, request)
    assert drop and cbor.decode(reply)["error"] == "SignerAuthError"
    assert signer.guard.status()["entries"] == 0


def test_replayed_and_cross_session_requests_are_rejected(signer):
    server = ServerSession(SECRET, signer, _rng(1))
    client = ClientSession(SECRET, _rng(2))
    _handshake(server, client)
    request = client.request("sign_seed", round=1, seed=b"\x07" * 48)
    reply, _ = _one(server, request)
    client.on_response(reply)
    reply, drop = _one(server, request)                       # same bytes again
    assert drop and cbor.decode(reply)["error"] == "ReplayError"
    # A new session (fresh nonces) does not accept a request recorded in an old one.
    client2 = ClientSession(SECRET, _rng(3))
    _handshake(server, client2)
    reply, drop = _one(server, request)
    assert drop and cbor.decode(reply)["error"] == "SignerAuthError"


def test_modified_request_fails_its_mac(signer):
    server = ServerSession(SECRET, signer, _rng(1))
    client = ClientSession(SECRET, _rng(2))
    _handshake(server, client)
    body = cbor.decode(client.request("sign_seed", round=1, seed=b"\x07" * 48))
    body["round"] = 2
    reply, drop = _one(server, cbor.encode(body))
    assert drop and cbor.decode(reply)["error"] == "SignerAuthError"


def test_client_rejects_forged_or_stale_responses(signer):
    server = ServerSession(SECRET, signer, _rng(1))
    client = ClientSession(SECRET, _rng(2))
    _handshake(server, client)
    reply1, _ = _one(server, client.request("public_key"))
    client.on_response(reply1)
    client.request("public_key")
    with pytest.raises(ReplayError):              # an old response replayed to the client
        client.on_response(reply1)
    forged = cbor.decode(reply1)
    forged["seq"] = client.seq
    with pytest.raises(SignerAuthError):
        client.on_response(cbor.encode(forged))


def test_short_secret_is_refused(signer):
    with pytest.raises(SignerAuthError):
        ServerSession(b"short", signer, os.urandom)


@pytest.mark.twin
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.builds(
    cbor.encode, st.dictionaries(st.sampled_from(["t", "v", "cn", "mac", "seq", "op", "sn"]),
                                 st.sampled_from(["hello", "auth", "req", "res", 1, 0, -1])
                                 | st.binary(max_size=40), max_size=6)))
def test_hostile_payloads_never_raise(payload):
    s = _shared_signer()
    server = ServerSession(SECRET, s, _rng(1))
    replies, _ = server.receive(payload)
    assert all(isinstance(r, bytes) for r in replies)
    assert s.guard.status()["entries"] == 0


_SHARED = []


def _shared_signer():
    # One guard for all hypothesis examples: none of them may ever get a signature recorded.
    if not _SHARED:
        import tempfile
        d = tempfile.mkdtemp(prefix="keys-fuzz-")
        _SHARED.append(LocalSigner(KEY, DoubleSignGuard(os.path.join(d, "g.bin"), KEY.public_key)))
    return _SHARED[0]


@pytest.mark.twin
def test_client_rejects_garbage_with_named_errors():
    client = ClientSession(SECRET, _rng(2))
    client.hello()
    for payload in (b"", b"\xff", cbor.encode([1]), cbor.encode({"t": "ready"}),
                    cbor.encode({"t": "challenge", "sn": b"1"}),
                    cbor.encode({"t": "error", "error": "DoubleSignError", "message": "x"})):
        with pytest.raises(SignerProtocolError if payload[:1] != b"\xa3" else DoubleSignError):
            client.on_challenge(payload)


def test_forwarded_foreign_vote_of_our_key_disables_remote_signing(tmp_path):
    from dusk_edge.core.hashes import sha3_256
    from dusk_edge.keys.duplicate import DuplicateInstanceGuard
    from dusk_edge.keys.errors import DuplicateInstanceError, SigningNotReadyError
    clock = [0]
    s = LocalSigner(KEY, DoubleSignGuard(str(tmp_path / "g.bin"), KEY.public_key),
                    clock_ms=lambda: clock[0])
    s.duplicate = DuplicateInstanceGuard(KEY.public_key, 0, 1000, signed_by_us=s.signed_by_us)
    server = ServerSession(SECRET, s, _rng(1))
    client = ClientSession(SECRET, _rng(2))
    _handshake(server, client)
    reply, _ = _one(server, client.request("sign_seed", round=1, seed=b"\x01" * 48))
    with pytest.raises(SigningNotReadyError):
        client.on_response(reply)
    clock[0] = 1000
    msg = vote_message(4, 0, 1)
    own = client.on_response(_one(server, client.request("sign_vote", round=4, iteration=0, step=1,
                                                          msg=msg))[0])["sig"]
    assert own
    seen = client.on_response(_one(server, client.request(
        "observe_vote", pk=KEY.public_key, round=4, iteration=0, step=1, msg=msg))[0])
    assert seen["duplicate"] is False                      # our own vote echoed back
    bad = client.request("observe_vote", pk=KEY.public_key, round=4, iteration=0, step=1, msg="x")
    with pytest.raises(BadSignRequestError):
        client.on_response(_one(server, bad)[0])
    other = vote_message(5, 0, 1)
    seen = client.on_response(_one(server, client.request(
        "observe_vote", pk=KEY.public_key, round=5, iteration=0, step=1, msg=other))[0])
    assert seen["duplicate"] is True
    reply, _ = _one(server, client.request("sign_vote", round=6, iteration=0, step=1,
                                           msg=vote_message(6, 0, 1)))
    with pytest.raises(DuplicateInstanceError):
        client.on_response(reply)
    assert sha3_256(other) not in [e[1] for e in s.guard.history.entries.values()]
    s.close()
