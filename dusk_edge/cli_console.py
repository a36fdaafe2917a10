"""`dusk-edge console`: the console command set over the node's local UNIX socket, plus the
serial console process (`console serial`), the passphrase tool and a stand-in node
(`console demo-node`) until the real node is wired. docs/console.md describes all of them."""
import asyncio
import os
import random
import signal
import sys
import threading

import click

from dusk_edge.console_api import (ControlServer, InProcessNodeControl, UnixControlClient, default_socket_path,
                                   demo_state, hash_passphrase, make_verifier)
from dusk_edge.core.console.login import LoginGate
from dusk_edge.core.console.session import PROMPT, Session
from dusk_edge.core.errors import DuskEdgeError


def _strip_prompt(text):
    return text[:-len(PROMPT)] if text.endswith(PROMPT) else text


@click.group("console", invoke_without_command=True)
@click.option("--socket", "socket_path", default=None, help="node socket (default: $DUSK_EDGE_SOCKET or <data_dir>/node.sock)")
@click.option("-c", "--command", "commands", multiple=True, help="run this command and exit (repeatable)")
@click.option("--timeout", default=5.0, show_default=True, help="seconds to wait for the node")
@click.pass_context
def console(ctx, socket_path, commands, timeout):
    """Node console over the local socket: the same commands as the serial console."""
    if ctx.invoked_subcommand:
        return
    control = UnixControlClient(socket_path or default_socket_path(), timeout)
    session = Session(control, gate=None, echo=False, banner=None if commands else "dusk-edge console (type help)")
    if commands:
        failed = False
        for line in commands:
            session.data_to_send()
            session.receive_data(line.encode("ascii", "replace") + b"\n", 0)
            out = _strip_prompt(session.data_to_send().decode("ascii"))
            failed = failed or out.startswith("error:")
            click.echo(out.replace("\r\n", "\n"), nl=False)
        sys.exit(1 if failed else 0)
    _interactive(session)


def _interactive(session):
    banner = _strip_prompt(session.data_to_send().decode("ascii"))
    click.echo(banner.replace("\r\n", "\n"), nl=False)
    while not session.closed:
        try:
            line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            click.echo("")
            return
        session.receive_data(line.encode("ascii", "replace") + b"\n", 0)
        click.echo(_strip_prompt(session.data_to_send().decode("ascii")).replace("\r\n", "\n"), nl=False)


@console.command("serial")
@click.option("--port", default=None, help="tty device (default: the board profile's uart)")
@click.option("--baud", default=115200, show_default=True, type=int)
@click.option("--socket", "socket_path", default=None, help="node socket")
@click.option("--passphrase-file", required=True, type=click.Path(dir_okay=False),
              help="file holding a scrypt or sha256i record (see `console hash-passphrase`)")
@click.option("--max-failures", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--lockout-s", default=60, show_default=True, type=click.IntRange(1, 86400))
@click.option("--idle-logout-s", default=600, show_default=True, type=click.IntRange(5, 86400))
@click.option("--node-timeout", default=3.0, show_default=True, help="seconds before 'node not responding'")
def serial_command(port, baud, socket_path, passphrase_file, max_failures, lockout_s, idle_logout_s, node_timeout):
    """Run the serial console on a tty (its own process, so it answers when the node hangs)."""
    from dusk_edge.boards import detect_board
    from dusk_edge.drivers.serial_console import SerialConsole

    try:
        with open(passphrase_file) as f:
            verify = make_verifier(f.read())
        port = port or detect_board()["uart"]
        path = socket_path or default_socket_path()
    except (OSError, DuskEdgeError) as exc:
        raise click.ClickException(str(exc))
    gate = LoginGate(verify, max_failures, lockout_s * 1000)
    control = UnixControlClient(path, node_timeout)

    def make_session(now):
        return Session(control, gate=gate, now=now, idle_logout_ms=idle_logout_s * 1000,
                       initial_seq=random.SystemRandom().randrange(65536))

    try:
        driver = SerialConsole(port, baud, make_session)
    except ValueError as exc:
        raise click.ClickException(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: driver.stop())
    signal.signal(signal.SIGINT, lambda *_: driver.stop())
    thread = threading.Thread(target=driver.run, name="serial-console", daemon=True)
    thread.start()
    click.echo("serial console on %s at %d baud, node socket %s" % (port, baud, path), err=True)
    while thread.is_alive():
        thread.join(0.5)


@console.command("hash-passphrase")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the passphrase from stdin")
def hash_passphrase_command(from_stdin):
    """Print a scrypt record for --passphrase-file."""
    if from_stdin:
        passphrase = sys.stdin.readline().rstrip("\r\n")
    else:
        passphrase = click.prompt("passphrase", hide_input=True, confirmation_prompt=True)
    if len(passphrase) < 8:
        raise click.ClickException("passphrase must be at least 8 characters")
    click.echo(hash_passphrase(passphrase))


@console.command("demo-node", hidden=True)
@click.option("--socket", "socket_path", required=True)
@click.option("--board", default=None, help="board profile whose caps status reports")
def demo_node(socket_path, board):
    """Host an in-process NodeControl with demo data on the socket (stand-in for the node)."""
    from dusk_edge.boards import detect_board, load_board

    try:
        profile = load_board(board) if board else detect_board()
    except DuskEdgeError as exc:
        raise click.ClickException(str(exc))
    control = InProcessNodeControl(demo_state(), board=profile)

    async def serve():
        server = await ControlServer(control, socket_path).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        click.echo("demo node on %s (board %s)" % (socket_path, profile["name"]), err=True)
        await stop.wait()
        await server.close()

    os.makedirs(os.path.dirname(os.path.abspath(socket_path)), exist_ok=True)
    asyncio.run(serve())
