# Theory of operation: console output is plain 7-bit ASCII with CRLF line ends, because the far
# end may be a 9600-baud terminal. Results are plain data; dicts print as "key: value" lines
# (nested keys joined with dots), lists of dicts as one line per item. Anything outside
# printable ASCII becomes '?', so a value from the node can never inject terminal escapes.
MAX_VALUE = 120


def ascii_text(text):
    """``text`` with every character outside printable ASCII replaced by '?'."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def _scalar(value):
    if value is None:
        return "-"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex()
    else:
        text = str(value)
    text = ascii_text(text)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def _flatten(prefix, value, lines):
    if isinstance(value, dict):
        if not value:
            lines.append("%s: -" % prefix if prefix else "-")
        for key in value:
            name = "%s.%s" % (prefix, key) if prefix else str(key)
            _flatten(name, value[key], lines)
    elif isinstance(value, (list, tuple)) and value and all(not isinstance(v, (dict, list)) for v in value):
        lines.append("%s: %s" % (ascii_text(prefix), ", ".join(_scalar(v) for v in value)))
    elif isinstance(value, (list, tuple)):
        if not value:
            lines.append("%s: (none)" % ascii_text(prefix))
        for i, item in enumerate(value):
            _flatten("%s[%d]" % (prefix, i), item, lines)
    else:
        lines.append("%s: %s" % (ascii_text(prefix), _scalar(value)) if prefix else _scalar(value))


def _row(item):
    if isinstance(item, dict):
        return "  ".join("%s=%s" % (ascii_text(str(k)), _scalar(v)) for k, v in item.items()
                         if not isinstance(v, (dict, list)))
    return _scalar(item)


def render_result(name, result):
    """The ASCII lines (without line ends) showing ``result`` of command ``name``."""
    if name == "help" and isinstance(result, list):
        return ["%-26s %s" % (r["usage"], r["summary"]) for r in result]
    if name == "log tail" and isinstance(result, list):
        return [_scalar(line) for line in result] or ["(log empty)"]
    if isinstance(result, list) and all(isinstance(r, dict) for r in result):
        return [_row(r) for r in result] or ["(none)"]
    lines = []
    _flatten("", result, lines)
    return lines


def to_wire(value, depth=0):
    """``value`` made CBOR-safe for machine mode: floats become strings, tuples lists."""
    if depth > 12:
        return str(value)
    if isinstance(value, dict):
        return dict((str(k) if not isinstance(k, (int, str, bytes)) or k is True or k is False else k,
                     to_wire(v, depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_wire(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, str, bytes)):
        return value
    if isinstance(value, int) and -(1 << 64) <= value < (1 << 64):
        return value
    return str(value)
