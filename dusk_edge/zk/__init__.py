"""Shielded transfers: Poseidon, notes, the note tree, the pool rules, the circom/snarkjs prover
and the node's verifier. See docs/shielded.md."""
