# Theory of operation: the remote-signer protocol, sans-I/O (docs/remote-signer.md).
# Payloads are canonical CBOR maps (core/cbor.py), carried one per frame (core/frame.py).
# 1. client -> hello {t, v, cn}             cn: 32 fresh random bytes
# 2. server -> challenge {t, v, sn, mac}   mac = HMAC(K, "server" || cn || sn): proves the server
# 3. client -> auth {t, mac}               mac = HMAC(K, "client" || sn || cn): proves the client
# 4. server -> ready {t, pk, seq:0, mac}   session key S = HMAC(K, "session" || cn || sn)
# 5. client -> req {t, seq, op, ..., mac}  seq strictly increasing from 1; mac = HMAC(S, "req" || cbor)
#    server -> res {t, seq, ok, ..., mac}  the same seq; mac = HMAC(S, "res" || cbor)
# Replays are rejected: a request with seq <= the last one fails (ReplayError), and a frame copied
# from another session fails its MAC because S depends on both fresh nonces. A request before a
# completed handshake, or with a bad MAC, is answered with an error and the session is dropped.
# Errors travel by name (DoubleSignError, ...) and are raised again on the client side.
import hmac

from dusk_edge.core import cbor
from dusk_edge.core.errors import DecodeError, DuskEdgeError
from dusk_edge.keys import errors

PROTOCOL_VERSION = 1
NONCE_SIZE = 32
MIN_SECRET_SIZE = 16
MAX_PAYLOAD = 1024
_LABEL = b"dusk-edge-signer/"
OPS = ("public_key", "sign_vote", "sign_candidate", "sign_seed", "prune_below", "observe_vote")
REMOTE_ERRORS = {cls.__name__: cls for cls in (
    errors.DoubleSignError, errors.DuplicateInstanceError, errors.SigningNotReadyError,
    errors.BadSignRequestError, errors.SigningRefusedError, errors.GuardError,
    errors.ReplayError, errors.SignerAuthError, errors.SignerProtocolError)}


def _mac(key, label, *parts):
    return hmac.new(key, _LABEL + label + b"".join(parts), "sha256").digest()


def _equal(a, b):
    return isinstance(a, bytes) and hmac.compare_digest(a, b)


def check_secret(secret):
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_SIZE:
        raise errors.SignerAuthError("shared secret must be at least %d bytes" % MIN_SECRET_SIZE)
    return secret


def decode_message(payload):
    """A CBOR map with a text 't' field; SignerProtocolError otherwise."""
    if len(payload) > MAX_PAYLOAD:
        raise errors.SignerProtocolError("signer message over %d bytes" % MAX_PAYLOAD)
    try:
        message = cbor.decode(payload)
    except DecodeError as exc:
        raise errors.SignerProtocolError("signer message is not canonical CBOR: %s" % exc) from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise errors.SignerProtocolError("signer message is not a map with a type")
    return message


def seal(session_key, label, body):
    """``body`` plus its MAC under the session key, encoded."""
    body = dict(body)
    body["mac"] = _mac(session_key, label, cbor.encode(body))
    return cbor.encode(body)


def open_sealed(session_key, label, message):
    """Check and strip the MAC of a decoded message; SignerAuthError when it is wrong."""
    body = dict(message)
    mac = body.pop("mac", None)
    if not _equal(mac, _mac(session_key, label, cbor.encode(body))):
        raise errors.SignerAuthError("bad message authentication code")
    return body


class ServerSession:
    """One remote-signer peer. receive(payload) -> (payloads to send, drop_session)."""

    def __init__(self, secret, signer, rng, client_name="remote"):
        self.secret = check_secret(secret)
        self.signer = signer
        self.rng = rng
        self.client_name = client_name
        self._reset()
        self.rejected = 0

    def _reset(self):
        self.client_nonce = None
        self.server_nonce = None
        self.session_key = None
        self.last_seq = 0

    def receive(self, payload):
        try:
            message = decode_message(payload)
            kind = message["t"]
            if kind == "hello":
                return [self._on_hello(message)], False
            if kind == "auth":
                return [self._on_auth(message)], False
            if kind == "req":
                return [self._on_request(message)], False
            raise errors.SignerProtocolError("unknown signer message type")
        except errors.SignerProtocolError as exc:
            self.rejected += 1
            reply = {"t": "error", "error": type(exc).__name__, "message": str(exc)}
            self._reset()
            return [cbor.encode(reply)], True

    def _on_hello(self, message):
        self._reset()
        if message.get("v") != PROTOCOL_VERSION:
            raise errors.SignerProtocolError("unsupported signer protocol version")
        cn = message.get("cn")
        if not isinstance(cn, bytes) or len(cn) != NONCE_SIZE:
            raise errors.SignerProtocolError("hello nonce must be %d bytes" % NONCE_SIZE)
        self.client_nonce = cn
        self.server_nonce = self.rng(NONCE_SIZE)
        return cbor.encode({"t": "challenge", "v": PROTOCOL_VERSION, "sn": self.server_nonce,
                            "mac": _mac(self.secret, b"server", cn, self.server_nonce)})

    def _on_auth(self, message):
        if self.server_nonce is None or self.session_key is not None:
            raise errors.SignerAuthError("auth without a pending challenge")
        expected = _mac(self.secret, b"client", self.server_nonce, self.client_nonce)
        if not _equal(message.get("mac"), expected):
            raise errors.SignerAuthError("client failed authentication")
        self.session_key = _mac(self.secret, b"session", self.client_nonce, self.server_nonce)
        return seal(self.session_key, b"res", {"t": "ready", "seq": 0,
                                               "pk": self.signer.public_key()})

    def _on_request(self, message):
        if self.session_key is None:
            raise errors.SignerAuthError("request before authentication")
        body = open_sealed(self.session_key, b"req", message)
        seq = body.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq <= self.last_seq:
            raise errors.ReplayError("request sequence number %r replayed or out of order" % (seq,))
        self.last_seq = seq
        try:
            reply = {"t": "res", "seq": seq, "ok": True}
            reply.update(self._perform(body))
        except errors.SigningRefusedError as exc:
            reply = {"t": "res", "seq": seq, "ok": False, "error": type(exc).__name__,
                     "message": str(exc)}
        except DuskEdgeError as exc:   # GuardError and anything else named: refuse, keep serving
            reply = {"t": "res", "seq": seq, "ok": False, "error": type(exc).__name__,
                     "message": str(exc)}
        return seal(self.session_key, b"res", reply)

    def _perform(self, body):
        op = body.get("op")
        s = self.signer
        try:
            if op == "public_key":
                return {"pk": s.public_key()}
            if op == "sign_vote":
                return {"sig": s.sign_vote(body["round"], body["iteration"], body["step"], body["msg"])}
            if op == "sign_candidate":
                return {"sig": s.sign_candidate(body["round"], body["iteration"], body["hash"])}
            if op == "sign_seed":
                return {"sig": s.sign_seed(body["round"], body["seed"])}
            if op == "prune_below":
                return {"pruned": s.prune_below(body["round"])}
            if op == "observe_vote":
                return {"duplicate": s.observe_vote(body["pk"], body["round"], body["iteration"],
                                                    body["step"], body["msg"])}
        except KeyError as exc:
            raise errors.BadSignRequestError("request lacks field %s" % exc) from None
        raise errors.BadSignRequestError("unknown operation %r" % (op,))


class ClientSession:
    """Client half: hello() -> payload, then feed each server payload to the matching method."""

    def __init__(self, secret, rng):
        self.secret = check_secret(secret)
        self.rng = rng
        self.client_nonce = None
        self.server_nonce = None
        self.session_key = None
        self.seq = 0
        self.public_key = None

    def hello(self):
        self.client_nonce = self.rng(NONCE_SIZE)
        self.session_key = None
        self.seq = 0
        return cbor.encode({"t": "hello", "v": PROTOCOL_VERSION, "cn": self.client_nonce})

    def on_challenge(self, payload):
        message = _expect(payload, "challenge")
        sn = message.get("sn")
        if not isinstance(sn, bytes) or len(sn) != NONCE_SIZE:
            raise errors.SignerProtocolError("challenge nonce must be %d bytes" % NONCE_SIZE)
        if not _equal(message.get("mac"), _mac(self.secret, b"server", self.client_nonce, sn)):
            raise errors.SignerAuthError("server failed authentication (wrong shared secret?)")
        self.server_nonce = sn
        return cbor.encode({"t": "auth", "mac": _mac(self.secret, b"client", sn, self.client_nonce)})

    def on_ready(self, payload):
        key = _mac(self.secret, b"session", self.client_nonce, self.server_nonce)
        body = open_sealed(key, b"res", _expect(payload, "ready"))
        self.session_key = key
        self.public_key = body.get("pk")
        return self.public_key

    def request(self, op, **fields):
        if self.session_key is None:
            raise errors.SignerAuthError("not authenticated")
        self.seq += 1
        body = {"t": "req", "seq": self.seq, "op": op}
        body.update(fields)
        return seal(self.session_key, b"req", body)

    def on_response(self, payload):
        """The response fields for the last request; raises the server's named error."""
        body = open_sealed(self.session_key, b"res", _expect(payload, "res"))
        if body.get("seq") != self.seq:
            raise errors.ReplayError("response for sequence %r, expected %d" % (body.get("seq"), self.seq))
        if not body.get("ok"):
            raise REMOTE_ERRORS.get(body.get("error"), errors.SigningRefusedError)(
                "remote signer: %s" % body.get("message", "refused"))
        return body


def _expect(payload, kind):
    message = decode_message(payload)
    if message["t"] == "error":
        cls = REMOTE_ERRORS.get(message.get("error"), errors.SignerProtocolError)
        raise cls("remote signer: %s" % message.get("message", "error"))
    if message["t"] != kind:
        raise errors.SignerProtocolError("expected %s, got %s" % (kind, message["t"]))
    return message
