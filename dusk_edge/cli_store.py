"""`dusk-edge store check|repair|stats --data-dir DIR`: field tools for the block store."""
import json
import sys

import click

from dusk_edge.core.errors import DuskEdgeError


def _open(data_dir, board=None):
    from dusk_edge.store import BlockStore, store_path

    caps = None
    if board:
        from dusk_edge.boards import load_board

        caps = load_board(board)["caps"]
    return BlockStore.open(store_path(data_dir), board_caps=caps)


def _fail(exc):
    click.echo("store: %s: %s" % (type(exc).__name__, exc), err=True)
    sys.exit(2)


@click.group("store")
def store_group():
    """Check, repair and inspect the block store (DATA_DIR/store)."""


@store_group.command("check")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False), help="node data directory")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def check_command(data_dir, as_json):
    """Verify every record; exit 1 while a height or snapshot is damaged."""
    try:
        with _open(data_dir) as store:
            report = store.check()
            report["recovery"] = store.recovery
            report["tip"] = store.index.tip
    except DuskEdgeError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True, default=str))
    else:
        click.echo("segments %d, records %d, tip %s" % (report["segments"], report["records"], report["tip"]))
        for event in report["recovery"]:
            click.echo("recovered: %s" % event)
        for region in report["damaged"]:
            click.echo("damaged: segment %(segment)d bytes %(offset)d..%(end)d" % region)
        if report["quarantined"]:
            click.echo("quarantined heights: %s (run `dusk-edge store repair`)"
                       % " ".join(map(str, report["quarantined"])))
        if report["snapshots_bad"]:
            click.echo("damaged snapshots at heights: %s" % report["snapshots_bad"])
        click.echo("store check: %s" % ("OK" if report["ok"] else "DAMAGED"))
    sys.exit(0 if report["ok"] else 1)


@store_group.command("repair")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False), help="node data directory")
@click.option("--from", "source", required=True, type=click.Path(exists=True, file_okay=False),
              help="data directory of a good copy (a backup, another node's store)")
def repair_command(data_dir, source):
    """Replace quarantined heights with the same blocks from a good copy."""
    try:
        with _open(data_dir) as store, _open(source) as good:
            store.check()
            for height in sorted(store.quarantine):
                block = good.block_by_height(height)
                if block is None or block.body is None:
                    click.echo("height %d: not in the good copy (or pruned there)" % height)
                    continue
                store.repair(height, block.header, block.body, block.block_hash, block.tx_ids,
                             block.label)
                click.echo("height %d: repaired" % height)
            left = sorted(store.quarantine)
    except DuskEdgeError as exc:
        _fail(exc)
    click.echo("store repair: %s" % ("OK" if not left else "still damaged: %s" % left))
    sys.exit(0 if not left else 1)


@store_group.command("stats")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False), help="node data directory")
@click.option("--board", default=None, help="board profile whose write budget applies")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def stats_command(data_dir, board, as_json):
    """Sizes, write accounting and the board's write budget."""
    try:
        with _open(data_dir, board) as store:
            stats = store.stats()
    except DuskEdgeError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(stats, sort_keys=True, default=str))
        return
    for key in sorted(stats):
        click.echo("%-28s %s" % (key, stats[key]))
