"""`dusk-edge keys ...` and `dusk-edge signer`: key custody from the command line.

Secrets come from files, environment variables or prompts and are never echoed or logged.
Every custody failure exits with status 2 and one line naming the error class.
"""
import functools
import json
import logging
import os
import sys

import click

from dusk_edge.core.errors import DuskEdgeError

DEFAULT_KEK_LABEL = "dusk-edge-kek"
DEFAULT_OWNER_LABEL = "dusk-edge-owner"


def _fail_cleanly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DuskEdgeError as exc:
            click.echo("error: %s: %s" % (type(exc).__name__, exc), err=True)
            sys.exit(2)
    return wrapper


def _token_options(fn):
    for option in reversed((
            click.option("--token", "token_label", default=None, help="PKCS#11 token label"),
            click.option("--pin-file", default=None, type=click.Path(), help="file holding the PIN"),
            click.option("--pin-env", default=None, help="environment variable holding the PIN"),
            click.option("--module", default=None, help="PKCS#11 module (.so) path"))):
        fn = option(fn)
    return fn


def _passphrase_options(fn):
    fn = click.option("--passphrase-env", default=None, help="environment variable with the passphrase")(fn)
    return click.option("--passphrase-file", default=None, type=click.Path(),
                        help="file holding the passphrase (first line)")(fn)


def _read_passphrase(passphrase_file, passphrase_env, confirm=False, what="keystore passphrase"):
    from dusk_edge.keys.errors import KeystoreError
    if passphrase_file:
        try:
            with open(passphrase_file, encoding="utf-8") as f:
                text = f.readline().rstrip("\r\n")
        except OSError as exc:
            raise KeystoreError(
                "cannot read passphrase file %s (%s)" % (passphrase_file, exc.strerror)) from None
    elif passphrase_env:
        text = os.environ.get(passphrase_env, "")
    elif sys.stdin.isatty():
        text = click.prompt(what, hide_input=True, confirmation_prompt=confirm)
    else:
        raise KeystoreError("no passphrase source: use --passphrase-file or --passphrase-env")
    if not text:
        raise KeystoreError("the passphrase is empty")
    return text


def _open_token(token_label, pin_file, pin_env, module):
    from dusk_edge.keys.pkcs11_token import open_token, resolve_pin
    pin = resolve_pin(pin_file, pin_env, prompt=sys.stdin.isatty(), label=token_label)
    return open_token(token_label, pin, module)


def _seal(key, token_label, pin_file, pin_env, module, kek_label, passphrase_file,
          passphrase_env, scrypt_n, owner_kind=None, owner_label=DEFAULT_OWNER_LABEL):
    """Keystore document for ``key``; with a token also (optionally) generates the owner key."""
    from dusk_edge.keys import keystore
    extra = {}
    if token_label:
        with _open_token(token_label, pin_file, pin_env, module) as token:
            document = keystore.seal_with_token(key, token, kek_label)
            if owner_kind:
                extra["owner_public_key"] = token.generate_owner_key(owner_label, owner_kind).hex()
                extra["owner_kind"] = owner_kind
                extra["owner_label"] = owner_label
        return document, extra
    passphrase = _read_passphrase(passphrase_file, passphrase_env, confirm=True)
    params = dict(keystore.DEFAULT_SCRYPT, n=scrypt_n) if scrypt_n else None
    return keystore.seal_with_passphrase(key, passphrase, params), extra


def unlock_keystore(path, passphrase_file=None, passphrase_env=None, pin_file=None, pin_env=None,
                    module=None):
    """Open a keystore file whatever its seal; returns the ConsensusKey."""
    from dusk_edge.keys import keystore
    document = keystore.read_keystore(path)
    seal = document["seal"]
    if seal["scheme"] == keystore.SCHEME_PKCS11:
        with _open_token(seal["token_label"], pin_file, pin_env, module) as token:
            return keystore.unseal(document, token=token)
    return keystore.unseal(document, passphrase=_read_passphrase(passphrase_file, passphrase_env))


@click.group("keys")
def keys_group():
    """Consensus keystore, token owner key and double-sign guard."""


def _seal_options(fn):
    fn = _token_options(fn)
    fn = _passphrase_options(fn)
    fn = click.option("--kek-label", default=DEFAULT_KEK_LABEL, help="AES key label in the token")(fn)
    fn = click.option("--scrypt-n", type=int, default=None, hidden=True)(fn)
    fn = click.option("--force", is_flag=True, help="overwrite an existing keystore")(fn)
    return click.option("--keystore", "keystore_path", required=True, type=click.Path())(fn)


def _write_new(keystore_path, force, document, extra):
    from dusk_edge.keys import keystore
    if os.path.exists(keystore_path) and not force:
        raise click.ClickException("%s exists (use --force to replace it)" % keystore_path)
    keystore.write_keystore(keystore_path, document)
    out = {"keystore": keystore_path, "public_key": document["public_key"],
           "scheme": document["seal"]["scheme"]}
    out.update(extra)
    click.echo(json.dumps(out, sort_keys=True))


@keys_group.command("generate")
@_seal_options
@click.option("--owner-key", "owner_kind", type=click.Choice(["ed25519", "p256", "none"]),
              default="ed25519", help="owner key generated in the token (token seal only)")
@click.option("--owner-label", default=DEFAULT_OWNER_LABEL)
@_fail_cleanly
def keys_generate(keystore_path, force, scrypt_n, kek_label, passphrase_file, passphrase_env,
                  token_label, pin_file, pin_env, module, owner_kind, owner_label):
    """Generate a BLS consensus key, sealed by passphrase or by a token's AES key."""
    from dusk_edge.keys import keystore
    key = keystore.generate_consensus_key()
    owner = None if owner_kind == "none" else owner_kind
    document, extra = _seal(key, token_label, pin_file, pin_env, module, kek_label,
                            passphrase_file, passphrase_env, scrypt_n, owner, owner_label)
    _write_new(keystore_path, force, document, extra)


@keys_group.command("import")
@_seal_options
@click.option("--secret-file", required=True, type=click.Path(),
              help="file with the 32-byte secret key (hex or raw, mode 0600)")
@_fail_cleanly
def keys_import(keystore_path, force, scrypt_n, kek_label, passphrase_file, passphrase_env,
                token_label, pin_file, pin_env, module, secret_file):
    """Import an existing BLS secret key into a new keystore."""
    from dusk_edge.keys.errors import KeystoreFormatError
    from dusk_edge.keys.keystore import ConsensusKey
    from dusk_edge.keys.private_files import read_private_file
    raw = read_private_file(secret_file, limit=200)
    try:
        secret = bytes.fromhex(raw.decode("ascii").strip()) if len(raw) != 32 else raw
        key = ConsensusKey(secret)
    except (ValueError, DuskEdgeError):
        raise KeystoreFormatError(
            "%s does not hold a valid 32-byte BLS secret key" % secret_file) from None
    document, extra = _seal(key, token_label, pin_file, pin_env, module, kek_label,
                            passphrase_file, passphrase_env, scrypt_n)
    _write_new(keystore_path, force, document, extra)


@keys_group.command("export-public")
@click.option("--keystore", "keystore_path", required=True, type=click.Path())
@_token_options
@click.option("--owner-label", default=DEFAULT_OWNER_LABEL)
@click.option("--owner-key", "owner_kind", type=click.Choice(["ed25519", "p256"]), default="ed25519")
@_fail_cleanly
def keys_export_public(keystore_path, token_label, pin_file, pin_env, module, owner_label, owner_kind):
    """Print the consensus public key (and with --token the owner public key) as JSON."""
    from dusk_edge.keys import keystore
    document = keystore.read_keystore(keystore_path)
    out = {"public_key": document["public_key"]}
    if token_label:
        with _open_token(token_label, pin_file, pin_env, module) as token:
            out["owner_public_key"] = token.owner_public_key(owner_label, owner_kind).hex()
            out["owner_kind"] = owner_kind
    click.echo(json.dumps(out, sort_keys=True))


@keys_group.command("rotate")
@click.option("--keystore", "keystore_path", required=True, type=click.Path())
@_passphrase_options
@_token_options
@click.option("--new-passphrase-file", default=None, type=click.Path())
@click.option("--new-passphrase-env", default=None)
@click.option("--to-token", default=None, help="re-seal with this token's AES key instead")
@click.option("--kek-label", default=DEFAULT_KEK_LABEL, help="AES key label for --to-token")
@click.option("--scrypt-n", type=int, default=None, hidden=True)
@_fail_cleanly
def keys_rotate(keystore_path, passphrase_file, passphrase_env, token_label, pin_file, pin_env,
                module, new_passphrase_file, new_passphrase_env, to_token, kek_label, scrypt_n):
    """Re-seal the same consensus key: new salt and nonce, new passphrase, or a (new) token key."""
    from dusk_edge.keys import keystore
    key = unlock_keystore(keystore_path, passphrase_file, passphrase_env, pin_file, pin_env, module)
    if to_token:
        with _open_token(to_token, pin_file, pin_env, module) as token:
            document = keystore.seal_with_token(key, token, kek_label)
    else:
        passphrase = _read_passphrase(new_passphrase_file, new_passphrase_env, confirm=True,
                                      what="new keystore passphrase")
        params = dict(keystore.DEFAULT_SCRYPT, n=scrypt_n) if scrypt_n else None
        document = keystore.seal_with_passphrase(key, passphrase, params)
    keystore.write_keystore(keystore_path, document)
    click.echo(json.dumps({"keystore": keystore_path, "public_key": document["public_key"],
                           "scheme": document["seal"]["scheme"]}, sort_keys=True))


@keys_group.command("status")
@click.option("--keystore", "keystore_path", required=True, type=click.Path())
@click.option("--guard", "guard_path", default=None, type=click.Path(), help="guard.bin to inspect")
@click.option("--pin-file", default=None, type=click.Path(), help="check the token with this PIN")
@click.option("--pin-env", default=None)
@click.option("--module", default=None)
@_fail_cleanly
def keys_status(keystore_path, guard_path, pin_file, pin_env, module):
    """Keystore summary (never the secret), token reachability and guard state, as JSON."""
    from dusk_edge.keys import keystore
    from dusk_edge.keys.errors import TokenError
    from dusk_edge.keys.guard import DoubleSignGuard
    document = keystore.read_keystore(keystore_path)
    out = {"keystore": keystore.describe(document)}
    if document["seal"]["scheme"] == keystore.SCHEME_PKCS11 and (pin_file or pin_env):
        try:
            with _open_token(document["seal"]["token_label"], pin_file, pin_env, module) as token:
                keystore.unseal(document, token=token)
            out["token"] = "ok: unseals the keystore"
        except (TokenError, keystore.KeystoreTamperedError) as exc:
            out["token"] = "%s: %s" % (type(exc).__name__, exc)
    if guard_path:
        with DoubleSignGuard(guard_path, bytes.fromhex(document["public_key"])) as guard:
            out["guard"] = guard.status()
    click.echo(json.dumps(out, sort_keys=True))


@keys_group.command("guard-export")
@click.option("--keystore", "keystore_path", required=True, type=click.Path())
@click.option("--guard", "guard_path", required=True, type=click.Path())
@click.option("--out", "out_path", required=True, type=click.Path())
@_fail_cleanly
def keys_guard_export(keystore_path, guard_path, out_path):
    """Write the guard history as interchange JSON (docs/guard-format.md). Stop the signer first."""
    from dusk_edge.keys import keystore
    from dusk_edge.keys.guard import DoubleSignGuard
    from dusk_edge.keys.private_files import write_private_file
    pk = bytes.fromhex(keystore.read_keystore(keystore_path)["public_key"])
    with DoubleSignGuard(guard_path, pk) as guard:
        document = guard.export_interchange()
    write_private_file(out_path, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
    click.echo(json.dumps({"exported": len(document["entries"]), "floor": document["floor"]}))


@keys_group.command("guard-import")
@click.option("--keystore", "keystore_path", required=True, type=click.Path())
@click.option("--guard", "guard_path", required=True, type=click.Path())
@click.option("--in", "in_path", required=True, type=click.Path(exists=True))
@_fail_cleanly
def keys_guard_import(keystore_path, guard_path, in_path):
    """Merge an interchange JSON into the guard; conflicting slots become blocked."""
    from dusk_edge.keys import keystore
    from dusk_edge.keys.guard import DoubleSignGuard, load_interchange_file
    pk = bytes.fromhex(keystore.read_keystore(keystore_path)["public_key"])
    with DoubleSignGuard(guard_path, pk) as guard:
        written = guard.import_interchange(load_interchange_file(in_path))
    click.echo(json.dumps({"imported_records": written}))


@keys_group.command("signer-secret")
@click.argument("path", type=click.Path())
@_fail_cleanly
def keys_signer_secret(path):
    """Create a random 32-byte shared secret file (0600) for the remote signer."""
    from dusk_edge.keys.private_files import write_private_file
    if os.path.exists(path):
        raise click.ClickException("%s exists" % path)
    write_private_file(path, (os.urandom(32).hex() + "\n").encode())
    click.echo(json.dumps({"secret_file": path}))


def read_shared_secret(path):
    """The remote signer's shared secret from a 0600 file (hex, or raw bytes)."""
    from dusk_edge.keys.private_files import read_private_file
    raw = read_private_file(path, limit=1024)
    try:
        return bytes.fromhex(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return raw


@click.command("signer")
@click.option("--keystore", "keystore_path", required=True, type=click.Path())
@click.option("--guard-dir", required=True, type=click.Path(file_okay=False),
              help="directory for guard.bin and audit.log")
@click.option("--secret-file", required=True, type=click.Path(), help="shared secret (0600)")
@click.option("--unix", "unix_path", default=None, type=click.Path(), help="UNIX socket to serve")
@click.option("--serial", "serial_device", default=None, help="serial device to serve")
@click.option("--baud", default=115200)
@click.option("--listen-ms", default=0, type=int,
              help="duplicate-instance listening window before signing (the node forwards votes)")
@_passphrase_options
@click.option("--pin-file", default=None, type=click.Path())
@click.option("--pin-env", default=None)
@click.option("--module", default=None)
@_fail_cleanly
def signer_command(keystore_path, guard_dir, secret_file, unix_path, serial_device, baud,
                   listen_ms, passphrase_file, passphrase_env, pin_file, pin_env, module):
    """Serve BLS consensus signing (guarded, audited) over a UNIX socket or a serial line."""
    import asyncio

    from dusk_edge.keys.remote_server import serve_serial, serve_unix
    from dusk_edge.keys.signer import open_local_signer
    if bool(unix_path) == bool(serial_device):
        raise click.UsageError("give exactly one of --unix or --serial")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secret = read_shared_secret(secret_file)
    key = unlock_keystore(keystore_path, passphrase_file, passphrase_env, pin_file, pin_env, module)
    signer = open_local_signer(key, guard_dir, listen_ms)
    logging.getLogger("dusk_edge.keys.signer").info(
        "signer: key %s… unlocked, guard %s", key.public_key.hex()[:16], signer.guard.status())
    if unix_path:
        coroutine = serve_unix(unix_path, signer, secret)
    else:
        coroutine = serve_serial(serial_device, signer, secret, baudrate=baud)
    try:
        asyncio.run(coroutine)
    except KeyboardInterrupt:
        pass
    finally:
        signer.close()
