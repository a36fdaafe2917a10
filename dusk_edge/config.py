"""Node configuration (TOML). Every error names the field and the allowed values.

    [node]     name, data_dir, board ("auto" or a hw/boards name), genesis (preset name or path)
    [network]  listen "ip:port", public_address, bootstrap ["ip:port", ...], broadcast ("as-specified" | "edge" | "auto"),
               uplink_mbps (the edge mode paces large-message symbols at this rate, 1..1000)
    [keys]     keystore, passphrase_file, passphrase_env, signer ("local" | "remote"), remote_signer
    [status]   socket (relative paths are under data_dir)
    [metrics]  enabled, listen "ip:port"
    [log]      format ("text" | "json"), level ("debug" | "info" | "warning" | "error")
"""
import ipaddress
import os
import tomllib

from dusk_edge.core.errors import ConfigError

_ANY = None
SCHEMA = {
    "node": {
        "name": (str, "node", _ANY),
        "data_dir": (str, "~/.local/share/dusk-edge", _ANY),
        "board": (str, "auto", _ANY),
        "genesis": (str, "devnet", _ANY),
    },
    "network": {
        "listen": (str, "0.0.0.0:9000", _ANY),
        "public_address": (str, "", _ANY),
        "bootstrap": (list, [], _ANY),
        "broadcast": (str, "auto", ("as-specified", "edge", "auto")),
        "uplink_mbps": (int, 10, _ANY),
    },
    "keys": {
        "keystore": (str, "keys/consensus.key", _ANY),
        "passphrase_file": (str, "", _ANY),
        "passphrase_env": (str, "DUSK_EDGE_PASSPHRASE", _ANY),
        "signer": (str, "local", ("local", "remote")),
        "remote_signer": (str, "", _ANY),
        "remote_secret_file": (str, "", _ANY),
    },
    "status": {"socket": (str, "node.sock", _ANY)},
    "metrics": {"enabled": (bool, False, _ANY), "listen": (str, "127.0.0.1:9464", _ANY)},
    "log": {
        "format": (str, "text", ("text", "json")),
        "level": (str, "info", ("debug", "info", "warning", "error")),
    },
}


def parse_address(text, field):
    """'ip:port' or '[ipv6]:port' -> (ip, port); ConfigError naming ``field`` otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        port_number = int(port)
    except ValueError:
        raise ConfigError("%s: %r is not an address of the form ip:port" % (field, text)) from None
    if not sep or not 0 < port_number < 65536:
        raise ConfigError("%s: port must be 1..65535" % field)
    return host, port_number


def _typed(field, value, kind):
    if kind is bool and not isinstance(value, bool):
        raise ConfigError("%s must be true or false" % field)
    if kind is not bool and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ConfigError("%s must be %s" % (field, {str: "a string", list: "a list", int: "an integer"}[kind]))
    return value


def validate_config(doc):
    """Fill defaults and check types, allowed values and addresses; returns a nested dict."""
    out = {}
    for section in doc:
        if section not in SCHEMA:
            raise ConfigError("unknown section [%s] (allowed: %s)" % (section, ", ".join(SCHEMA)))
    for section, fields in SCHEMA.items():
        given = doc.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError("[%s] must be a table" % section)
        for key in given:
            if key not in fields:
                raise ConfigError("unknown field %s.%s (allowed: %s)" % (section, key, ", ".join(fields)))
        values = {}
        for key, (kind, default, allowed) in fields.items():
            field = "%s.%s" % (section, key)
            value = _typed(field, given[key], kind) if key in given else default
            if allowed is not None and value not in allowed:
                raise ConfigError("%s must be one of %s, not %r" % (field, ", ".join(allowed), value))
            values[key] = value
        out[section] = values
    parse_address(out["network"]["listen"], "network.listen")
    if out["network"]["public_address"]:
        parse_address(out["network"]["public_address"], "network.public_address")
    for i, peer in enumerate(out["network"]["bootstrap"]):
        if not isinstance(peer, str):
            raise ConfigError("network.bootstrap[%d] must be a string ip:port" % i)
        parse_address(peer, "network.bootstrap[%d]" % i)
    if not 1 <= out["network"]["uplink_mbps"] <= 1000:
        raise ConfigError("network.uplink_mbps must be 1..1000 (Mbit/s of upload), not %r"
                          % out["network"]["uplink_mbps"])
    if out["metrics"]["enabled"]:
        parse_address(out["metrics"]["listen"], "metrics.listen")
    if out["keys"]["signer"] == "remote" and not out["keys"]["remote_signer"]:
        raise ConfigError("keys.remote_signer is required when keys.signer = \"remote\"")
    return out


def load_config(path):
    """Read and validate a TOML config; relative paths resolve under node.data_dir."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise ConfigError("cannot read config %s: %s" % (path, exc.strerror)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config %s is not valid TOML: %s" % (path, exc)) from None
    config = validate_config(doc)
    data_dir = os.path.abspath(os.path.expanduser(config["node"]["data_dir"]))
    config["node"]["data_dir"] = data_dir
    for section, key in (("keys", "keystore"), ("keys", "passphrase_file"), ("keys", "remote_secret_file"),
                         ("status", "socket")):
        value = config[section][key]
        if value and not os.path.isabs(value):
            config[section][key] = os.path.join(data_dir, value)
    return config


def render_config(config):
    """TOML text for a validated config (what `dusk-edge init` writes)."""
    lines = []
    for section, fields in config.items():
        lines.append("[%s]" % section)
        for key, value in fields.items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, list):
                text = "[%s]" % ", ".join('"%s"' % v for v in value)
            elif isinstance(value, int):
                text = str(value)
            else:
                text = '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append("%s = %s" % (key, text))
        lines.append("")
    return "\n".join(lines)
