"""Named genesis presets (DESIGN.md §4): `dusk` (PROTOCOL.md constants) and `devnet` (durations / 5,
epoch 20, Reed-Solomon). Load them with dusk_edge.genesis.load_genesis("dusk" | "devnet")."""
import os

PRESETS = ("dusk", "devnet")


def preset_path(name):
    """Path of a preset's genesis TOML; KeyError-free: unknown names return None."""
    if name not in PRESETS:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".toml")
