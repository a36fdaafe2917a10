"""Conformance runner (CONFORMANCE.md): run JSON test vectors through the project's own code.

Suites live in ``dusk_edge/conformance/suites/*.py``; each module exports ``SUITES``, a dict of
suite name -> function(input dict) -> output dict. A case whose expected output is
``{"error": true}`` passes only when the function raises ``DuskEdgeError`` (or a subclass).
"""
import importlib
import json
import os
import pkgutil

from dusk_edge.core.errors import DecodeError, DuskEdgeError


def hexbytes(value, size=None, field="value"):
    """Lowercase hex -> bytes; malformed hex or a wrong length is a DecodeError."""
    if not isinstance(value, str):
        raise DecodeError("%s: expected a hex string" % field)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise DecodeError("%s: not hex" % field) from None
    if size is not None and len(raw) != size:
        raise DecodeError("%s: expected %d bytes, got %d" % (field, size, len(raw)))
    return raw


def load_suites():
    """Every suite name -> function, from the modules in dusk_edge.conformance.suites."""
    from dusk_edge.conformance import suites as package

    table = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module("%s.%s" % (package.__name__, info.name))
        for name, fn in getattr(module, "SUITES", {}).items():
            if name in table:
                raise RuntimeError("suite %s defined twice" % name)
            table[name] = fn
    return table


def same_json(a, b):
    """Exact JSON equality: bools are not ints, key sets must match, lists in order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return type(a) is type(b) and a == b


def run_case(fn, case):
    """Returns None on pass, else the failure reason."""
    expected = case["output"]
    expect_error = expected == {"error": True}
    try:
        got = fn(case["input"])
    except DuskEdgeError as exc:
        return None if expect_error else "rejected: %s: %s" % (type(exc).__name__, exc)
    except Exception as exc:  # noqa: BLE001 - a crash is a FAIL, never a runner crash
        return "exception %s: %s" % (type(exc).__name__, exc)
    if expect_error:
        return "accepted, expected an error; got %s" % json.dumps(got, sort_keys=True)
    if not same_json(got, expected):
        return "got %s, expected %s" % (json.dumps(got, sort_keys=True), json.dumps(expected, sort_keys=True))
    return None


def _validate_file(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("suite"), str):
        return "not a vector file: needs a string 'suite'"
    cases = doc.get("cases")
    if not isinstance(cases, list):
        return "not a vector file: needs a list 'cases'"
    names = set()
    for case in cases:
        if not isinstance(case, dict) or not isinstance(case.get("name"), str):
            return "a case needs a string 'name'"
        if "input" not in case or not isinstance(case.get("output"), dict):
            return "case %s needs 'input' and an object 'output'" % case["name"]
        if case["name"] in names:
            return "duplicate case name %s" % case["name"]
        names.add(case["name"])
    return None


def run_file(path, suites):
    """Yield (ok, line) for every case of one vector file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        yield False, "FAIL %s: cannot read vector file: %s" % (path, exc)
        return
    problem = _validate_file(doc)
    if problem:
        yield False, "FAIL %s: %s" % (path, problem)
        return
    suite = doc["suite"]
    fn = suites.get(suite)
    for case in doc["cases"]:
        label = "%s/%s" % (suite, case["name"])
        if fn is None:
            yield False, "FAIL %s: unknown suite %r" % (label, suite)
            continue
        reason = run_case(fn, case)
        yield reason is None, ("PASS %s" % label) if reason is None else "FAIL %s: %s" % (label, reason)


def collect_files(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, _dirs, names in os.walk(path):
                files.extend(os.path.join(root, n) for n in names if n.endswith(".json"))
        else:
            files.append(path)
    return sorted(files)


def run_paths(paths, write=print):
    """Run every vector under ``paths``; returns (passed, failed)."""
    suites = load_suites()
    passed = failed = 0
    files = collect_files(paths)
    if not files:
        write("FAIL %s: no vector files found" % " ".join(paths))
        failed += 1
    for path in files:
        for ok, line in run_file(path, suites):
            write(line)
            if ok:
                passed += 1
            else:
                failed += 1
    write("conformance: %d passed, %d failed" % (passed, failed))
    return passed, failed
