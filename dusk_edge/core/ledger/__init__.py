"""The chain's data model and rules (issue 4): headers, blocks, transactions, faults, state,
rewards and emission, slashing, mempool, network profiles. Sans-I/O and MicroPython-compatible."""
