"""Live terminal view of a devnet (rich): one row per node, refreshed from each node's socket."""
from rich.table import Table

from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.ops.status_client import query

COLUMNS = ("node", "pid", "height", "final", "tip label", "iteration", "peers", "step ms (p/v/r)", "mempool")


def poll_status(nodes, socket_paths, timeout=0.5):
    """{name: status dict or None} for every node; a dead or busy node gives None."""
    out = {}
    for node in nodes:
        try:
            out[node.name] = query(socket_paths[node.name], "status", timeout=timeout) if node.running else None
        except DuskEdgeError:
            out[node.name] = None
    return out


def _steps(status):
    steps = status.get("last_step_ms") or {}
    return "/".join(str(steps.get(k, "-")) for k in ("proposal", "validation", "ratification"))


def render_table(nodes, statuses, title="dusk-edge devnet"):
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="right" if column not in ("node", "tip label") else "left")
    for node in nodes:
        status = statuses.get(node.name)
        if status is None:
            state = "stopped" if not node.running else "starting"
            table.add_row(node.name, str(node.pid or "-"), state, "", "", "", "", "", "")
            continue
        table.add_row(
            node.name, str(node.pid), str(status.get("height", "?")), str(status.get("final_height", "?")),
            str(status.get("tip_label", "?")), str(status.get("iteration", "?")), str(status.get("peers", "?")),
            _steps(status), str(status.get("mempool", "?")),
        )
    return table


def min_final_height(statuses):
    heights = [s.get("final_height", 0) for s in statuses.values() if s is not None]
    return min(heights) if heights and len(heights) == len(statuses) else 0


def summary_lines(nodes, statuses, elapsed_s):
    lines = ["devnet summary after %.1f s:" % elapsed_s]
    for node in nodes:
        s = statuses.get(node.name) or {}
        lines.append("  %-8s height %-5s final %-5s tip %s" % (
            node.name, s.get("height", "?"), s.get("final_height", "?"), (s.get("tip_hash") or "?")[:16]))
    return lines
