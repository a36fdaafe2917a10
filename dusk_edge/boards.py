"""Board profiles (hw/boards/*.toml, format in hw/boards/FORMAT.md): what the board is and the caps
the node applies on it. A bad profile raises ConfigError naming the field and the allowed values."""
import os
import sys
import tomllib

from dusk_edge.core.errors import ConfigError

_ARCHES = ("aarch64", "armv7l", "x86_64", "any")
_STORAGE = ("sd", "emmc", "nvme", "usb", "ssd")
_TOP = {
    "format": int, "name": str, "title": str, "match": list, "ram_mb": int, "cores": int,
    "arch": str, "storage": str, "uart": str, "data_dir": str, "caps": dict,
}
_CAPS_MIN = {
    "memory_mb": 64, "block_cache_mb": 1, "mempool_max_txs": 100,
    "write_budget_mb_per_day": 1, "snapshot_every": 10, "peers_max": 8,
}


def board_dirs():
    """Where profiles are looked for: $DUSK_EDGE_BOARDS, the source tree, the installed share dir."""
    dirs = []
    if os.environ.get("DUSK_EDGE_BOARDS"):
        dirs.append(os.environ["DUSK_EDGE_BOARDS"])
    here = os.path.dirname(os.path.abspath(__file__))
    dirs.append(os.path.join(os.path.dirname(here), "hw", "boards"))
    dirs.append(os.path.join(sys.prefix, "share", "dusk-edge", "boards"))
    return [d for d in dirs if os.path.isdir(d)]


def list_boards():
    names = set()
    for d in board_dirs():
        names.update(n[:-5] for n in os.listdir(d) if n.endswith(".toml"))
    return sorted(names)


def _check_type(field, value, kind):
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError("board profile: %s must be an integer" % field)
    if not isinstance(value, kind):
        raise ConfigError("board profile: %s must be of type %s" % (field, kind.__name__))


def validate_board(profile):
    """Check a parsed profile; returns it. Raises ConfigError naming the first bad field."""
    for key in profile:
        if key not in _TOP:
            raise ConfigError("board profile: unknown field %r (allowed: %s)" % (key, ", ".join(sorted(_TOP))))
    for key, kind in _TOP.items():
        if key not in profile:
            raise ConfigError("board profile: missing field %r" % key)
        _check_type(key, profile[key], kind)
    if profile["format"] != 1:
        raise ConfigError("board profile: format must be 1")
    if profile["arch"] not in _ARCHES:
        raise ConfigError("board profile: arch must be one of %s" % ", ".join(_ARCHES))
    if profile["storage"] not in _STORAGE:
        raise ConfigError("board profile: storage must be one of %s" % ", ".join(_STORAGE))
    if profile["ram_mb"] < 256 or profile["cores"] < 1:
        raise ConfigError("board profile: ram_mb must be >= 256 and cores >= 1")
    caps = profile["caps"]
    allowed = sorted(list(_CAPS_MIN) + ["prune"])
    for key in caps:
        if key not in allowed:
            raise ConfigError("board profile: unknown field caps.%s (allowed: %s)" % (key, ", ".join(allowed)))
    for key, minimum in _CAPS_MIN.items():
        if key not in caps:
            raise ConfigError("board profile: missing field caps.%s" % key)
        _check_type("caps." + key, caps[key], int)
        if caps[key] < minimum:
            raise ConfigError("board profile: caps.%s must be >= %d" % (key, minimum))
    if not isinstance(caps.get("prune"), bool):
        raise ConfigError("board profile: caps.prune must be true or false")
    if caps["memory_mb"] > profile["ram_mb"]:
        raise ConfigError("board profile: caps.memory_mb must not exceed ram_mb")
    return profile


def load_board(name_or_path):
    """Load a profile by name (``pi4``) or by path to a .toml file."""
    path = name_or_path if name_or_path.endswith(".toml") else None
    if path is None:
        for d in board_dirs():
            candidate = os.path.join(d, name_or_path + ".toml")
            if os.path.exists(candidate):
                path = candidate
                break
    if path is None or not os.path.exists(path):
        raise ConfigError("unknown board %r (known: %s)" % (name_or_path, ", ".join(list_boards())))
    try:
        with open(path, "rb") as f:
            profile = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("board profile %s: %s" % (path, exc)) from None
    profile = validate_board(profile)
    profile["data_dir"] = os.path.expanduser(profile["data_dir"])
    return profile


def detect_board(model_path="/proc/device-tree/model"):
    """The profile matching this machine's device-tree model, else ``generic``."""
    try:
        with open(model_path, "rb") as f:
            model = f.read().rstrip(b"\x00").decode("ascii", "replace")
    except OSError:
        model = ""
    for name in list_boards():
        profile = load_board(name)
        if any(m and m in model for m in profile["match"]):
            return profile
    return load_board("generic")
