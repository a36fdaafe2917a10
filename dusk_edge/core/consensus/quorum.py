# Quorum thresholds of Succinct Attestation (PROTOCOL.md §3.1): with 64 credits per step a Valid
# vote needs a supermajority (43), Invalid / NoCandidate / NoQuorum a majority (33).
from dusk_edge.core.errors import LocalProtocolError


def get_majority(credits):
    """n // 2 + 1."""
    if credits < 0:
        raise LocalProtocolError("negative credits")
    return credits // 2 + 1


def get_supermajority(credits):
    """n - n // 3, i.e. ceil(2n / 3)."""
    if credits < 0:
        raise LocalProtocolError("negative credits")
    return credits - credits // 3
