"""The injected verifier: batched BLS checks name the bad entry; malformed input is 'bad', never a crash."""
import pytest

from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.core.ledger.transactions import SCHEME_BLS, SCHEME_ED25519, SCHEME_P256
from dusk_edge.crypto import bls
from tests.test_ledger_support import ed_signer, p256_signer

pytestmark = pytest.mark.twin


def bls_checks(n, keys=3):
    out = []
    for i in range(n):
        sk = bls.secret_key_from_int(500 + i % keys)
        msg = b"message %d" % i
        out.append((SCHEME_BLS, bls.public_key(sk), msg, bls.sign(sk, msg)))
    return out


@pytest.mark.parametrize("batch", [True, False])
def test_batch_accepts_good_and_names_the_first_bad(batch):
    v = NativeVerifier(batch_bls=batch)
    checks = bls_checks(9)
    assert v.verify_batch(checks) == -1
    swapped = list(checks)
    swapped[4] = (SCHEME_BLS, checks[4][1], checks[4][2], checks[5][3])  # another message's signature
    assert v.verify_batch(swapped) == 4
    # two signatures swapped between messages of the same key still fail (weights differ per entry)
    same_key = list(checks)
    same_key[0], same_key[3] = ((SCHEME_BLS, checks[0][1], checks[0][2], checks[3][3]),
                                (SCHEME_BLS, checks[3][1], checks[3][2], checks[0][3]))
    assert v.verify_batch(same_key) == 0


def test_malformed_keys_and_signatures_are_bad_not_errors():
    v = NativeVerifier()
    checks = bls_checks(3)
    assert v.verify_batch(checks[:2] + [(SCHEME_BLS, checks[2][1], checks[2][2], b"\x00" * 48)]) == 2
    assert v.verify_batch([(SCHEME_BLS, b"\x01" * 96, b"m", checks[0][3])] + checks) == 0
    ed, p = ed_signer(0), p256_signer(0)
    assert v.verify_batch([(SCHEME_ED25519, ed.account_key.key, b"m", ed.sign(b"m")),
                           (SCHEME_P256, p.account_key.key, b"m", p.sign(b"m"))]) == -1
    assert v.verify_batch([(SCHEME_ED25519, ed.account_key.key, b"m", ed.sign(b"n"))]) == 0
    assert v.verify_batch([(SCHEME_P256, b"\x02" + bytes(32), b"m", bytes(64))]) == 0
    assert v.verify_batch([(7, b"", b"m", b"")]) == 0
    assert v.verify_multisig(b"\x00" * 96, b"m", b"\x00" * 48) is False
