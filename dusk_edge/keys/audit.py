"""Audit log: one JSON line per signature the signer releases (DESIGN.md §9).

Written after the guard record is fsynced and before the signature is returned. Lines carry the
slot, the signed-data hash, the signature and who asked; never key material. The guard file, not
this log, is what prevents double signing, so the log is flushed but fsynced only every
``fsync_every`` lines (default: each line).
"""
import json
import os
import time


class AuditLog:
    def __init__(self, path, fsync_every=1, clock=time.time):
        self.path = path
        self.fsync_every = fsync_every
        self.clock = clock
        self._file = open(path, "a", encoding="utf-8")
        os.chmod(path, 0o600)
        self._unsynced = 0

    def append(self, kind, round_, iteration, step, data_hash, signature, client, repeat):
        line = {"time": round(self.clock(), 3), "kind": kind, "round": round_,
                "iteration": iteration, "step": step, "data_hash": data_hash.hex(),
                "signature": signature.hex(), "client": client, "repeat": repeat}
        self._file.write(json.dumps(line, sort_keys=True) + "\n")
        self._file.flush()
        self._unsynced += 1
        if self.fsync_every and self._unsynced >= self.fsync_every:
            os.fsync(self._file.fileno())
            self._unsynced = 0

    def close(self):
        self._file.close()


def read_audit(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
