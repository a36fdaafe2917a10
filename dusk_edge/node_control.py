"""The console's NodeControl (dusk_edge.console_api) implemented by a running node.

Served on the node's local socket as "console.<method>" commands, so `dusk-edge console` and the
serial console process (which runs apart from the node and keeps answering if it hangs) speak to
the real node. Runtime-settable keys are the console's CONFIG_KEYS; values are validated there.

`shielded_commands(control)` adds the wallet's command (docs/shielded.md):
    -> {"cmd": "shielded_sync", "start": N, "limit": 256, "nullifiers": [hex, ...]}
    <- outputs (commitment, ciphertext) from note N, recent roots, the final note count, which
       of the given nullifiers are spent, the pool balance.
"""
import logging

from dusk_edge.console_api import NodeControl, board_status
from dusk_edge.core.console.commands import validate_config
from dusk_edge.core.errors import ConfigError, DecodeError

LOG = logging.getLogger("dusk_edge.control")
EXIT_RESTART = 75  # systemd's Restart=on-failure (and the unit's RestartForceExitStatus) restarts us
MAX_SYNC_OUTPUTS = 256  # per reply: 256 outputs of ~0.2 KB hex stay far below the 4 MiB reply cap
MAX_SYNC_NULLIFIERS = 256


class ShieldedDisabled(ConfigError):
    """The node's genesis fixes no transfer verifying key: it has no shielded pool."""


def shielded_commands(control):
    """The wallet's commands for the node's status socket table."""
    return {"shielded_sync": control.shielded_sync}


class RunnerControl(NodeControl):
    def __init__(self, runner, log_ring):
        self.runner = runner
        self.log_ring = log_ring
        node = runner.node
        self.settings = {
            "log.level": logging.getLevelName(logging.getLogger().level).lower(),
            "log.json": runner.config["log"]["format"] == "json",
            "node.name": runner.config["node"]["name"],
            "peers.max": node.board["caps"]["peers_max"],
            "mempool.max_txs": node.mempool.capacity,
            "consensus.enabled": node.signer is not None,
            "console.idle_logout_s": 600,
            "store.prune": node.board["caps"]["prune"],
            "store.snapshot_every": node.board["caps"]["snapshot_every"],
        }

    def status(self):
        status = self.runner.status()
        status.update(board_status(self.runner.node.board))
        status["state"] = "stopping" if self.runner.stopping.is_set() else "running"
        return status

    def peers(self):
        import ipaddress

        out = []
        for node in self.runner.node.peer.table.nodes():
            ip, port = node.addr
            out.append({"addr": "%s:%d" % (ipaddress.ip_address(ip), port), "id": node.id.hex()})
        return out

    def blocks(self, n):
        chain = self.runner.node.chain
        out = []
        for height in range(chain.state.height, max(-1, chain.state.height - n), -1):
            header = chain.get_header(height)
            if header is None:
                break
            label = chain.finality.get_label(height)
            out.append({"height": height, "hash": header.hash.hex(), "iteration": header.iteration,
                        "timestamp": header.timestamp, "label": label.name if label else "final"})
        return out

    def stake_info(self):
        signer = self.runner.node.signer
        if signer is None:
            return {"provisioner": False}
        stake = self.runner.node.chain.state.stake(signer.public_key())
        if stake is None:
            return {"provisioner": True, "public_key": signer.public_key().hex(), "stake": None}
        return {"provisioner": True, "public_key": signer.public_key().hex(), "value": stake.value,
                "locked": stake.locked, "eligible_since": stake.eligibility, "reward": stake.reward,
                "faults": stake.faults}

    def log_tail(self, n):
        return self.log_ring.tail(n)

    def config_get(self, key):
        if key is None:
            return dict(self.settings)
        if key not in self.settings:
            raise ConfigError("unknown config key %r (known: %s)" % (key, ", ".join(sorted(self.settings))))
        return {key: self.settings[key]}

    def config_set(self, key, value):
        value = validate_config(key, value if isinstance(value, str) else str(value).lower())
        if key == "log.level":
            logging.getLogger().setLevel(value.upper())
        elif key == "mempool.max_txs":
            self.runner.node.mempool.capacity = value
        self.settings[key] = value
        LOG.info("config changed", extra={"fields": {"key": key}})
        return {key: value}

    def keys_status(self):
        signer = self.runner.node.signer
        if signer is None:
            return {"signing": "none", "backend": "none"}
        kind = type(signer).__name__
        info = {"signing": "ready", "backend": "remote" if kind == "RemoteSigner" else "keystore",
                "public_key": signer.public_key().hex()}
        guard = getattr(signer, "guard", None)
        if guard is not None and hasattr(guard, "history"):
            info["guard_entries"] = len(guard.history.entries)
        return info

    def restart(self):
        self.runner.exit_code = EXIT_RESTART
        self.runner.request_stop()
        return "restarting"

    def shutdown(self):
        self.runner.request_stop()
        return "shutting down"

    def repair(self, action, args):
        store = self.runner.node.chain.store
        if action == "store" and args[:1] == ["check"]:
            return store.check()
        raise ConfigError("%s %s is not available while the node runs; stop it and use `dusk-edge store`"
                          % (action, " ".join(str(a) for a in args)))

    def shielded_sync(self, start=0, limit=MAX_SYNC_OUTPUTS, nullifiers=()):
        """Shielded outputs from index ``start`` (at most ``limit``), recent roots, the note count
        at the last final block and which of ``nullifiers`` (hex) are spent."""
        if not isinstance(start, int) or not isinstance(limit, int) or start < 0 or limit < 0:
            raise DecodeError("start and limit must be non-negative integers")
        if not isinstance(nullifiers, (list, tuple)) or len(nullifiers) > MAX_SYNC_NULLIFIERS:
            raise DecodeError("nullifiers must be a list of at most %d hex strings" % MAX_SYNC_NULLIFIERS)
        try:
            keys = [bytes.fromhex(n) for n in nullifiers]
        except (TypeError, ValueError):
            raise DecodeError("nullifiers must be hex") from None
        info = self.runner.node.chain.shielded_sync(start, min(limit, MAX_SYNC_OUTPUTS), keys)
        if info is None:
            raise ShieldedDisabled("this network's genesis enables no shielded transfers")
        return info
