# Sans-I/O protocol cores. MicroPython-compatible: see tests/test_core_subset.py for the rules.
