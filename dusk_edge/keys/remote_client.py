"""RemoteSigner: the Signer interface over a UNIX socket or a serial line (synchronous client).

Each call sends one authenticated request frame and waits for its response (timeout ->
SignerUnavailableError). A broken connection is re-established with a fresh handshake on the next
call; the server's named refusals (DoubleSignError, ...) are raised here unchanged.
"""
import os
import socket
import time

from dusk_edge.core import frame
from dusk_edge.keys.errors import SignerProtocolError, SignerUnavailableError
from dusk_edge.keys.remote_protocol import MAX_PAYLOAD, ClientSession
from dusk_edge.keys.signer import Signer


class UnixTransport:
    def __init__(self, path, timeout=5.0):
        self.path = path
        self.timeout = timeout
        self.sock = None

    def connect(self):
        self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise SignerUnavailableError("cannot connect to signer socket %s (%s)"
                                         % (self.path, exc.strerror)) from None
        self.sock = sock

    def write(self, data):
        self.sock.sendall(data)

    def read(self, deadline):
        self.sock.settimeout(max(0.001, deadline - time.monotonic()))
        data = self.sock.recv(4096)
        if not data:
            raise SignerUnavailableError("signer closed the connection")
        return data

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class SerialTransport:
    def __init__(self, device, baudrate=115200, timeout=5.0):
        self.device = device
        self.baudrate = baudrate
        self.timeout = timeout
        self.port = None

    def connect(self):
        import serial
        self.close()
        try:
            self.port = serial.Serial(self.device, self.baudrate, timeout=0.05)
        except (OSError, serial.SerialException) as exc:
            raise SignerUnavailableError("cannot open serial line %s (%s)"
                                         % (self.device, type(exc).__name__)) from None
        self.port.reset_input_buffer()

    def write(self, data):
        self.port.write(data)
        self.port.flush()

    def read(self, deadline):
        self.port.timeout = max(0.001, min(0.05, deadline - time.monotonic()))
        return self.port.read(max(1, self.port.in_waiting))

    def close(self):
        if self.port is not None:
            self.port.close()
            self.port = None


class RemoteSigner(Signer):
    def __init__(self, transport, secret, rng=os.urandom):
        self.transport = transport
        self.secret = secret
        self.rng = rng
        self.session = None
        self._decoder = None
        self._seq = 0
        self._public_key = None

    def _send(self, payload):
        self.transport.write(frame.encode_frame(frame.KIND_NOTE, self._seq, payload))
        self._seq = (self._seq + 1) & 0xFFFF

    def _receive(self):
        deadline = time.monotonic() + self.transport.timeout
        while True:
            if time.monotonic() >= deadline:
                raise SignerUnavailableError("remote signer did not answer in %.1f s"
                                             % self.transport.timeout)
            try:
                data = self.transport.read(deadline)
            except socket.timeout:
                continue
            except OSError as exc:
                raise SignerUnavailableError("remote signer link failed (%s)"
                                             % type(exc).__name__) from None
            frames = self._decoder.feed(data)
            if frames:
                return frames[0].payload

    def connect(self):
        """Connect and run the mutual handshake; returns the signer's public key."""
        self.session = None
        self.transport.connect()
        self._decoder = frame.FrameDecoder(max_payload=MAX_PAYLOAD)
        session = ClientSession(self.secret, self.rng)
        self._send(session.hello())
        self._send(session.on_challenge(self._receive()))
        self._public_key = session.on_ready(self._receive())
        self.session = session
        return self._public_key

    def _call(self, op, **fields):
        if self.session is None:
            self.connect()
        try:
            self._send(self.session.request(op, **fields))
            return self.session.on_response(self._receive())
        except (SignerUnavailableError, SignerProtocolError):
            self._drop()
            raise
        except OSError as exc:
            self._drop()
            raise SignerUnavailableError(
                "remote signer link failed (%s)" % type(exc).__name__) from None

    def _drop(self):
        self.session = None   # reconnect with a fresh handshake next time
        self.transport.close()

    def public_key(self):
        if self._public_key is None:
            self.connect()
        return self._public_key

    def sign_vote(self, round_, iteration, step, message):
        return self._call("sign_vote", round=round_, iteration=iteration, step=step,
                          msg=bytes(message))["sig"]

    def sign_candidate(self, round_, iteration, block_hash):
        return self._call("sign_candidate", round=round_, iteration=iteration,
                          hash=bytes(block_hash))["sig"]

    def sign_seed(self, round_, prev_seed):
        return self._call("sign_seed", round=round_, seed=bytes(prev_seed))["sig"]

    def prune_below(self, finalized_round):
        return self._call("prune_below", round=finalized_round)["pruned"]

    def observe_vote(self, public_key, round_, iteration, step, message):
        return self._call("observe_vote", pk=bytes(public_key), round=round_, iteration=iteration,
                          step=step, msg=bytes(message))["duplicate"]

    def close(self):
        self.session = None
        self.transport.close()
