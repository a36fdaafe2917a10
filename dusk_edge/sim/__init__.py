"""Simulations over the sans-I/O cores: in-memory networks driven by a virtual clock."""
