"""CLI commands of the node itself: run, devnet, status, init."""
import json
import os
import signal
import sys
import time

import click


@click.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(), help="node config TOML")
def run_cmd(config_path):
    """Run a node until SIGTERM / Ctrl-C."""
    from dusk_edge.config import load_config
    from dusk_edge.node_runner import run_node
    from dusk_edge.ops.logs import setup_logging

    config = load_config(config_path)
    setup_logging(config["log"]["format"], config["log"]["level"])
    sys.exit(run_node(config))


@click.command("status")
@click.option("--socket", "socket_path", default=None, type=click.Path(), help="node socket")
@click.option("--config", "config_path", default=None, type=click.Path(), help="node config TOML")
@click.option("--json", "as_json", is_flag=True)
def status_cmd(socket_path, config_path, as_json):
    """Show a running node's status (from its local socket)."""
    from dusk_edge.config import load_config
    from dusk_edge.ops.status_client import query

    if socket_path is None:
        if config_path is None:
            raise click.UsageError("give --socket or --config")
        socket_path = load_config(config_path)["status"]["socket"]
    status = query(socket_path, "status")
    if as_json:
        click.echo(json.dumps(status, sort_keys=True))
        return
    for key in ("name", "height", "final_height", "tip_label", "round", "iteration", "peers", "mempool"):
        click.echo("%-14s %s" % (key, status.get(key)))
    click.echo("%-14s %s" % ("bandwidth", bandwidth_line(status.get("bandwidth") or {})))


def bandwidth_line(view):
    """One line: broadcast mode, bytes up/down, and the edge mode's per-block upload budget use."""
    line = "%s, sent %.1f MB, received %.1f MB" % (
        view.get("mode", "?"), view.get("bytes_sent", 0) / 1e6, view.get("bytes_received", 0) / 1e6)
    if "budget_copies" in view:
        line += ", upload budget %s copies per block (max used %s%%)" % (
            view["budget_copies"], view.get("max_budget_used", 0))
    return line


@click.command("init")
@click.option("--data-dir", required=True, type=click.Path())
@click.option("--genesis", default="devnet", help="preset name or genesis TOML path")
@click.option("--listen", default="0.0.0.0:9000")
@click.option("--bootstrap", multiple=True, help="ip:port of a bootstrap node (repeatable)")
@click.option("--name", default="node")
def init_cmd(data_dir, genesis, listen, bootstrap, name):
    """Write a node config (keys come from `dusk-edge keys generate`)."""
    from dusk_edge.config import render_config, validate_config
    from dusk_edge.genesis import load_genesis

    load_genesis(genesis)
    data_dir = os.path.abspath(data_dir)
    config = validate_config({"node": {"name": name, "data_dir": data_dir, "genesis": genesis},
                              "network": {"listen": listen, "bootstrap": list(bootstrap)}})
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    path = os.path.join(data_dir, "config.toml")
    if os.path.exists(path):
        raise click.ClickException("%s exists; not overwriting" % path)
    with open(path, "w") as f:
        f.write(render_config(config))
    click.echo("wrote %s; next: dusk-edge keys generate --keystore %s/keys/consensus.key" % (path, data_dir))


@click.command("devnet")
@click.option("--nodes", default=5, show_default=True, type=click.IntRange(1, 9))
@click.option("--blocks", default=0, type=click.IntRange(0), help="stop after N Final blocks (0: run until Ctrl-C)")
@click.option("--data-dir", default="devnet-data", show_default=True, type=click.Path())
@click.option("--timeout", "timeout_s", default=600, show_default=True, help="give up after this many seconds")
@click.option("--no-live", is_flag=True, help="plain progress lines instead of the live table")
@click.option("--port", default=9000, show_default=True, type=click.IntRange(1, 65535), help="UDP port on 127.0.0.x")
def devnet_cmd(nodes, blocks, data_dir, timeout_s, no_live, port):
    """Start a local devnet of separate node processes on 127.0.0.x with a live view."""
    from rich.console import Console
    from rich.live import Live

    from dusk_edge.devnet import start_devnet
    from dusk_edge.devnet_view import min_final_height, poll_status, render_table, summary_lines

    stop_on_signals(signal.SIGTERM, signal.SIGHUP)  # `kill` or a closed terminal stops every node too
    group, sockets = start_devnet(data_dir, nodes, port)
    started = time.monotonic()
    statuses = {}
    code = 0
    console = Console()
    live = None if no_live or not console.is_terminal else Live(console=console, refresh_per_second=4)
    last_line = None
    try:
        if live is not None:
            live.start()
        while True:
            statuses = poll_status(group.nodes, sockets)
            if live is not None:
                live.update(render_table(group.nodes, statuses))
            else:
                line = "devnet: final heights %s" % [s.get("final_height") if s else None for s in statuses.values()]
                if line != last_line:
                    click.echo(line)
                    last_line = line
            if blocks and min_final_height(statuses) >= blocks:
                break
            if len(group.dead()) == len(group.nodes):
                click.echo("devnet: every node exited; see %s/node-*/node.log" % data_dir, err=True)
                code = 1
                break
            if time.monotonic() - started > timeout_s:
                click.echo("devnet: timed out after %d s" % timeout_s, err=True)
                code = 1
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("devnet: stopping")
    finally:
        if live is not None:
            live.stop()
        group.stop_all()
    for line in summary_lines(group.nodes, statuses, time.monotonic() - started):
        click.echo(line)
    sys.exit(code)


def stop_on_signals(*signums):
    """Turn these signals into KeyboardInterrupt, so the finally blocks that stop child processes
    run (by default SIGTERM ends Python at once and would orphan the nodes)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    for signum in signums:
        signal.signal(signum, interrupt)


COMMANDS = (run_cmd, status_cmd, init_cmd, devnet_cmd)
