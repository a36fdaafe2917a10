"""Kadcast structured overlay (PROTOCOL.md §1): sans-I/O core.

ids.py (node id, PoW nonce), messages.py (wire format), routing.py (k-buckets), rs.py (the
project's Reed-Solomon erasure code), chunking.py (FEC chunk frames and ray assembly), peer.py
(the protocol state machine with the aioquic-style interface).
"""
