"""Structured logging: human text or one JSON object per line, with secrets redacted.

Anything logged through `extra={"fields": {...}}` is emitted as structured fields. Field names that
look secret (passphrase, pin, secret, key material) are replaced by "<redacted>" before output.
"""
import json
import logging
import sys
import time

SECRET_WORDS = ("passphrase", "password", "pin", "secret", "private", "seed_phrase", "shared_key")


def redact(fields):
    out = {}
    for key, value in fields.items():
        lowered = key.lower()
        out[key] = "<redacted>" if any(w in lowered for w in SECRET_WORDS) else value
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record):
        doc = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(redact(getattr(record, "fields", {}) or {}))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, sort_keys=True)


class TextFormatter(logging.Formatter):
    def format(self, record):
        fields = redact(getattr(record, "fields", {}) or {})
        extra = " ".join("%s=%s" % (k, fields[k]) for k in sorted(fields))
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = "%s %-5s %s: %s%s" % (stamp, record.levelname, record.name, record.getMessage(), " " + extra if extra else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(fmt="text", level="info", stream=None):
    """Configure the root logger once; returns it. fmt: text | json."""
    if fmt not in ("text", "json"):
        raise ValueError("log format must be text or json")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    return root


class LogRing(logging.Handler):
    """The last ``capacity`` formatted log lines in memory (for `log tail` on the console)."""

    def __init__(self, capacity=500):
        logging.Handler.__init__(self)
        from collections import deque

        self.lines = deque(maxlen=capacity)
        self.setFormatter(TextFormatter())

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the node
            self.handleError(record)

    def tail(self, n):
        return list(self.lines)[-n:]
