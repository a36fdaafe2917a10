"""Generate tests/vectors/emission/emission.json from PROTOCOL.md §6's emission table.

The table below is typed in from the spec in DUSK (decimal strings) and converted to LUX here;
ranges are inclusive. Every boundary height is covered from both sides.
Run: .venv/bin/python tests/vectors/_gen/gen_emission.py
"""
import json
import os
from decimal import Decimal

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emission")
SOURCE = "PROTOCOL.md §6 emission per block table (DUSK, inclusive ranges); gen_emission.py"
TABLE = [  # (first height, last height, DUSK per block)
    (1, 12_614_400, "19.8574"), (12_614_401, 25_228_800, "9.9287"), (25_228_801, 37_843_200, "4.96435"),
    (37_843_201, 50_457_600, "2.48218"), (50_457_601, 63_072_000, "1.24109"), (63_072_001, 75_686_400, "0.62054"),
    (75_686_401, 88_300_800, "0.31027"), (88_300_801, 100_915_200, "0.15514"),
    (100_915_201, 113_529_596, "0.07757"), (113_529_597, 113_529_597, "0.05428"),
]


def lux(dusk):
    value = Decimal(dusk) * 10**9
    assert value == int(value)
    return int(value)


def expected(height):
    for first, last, dusk in TABLE:
        if first <= height <= last:
            return lux(dusk)
    return 0


def main():
    heights = {0, 1, 2, 8640, 113_529_598, 113_529_599, 200_000_000, (1 << 64) - 1}
    for first, last, _ in TABLE:
        heights.update({first - 1, first, first + 1, (first + last) // 2, last - 1, last, last + 1})
    cases = [{"name": "h-%d" % h, "input": {"height": h}, "output": {"emission": expected(h)}}
             for h in sorted(x for x in heights if x >= 0)]
    for name, value in (("negative", -1), ("string", "5"), ("bool", True), ("float", 1.5), ("too-large", 1 << 64),
                        ("null", None)):
        cases.append({"name": "error-" + name, "input": {"height": value}, "output": {"error": True}})
    cases.append({"name": "error-extra-key", "input": {"height": 1, "round": 1}, "output": {"error": True}})
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "emission.json"), "w") as f:
        json.dump({"suite": "emission", "source": SOURCE, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote %d emission cases" % len(cases))


if __name__ == "__main__":
    main()
