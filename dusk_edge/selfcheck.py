"""`dusk-edge selfcheck`: what this machine gives the node (crypto backend, speedups, board)."""
import platform
import time

from dusk_edge import __version__
from dusk_edge.boards import detect_board, load_board
from dusk_edge.core import accel


def _optional(module):
    try:
        __import__(module)
        return "yes"
    except ImportError:
        return "no"


def run_selfcheck(board=None):
    """Returns a dict of checks; ``ok`` is False when a required part is broken."""
    from dusk_edge.crypto import bls

    profile = load_board(board) if board else detect_board()
    sk = bls.secret_key_from_int(7)
    pk = bls.public_key(sk)
    t0 = time.perf_counter()
    sig = bls.sign_multisig(sk, b"selfcheck")
    ok = bls.verify_multisig([pk], b"selfcheck", sig)
    verify_ms = (time.perf_counter() - t0) * 1000
    crc_ok = accel.crc32c(b"123456789") == 0xE3069283
    return {
        "ok": bool(ok and crc_ok),
        "version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "crypto_backend": "py-arkworks-bls12381",
        "bls_sign_verify_ms": round(verify_ms, 2),
        "bls_roundtrip": bool(ok),
        "speedups": accel.ACTIVE,
        "crc32c_ok": crc_ok,
        "raptorq": _optional("raptorq"),
        "uvloop": _optional("uvloop"),
        "pkcs11": _optional("pkcs11"),
        "board": profile["name"],
        "board_title": profile["title"],
        "caps": profile["caps"],
    }
