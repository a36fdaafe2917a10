# Theory of operation: one command set for every console front end (the serial line in human or
# machine mode, and `dusk-edge console` over the node's UNIX socket). parse_line() turns a line
# of text into a Command; CommandSet.execute() checks arguments, calls the NodeControl object it
# was given (dusk_edge/console_api.py defines the interface) and returns plain data (dicts,
# lists, str, int, bool, None) that render.py prints as ASCII or machine mode sends as CBOR.
# Config values are validated here, before they reach the node, against CONFIG_KEYS.
from dusk_edge.core.errors import ConfigError, DuskEdgeError

MAX_LINE = 200
MAX_TOKENS = 8
MAX_LOG_LINES = 200
MAX_BLOCKS = 50


class CommandError(DuskEdgeError):
    """A console line names no command or gives it bad arguments."""


class Command:
    __slots__ = ("name", "args")

    def __init__(self, name, args):
        self.name = name
        self.args = args

    def __repr__(self):
        return "Command(%r, %r)" % (self.name, self.args)


# name: (min args, max args, usage, summary). Two-word names are matched before one-word ones.
COMMANDS = {
    "help": (0, 2, "help [command]", "list commands or explain one"),
    "status": (0, 0, "status", "node, chain, clock and board caps"),
    "peers": (0, 0, "peers", "connected peers"),
    "blocks": (0, 1, "blocks [n]", "the last n blocks (default 5, max %d)" % MAX_BLOCKS),
    "stake": (0, 0, "stake", "stake, eligibility and rewards"),
    "log tail": (0, 1, "log tail [n]", "the last n log lines (default 20, max %d)" % MAX_LOG_LINES),
    "config get": (0, 1, "config get [key]", "one config value, or all"),
    "config set": (2, 2, "config set <key> <value>", "change a config value (validated)"),
    "keys status": (0, 0, "keys status", "key backend, token presence, signing state"),
    "restart": (0, 0, "restart", "restart the node process"),
    "shutdown": (0, 0, "shutdown", "stop the node process"),
    "store check": (0, 0, "store check", "verify the block store's checksums"),
    "store repair": (0, 0, "store repair", "truncate a torn tail, quarantine bad records"),
    "store resync": (0, 1, "store resync [from_height]", "fetch blocks again from peers"),
    "snapshot restore": (0, 1, "snapshot restore [height]", "restore the latest (or a given) snapshot"),
    "clock set": (1, 1, "clock set <unix_seconds>", "set the clock when NTP is unreachable"),
    "log export": (0, 0, "log export", "write the logs to a file in the data directory"),
    "logout": (0, 0, "logout", "end this console session"),
}
_GROUPS = ("log", "config", "keys", "store", "snapshot", "clock")
# Repair commands go to NodeControl.repair(action, args) with checked integer arguments.
REPAIR = {
    "store check": None, "store repair": None, "store resync": (0, 1 << 40),
    "snapshot restore": (0, 1 << 40), "clock set": (1600000000, 4102444800), "log export": None,
}

# key: (kind, arg1, arg2). kinds: int (min, max), choice (values), bool, text (max length).
CONFIG_KEYS = {
    "log.level": ("choice", ("debug", "info", "warning", "error"), None),
    "log.json": ("bool", None, None),
    "node.name": ("text", 32, None),
    "peers.max": ("int", 8, 1000),
    "mempool.max_txs": ("int", 100, 1000000),
    "consensus.enabled": ("bool", None, None),
    "console.idle_logout_s": ("int", 30, 86400),
    "store.prune": ("bool", None, None),
    "store.snapshot_every": ("int", 10, 100000),
}


def parse_line(line):
    """The Command on ``line``, or None for a blank line. Raises CommandError."""
    if len(line) > MAX_LINE:
        raise CommandError("line too long (max %d characters)" % MAX_LINE)
    tokens = line.split()
    if not tokens:
        return None
    if len(tokens) > MAX_TOKENS:
        raise CommandError("too many words (max %d)" % MAX_TOKENS)
    tokens[0] = tokens[0].lower()
    name = None
    if len(tokens) >= 2 and tokens[0] in _GROUPS:
        name = tokens[0] + " " + tokens[1].lower()
        args = tokens[2:]
    if name not in COMMANDS:
        name = tokens[0]
        args = tokens[1:]
    return make_command(name, args)


def make_command(name, args):
    """A checked Command (machine mode builds them from frames). Raises CommandError."""
    if not isinstance(name, str) or name not in COMMANDS:
        if name in _GROUPS:
            raise CommandError("%s needs a subcommand: try 'help'" % name)
        raise CommandError("unknown command %r: try 'help'" % (name,))
    if not isinstance(args, list) or any(not isinstance(a, str) for a in args):
        raise CommandError("%s: arguments must be strings" % name)
    low, high, usage, _ = COMMANDS[name]
    if not low <= len(args) <= high:
        raise CommandError("usage: %s" % usage)
    return Command(name, args)


def validate_config(key, text):
    """The typed value of ``text`` for config ``key``. Raises ConfigError naming key and range."""
    if key not in CONFIG_KEYS:
        raise ConfigError("unknown config key %r (known: %s)" % (key, ", ".join(sorted(CONFIG_KEYS))))
    kind, a, b = CONFIG_KEYS[key]
    if kind == "int":
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not a <= value <= b:
            raise ConfigError("%s must be an integer in %d..%d" % (key, a, b))
        return value
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "on", "yes", "1"):
            return True
        if lowered in ("false", "off", "no", "0"):
            return False
        raise ConfigError("%s must be true or false" % key)
    if kind == "choice":
        if text not in a:
            raise ConfigError("%s must be one of %s" % (key, ", ".join(a)))
        return text
    if not 1 <= len(text) <= a or any(not 32 < ord(c) < 127 for c in text):
        raise ConfigError("%s must be 1..%d printable ASCII characters without spaces" % (key, a))
    return text


def _count(args, default, maximum, what):
    if not args:
        return default
    try:
        n = int(args[0])
    except ValueError:
        n = 0
    if not 1 <= n <= maximum:
        raise CommandError("%s must be a number in 1..%d" % (what, maximum))
    return n


def help_text(args):
    """Help as data: the command table, or one command's usage."""
    if args:
        name = " ".join(args).lower()
        if name not in COMMANDS:
            raise CommandError("no command %r" % name)
        return {"usage": COMMANDS[name][2], "summary": COMMANDS[name][3]}
    return [{"usage": COMMANDS[n][2], "summary": COMMANDS[n][3]} for n in COMMANDS]


class CommandSet:
    # Executes checked Commands against a NodeControl. The session handles "logout" itself.
    __slots__ = ("control",)

    def __init__(self, control):
        self.control = control

    def execute(self, command):
        """Plain data for ``command``. Raises CommandError / ConfigError / the control's errors."""
        name, args, control = command.name, command.args, self.control
        if name == "help":
            return help_text(args)
        if name == "status":
            return control.status()
        if name == "peers":
            return control.peers()
        if name == "blocks":
            return control.blocks(_count(args, 5, MAX_BLOCKS, "n"))
        if name == "stake":
            return control.stake_info()
        if name == "log tail":
            return control.log_tail(_count(args, 20, MAX_LOG_LINES, "n"))
        if name == "config get":
            if args and args[0] not in CONFIG_KEYS:
                validate_config(args[0], "")  # raises the unknown-key error
            return control.config_get(args[0] if args else None)
        if name == "config set":
            value = validate_config(args[0], args[1])
            control.config_set(args[0], value)
            return {args[0]: value}
        if name == "keys status":
            return control.keys_status()
        if name in REPAIR:
            return self._repair(name, args)
        if name == "restart":
            control.restart()
            return "restart requested"
        if name == "shutdown":
            control.shutdown()
            return "shutdown requested"
        raise CommandError("%s is handled by the session" % name)

    def _repair(self, name, args):
        values = []
        if args:
            low, high = REPAIR[name]
            try:
                value = int(args[0])
            except ValueError:
                value = None
            if value is None or not low <= value <= high:
                raise CommandError("%s: argument must be an integer in %d..%d" % (name, low, high))
            values.append(value)
        repair = getattr(self.control, "repair", None)
        if repair is None:
            raise CommandError("this node does not support repair commands")
        return repair(name, values)
