"""Conformance suites for the serial-line codecs (docs/frames.md, core/cbor.py).

cbor_decode:  {"bytes": hex} -> {"diag": CBOR diagnostic notation (RFC 8949 §8)} or an error.
serial_frame: {"bytes": hex} -> {"kind": int, "seq": int, "payload": hex} or an error.
"""
import json

from dusk_edge.conformance import hexbytes
from dusk_edge.core import cbor, frame


def diagnostic(value):
    """RFC 8949 §8 diagnostic notation of a decoded value, as RFC 8949 Appendix A writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "h'%s'" % value.hex()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[%s]" % ", ".join(diagnostic(v) for v in value)
    return "{%s}" % ", ".join("%s: %s" % (diagnostic(k), diagnostic(v)) for k, v in value.items())


def run_cbor_decode(case):
    return {"diag": diagnostic(cbor.decode(hexbytes(case["bytes"], field="bytes")))}


def run_serial_frame(case):
    decoded = frame.decode_frame(hexbytes(case["bytes"], field="bytes"))
    return {"kind": decoded.kind, "seq": decoded.seq, "payload": decoded.payload.hex()}


SUITES = {"cbor_decode": run_cbor_decode, "serial_frame": run_serial_frame}
