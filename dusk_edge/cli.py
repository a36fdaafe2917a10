"""The `dusk-edge` command line."""
import json
import sys

import click

from dusk_edge import __version__
from dusk_edge.core.errors import DuskEdgeError


class NamedErrorGroup(click.Group):
    """Turns a DuskEdgeError anywhere below into one clear line on stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DuskEdgeError as exc:
            click.echo("dusk-edge: error: %s: %s" % (type(exc).__name__, exc), err=True)
            ctx.exit(2)


@click.group(cls=NamedErrorGroup)
@click.version_option(__version__, prog_name="dusk-edge")
def main():
    """dusk-edge: a lean Dusk-architecture node for Raspberry-Pi-class boards."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def conformance(paths):
    """Run conformance vectors (files or folders of *.json)."""
    from dusk_edge.conformance import run_paths

    passed, failed = run_paths(list(paths), write=click.echo)
    sys.exit(0 if failed == 0 and passed > 0 else 1)


@main.command()
@click.option("--board", default=None, help="board profile name (default: detect)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def selfcheck(board, as_json):
    """Check the crypto backend, the C speedups and the board profile."""
    from dusk_edge.selfcheck import run_selfcheck

    report = run_selfcheck(board)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
    else:
        for key, value in report.items():
            click.echo("%-20s %s" % (key, value))
        click.echo("selfcheck: %s" % ("OK" if report["ok"] else "FAILED"))
    sys.exit(0 if report["ok"] else 1)


@main.command("run-main", hidden=True)
@click.pass_context
def run_main(ctx):
    """What `make run` runs: the self-check, then a 5-node devnet on loopback until Ctrl-C."""
    from dusk_edge.selfcheck import run_selfcheck

    report = run_selfcheck(None)
    click.echo("selfcheck: %s (speedups %s, board %s)" % ("OK" if report["ok"] else "FAILED", report["speedups"],
                                                       report["board"]))
    ctx.invoke(cli_node.devnet_cmd, nodes=5, blocks=0, data_dir="devnet-data", timeout_s=10 ** 9, no_live=False,
               port=9000)


from dusk_edge import cli_node  # noqa: E402  (node, devnet, status, init: issue 7)
from dusk_edge import cli_tx  # noqa: E402
for _command in cli_node.COMMANDS + cli_tx.COMMANDS:
    main.add_command(_command)


from dusk_edge import cli_keys  # noqa: E402  (keys and custody, issue 8)
main.add_command(cli_keys.keys_group)
main.add_command(cli_keys.signer_command)
from dusk_edge.cli_console import console as _console_group; main.add_command(_console_group)  # noqa: E402,E702 (issue 9)
from dusk_edge.cli_store import store_group as _store_group; main.add_command(_store_group)  # noqa: E402,E702 (issue 6)
from dusk_edge.genesis import genesis_group as _genesis_group; main.add_command(_genesis_group)  # noqa: E402,E702 (issue 4)
from dusk_edge.cli_wallet import wallet_group as _wallet_group; main.add_command(_wallet_group)  # noqa: E402,E702 (issue 11)
