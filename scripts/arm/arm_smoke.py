"""Runs under qemu-aarch64 (scripts/arm/test_arm.sh): proves where we are and what is loaded.

Checks, each printed as one line, exit status 1 if any fails:
- the interpreter is aarch64 CPython and the C speedups (the cross-built .so) are the active backend;
- every module of the dusk_edge package imports on aarch64 without raptorq (no ARM wheel exists);
- the aarch64 wheels of the dependencies work: a Dusk BLS multisig round trip (arkworks), cbor2,
  blake3, crc32c against the speedups, Ed25519 via cryptography, and uvloop.
"""
import importlib
import pkgutil
from importlib import metadata
import platform
import sys

FAILED = []
# Import names of the dependencies installed here (scripts/arm/common.sh: arm_requirements).
DECLARED = {"py_arkworks_bls12381", "blake3", "cbor2", "click", "rich", "cryptography", "serial",
            "serial_asyncio_fast", "uvloop", "crc32c", "pkcs11"}


def check(label, ok, detail=""):
    print("arm-smoke: %s %s%s" % ("ok  " if ok else "FAIL", label, (": " + detail) if detail else ""))
    if not ok:
        FAILED.append(label)


def check_backend():
    from dusk_edge.core import accel

    so = getattr(accel.SPEEDUPS, "__file__", None) or "-"
    print("arm-smoke: machine=%s python=%s backend=%s speedups=%s" % (
        platform.machine(), platform.python_version(), accel.ACTIVE, so))
    check("platform.machine() == aarch64", platform.machine() == "aarch64", platform.machine())
    check("accel.ACTIVE == c", accel.ACTIVE == "c", accel.ACTIVE)
    check("speedups built for aarch64", so.endswith("aarch64-linux-gnu.so"), so)
    if accel.MISSING_IN_C:
        print("arm-smoke: note: functions without a C twin yet: %s" % ", ".join(accel.MISSING_IN_C))


def check_imports_without_raptorq():
    try:
        import raptorq  # noqa: F401
        check("raptorq is absent (no aarch64 wheel exists)", False, "it is importable here")
    except ImportError:
        check("raptorq is absent (no aarch64 wheel exists)", True)
    import dusk_edge

    bad = []
    for info in pkgutil.walk_packages(dusk_edge.__path__, "dusk_edge."):
        # MicroPython-only drivers import `machine`; the C twin is checked above.
        if ".mpy" in info.name or info.name.endswith("_speedups") or info.name == "dusk_edge.__main__":
            continue
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").split(".")[0]
            if top in ("dusk_edge", "raptorq") or top in DECLARED:
                bad.append("%s (%s)" % (info.name, exc))
            else:  # a tool module (simulation, bench) using something the node does not declare
                print("arm-smoke: note: %s needs %s, which dusk-edge does not declare" % (info.name, top))
        except Exception as exc:  # noqa: BLE001 - report every failing module, not only the first
            bad.append("%s (%s: %s)" % (info.name, type(exc).__name__, exc))
    check("every dusk_edge module imports on aarch64", not bad, "; ".join(bad))
    check_fec_without_raptorq()


def check_fec_without_raptorq():
    # A genesis naming raptorq must fail with a named error here; Reed-Solomon must work.
    from dusk_edge.core.errors import ConfigError
    from dusk_edge.crypto.fec import make_fec, ray_id_of

    try:
        make_fec("raptorq")
        check("fec = raptorq is refused with ConfigError", False, "it was accepted")
    except ConfigError as exc:
        check("fec = raptorq is refused with ConfigError", True, str(exc))
    fec = make_fec("rs")
    data = bytes(range(256)) * 20
    chunks = fec.new_encoder(data, ray_id_of(data)).initial_chunks()
    decoder = fec.new_decoder(fec.parse_chunk(chunks[0])[1])
    frame = None
    for chunk in chunks[len(chunks) // 4:]:  # the first quarter lost
        frame = decoder.add(fec.parse_chunk(chunk)[2]) or frame
    check("Reed-Solomon FEC recovers a broadcast with a quarter of its chunks lost", frame == data)


def check_dependency_wheels():
    from dusk_edge.core import accel
    from dusk_edge.crypto import bls

    sks = [bls.secret_key_from_int(i + 7) for i in range(3)]
    pks = [bls.public_key(sk) for sk in sks]
    msg = b"dusk-edge on aarch64"
    sig = bls.aggregate_signatures([bls.sign_multisig(sk, msg) for sk in sks])
    check("BLS multisig verify (py-arkworks-bls12381 aarch64 wheel)", bls.verify_multisig(pks, msg, sig))
    check("BLS multisig rejects a wrong message", not bls.verify_multisig(pks, msg + b"!", sig))

    import cbor2

    doc = {"height": 7, "hash": bytes(range(32)), "votes": [1, 2, 3]}
    check("cbor2 %s round trip" % metadata.version("cbor2"), cbor2.loads(cbor2.dumps(doc)) == doc)
    import blake3

    check("blake3 of empty input", blake3.blake3(b"").hexdigest().startswith("af1349b9f5f9a1a6"))
    import crc32c

    data = bytes(range(256)) * 5
    check("crc32c package == C speedup crc32c", crc32c.crc32c(data) == accel.crc32c(data))
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    key.public_key().verify(key.sign(msg), msg)
    check("Ed25519 sign/verify (cryptography)", True)
    import asyncio

    import uvloop

    check("uvloop runs a coroutine", uvloop.run(asyncio.sleep(0, result=42)) == 42)


def main():
    check_backend()
    check_imports_without_raptorq()
    check_dependency_wheels()
    if FAILED:
        print("arm-smoke: %d check(s) failed" % len(FAILED))
        sys.exit(1)
    print("arm-smoke: all checks passed on %s" % platform.machine())


if __name__ == "__main__":
    main()
