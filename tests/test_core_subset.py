"""The MicroPython subset rule for dusk_edge/core/ (docs/micropython-subset.md, DESIGN.md §8.5),
checked on the AST of every core module. mpy-cross (scripts/mpy_gate.py) catches syntax that
MicroPython cannot compile; this test catches what compiles but breaks or breaks the sans-I/O
design at run time (missing modules, I/O imports) and says which rule a line breaks."""
import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.twin

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "dusk_edge" / "core"

# Modules MicroPython lacks, or whose use would put I/O, clocks or randomness into the core.
FORBIDDEN_MODULES = {
    "dataclasses": "MicroPython has no dataclasses: use a __slots__ class",
    "enum": "MicroPython has no enum: use int constants (const())",
    "typing": "MicroPython has no typing: annotations only, no runtime typing import",
    "socket": "the core is sans-I/O: drivers own sockets",
    "asyncio": "the core is sans-I/O: drivers own the event loop",
    "select": "the core is sans-I/O",
    "selectors": "the core is sans-I/O",
    "subprocess": "the core is sans-I/O",
    "threading": "the core is single-threaded and sans-I/O",
    "time": "time is an argument (`now`, integer milliseconds)",
    "random": "randomness is an rng object passed in",
    "secrets": "randomness is an rng object passed in",
    "hashlib": "hashes come from dusk_edge.core.hashes",
    "os": "the core reads no files or environment",
    "machine": "hardware belongs to drivers",
    "serial": "hardware belongs to drivers",
    "importlib": "no dynamic imports in the core",
}
# The one place each exception applies, and under which condition.
ALLOWED_IMPORTS = {
    ("hashes.py", "hashlib"): "any",
    ("accel.py", "os"): "guarded",  # only inside try/except ImportError (MicroPython may lack it)
}


# Methods and builtins CPython has and MicroPython 1.27 lacks (probed on the wasm port). A call is
# allowed inside a try whose handler catches the AttributeError/TypeError/NameError it raises
# there (a CPython fast path with a portable fallback).
MISSING_METHODS = {
    "bit_length", "bit_count", "as_integer_ratio", "ljust", "rjust", "zfill", "casefold",
    "isidentifier", "isdecimal", "isalnum", "isprintable", "isascii", "swapcase", "title",
    "expandtabs", "removeprefix", "removesuffix", "translate", "maketrans", "tobytes", "cast",
    "add_note", "iter_unpack", "isqrt",
}
MISSING_BUILTINS = {"vars", "format"}
NO_KEYWORDS = {"to_bytes", "from_bytes"}  # MicroPython: byteorder positional, no signed=


def top_module(name):
    return (name or "").split(".")[0]


def guarded_by(node, parents, errors):
    """True when ``node`` sits in the body of a try with a handler for one of ``errors``."""
    child = node
    for parent in reversed(parents):
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(isinstance(n, ast.Name) and n.id in errors + ("Exception",) for n in names):
                    return True
        child = parent
    return False


class SubsetChecker(ast.NodeVisitor):
    """Collects (line, message) for every break of the subset rule in one module."""

    def __init__(self, relative_path):
        self.path = relative_path
        self.problems = []
        self.parents = []
        self.defined = set()

    def flag(self, node, message):
        self.problems.append((getattr(node, "lineno", 0), message))

    def generic_visit(self, node):
        self.parents.append(node)
        super().generic_visit(node)
        self.parents.pop()

    def check_module(self, node, name):
        module = top_module(name)
        if module not in FORBIDDEN_MODULES:
            return
        allowed = ALLOWED_IMPORTS.get((self.path.name, module))
        if allowed == "any" or (allowed == "guarded" and guarded_by(node, self.parents, ("ImportError",))):
            return
        self.flag(node, "imports %s: %s" % (name, FORBIDDEN_MODULES[module]))

    def visit_Import(self, node):
        for alias in node.names:
            self.check_module(node, alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.level == 0:
            self.check_module(node, node.module)
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id == "__import__":
            self.flag(node, "__import__(): no dynamic imports in the core")
        elif not guarded_by(node, self.parents, ("AttributeError", "TypeError", "NameError")):
            self.check_portable_call(node, func)
        self.generic_visit(node)

    def check_portable_call(self, node, func):
        if isinstance(func, ast.Attribute) and func.attr in MISSING_METHODS:
            self.flag(node, ".%s(): MicroPython lacks this method" % func.attr)
        elif isinstance(func, ast.Name) and func.id in MISSING_BUILTINS and func.id not in self.defined:
            self.flag(node, "%s(): MicroPython lacks this builtin" % func.id)
        elif isinstance(func, ast.Attribute) and func.attr in NO_KEYWORDS and node.keywords:
            self.flag(node, ".%s() with keywords: MicroPython takes byteorder positionally, no signed=" % func.attr)
        elif isinstance(func, ast.Name) and func.id == "zip" and node.keywords:
            self.flag(node, "zip(strict=...): MicroPython's zip takes no keywords")

    def visit_Module(self, node):
        # names the module defines itself, so a local format() is not the missing builtin
        self.defined = {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        self.generic_visit(node)

    def visit_Match(self, node):
        self.flag(node, "match statement: MicroPython has no match/case")
        self.generic_visit(node)

    def check_arguments(self, node):
        if node.args.posonlyargs:
            self.flag(node, "positional-only parameters (/): MicroPython rejects them")

    def visit_FunctionDef(self, node):
        self.check_arguments(node)
        if node.name == "__del__":
            self.flag(node, "__del__: MicroPython does not call finalisers on user classes")
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node):
        self.check_arguments(node)
        self.generic_visit(node)

    def visit_Lambda(self, node):
        self.check_arguments(node)
        self.generic_visit(node)

    def visit_Dict(self, node):
        if any(key is None for key in node.keys):
            self.flag(node, "{**d} in a dict display: MicroPython rejects it (use dict(d) / update)")
        self.generic_visit(node)

    def check_display(self, node, kind):
        if isinstance(getattr(node, "ctx", None), ast.Store):
            return  # `a, *rest = x` unpacks: MicroPython supports that
        if any(isinstance(e, ast.Starred) for e in node.elts):
            self.flag(node, "*x in a %s display: MicroPython rejects it (use list(x) / +)" % kind)

    def visit_List(self, node):
        self.check_display(node, "list")
        self.generic_visit(node)

    def visit_Tuple(self, node):
        self.check_display(node, "tuple")
        self.generic_visit(node)

    def visit_Set(self, node):
        self.check_display(node, "set")
        self.generic_visit(node)

    def visit_TryStar(self, node):
        self.flag(node, "except*: MicroPython has no exception groups")
        self.generic_visit(node)

    def visit_TypeAlias(self, node):
        self.flag(node, "type alias statement: MicroPython rejects it")
        self.generic_visit(node)

    def visit_Assign(self, node):
        if self.path.name == "__init__.py" and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            self.flag(node, "__all__ in a package __init__: unsupported by MicroPython")
        self.generic_visit(node)


def subset_problems(source, relative_path):
    """Sorted list of "line: message" for ``source`` (the text of ``relative_path``)."""
    checker = SubsetChecker(Path(relative_path))
    checker.visit(ast.parse(source, filename=str(relative_path)))
    return ["%s:%d: %s" % (relative_path, line, message) for line, message in sorted(checker.problems)]


def core_modules():
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_keeps_the_micropython_subset(path):
    relative = path.relative_to(ROOT)
    problems = subset_problems(path.read_text(encoding="utf-8"), relative)
    assert not problems, "MicroPython subset broken (docs/micropython-subset.md):\n" + "\n".join(problems)


def test_core_modules_are_found():
    names = {p.name for p in core_modules()}
    assert {"wire.py", "hashes.py", "merkle.py", "accel.py", "_purehash.py"} <= names


# The checker itself: each rule must fire on a breaking snippet and stay quiet on the allowed form.
BREAKING = [
    ("import dataclasses\n", "dataclasses"),
    ("from dataclasses import dataclass\n", "dataclasses"),
    ("from enum import IntEnum\n", "enum"),
    ("from typing import Optional\n", "typing"),
    ("import socket\n", "socket"),
    ("import asyncio.tasks\n", "asyncio"),
    ("import time\n", "time"),
    ("from random import randrange\n", "random"),
    ("import hashlib\n", "hashlib"),
    ("import os\n", "imports os"),
    ("import threading\n", "threading"),
    ("import select\n", "select"),
    ("import subprocess\n", "subprocess"),
    ("m = __import__('socket')\n", "__import__"),
    ("match x:\n    case 1:\n        pass\n", "match"),
    ("def f(a, /, b):\n    return a\n", "positional-only"),
    ("g = lambda a, /: a\n", "positional-only"),
    ("d = {**a, 'k': 1}\n", "{**d}"),
    ("x = [*a, 1]\n", "list display"),
    ("x = (*a, 1)\n", "tuple display"),
    ("x = {*a}\n", "set display"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "except*"),
    ("class A:\n    def __del__(self):\n        pass\n", "__del__"),
    ("n = x.bit_length()\n", ".bit_length()"),
    ("s = name.ljust(8)\n", ".ljust()"),
    ("b = view.tobytes()\n", ".tobytes()"),
    ("t = format(5, '02x')\n", "format()"),
    ("b = n.to_bytes(4, byteorder='little')\n", "to_bytes() with keywords"),
    ("n = int.from_bytes(b, 'big', signed=True)\n", "from_bytes() with keywords"),
    ("p = list(zip(a, b, strict=True))\n", "zip(strict"),
]
ALLOWED = [
    "import struct\nfrom dusk_edge.core.hashes import sha3_256\n",
    "a, *rest = items\n",
    "f(*args, **kwargs)\n",
    "d = dict(a)\nd.update(b)\n",
    "x = list(a) + [1]\n",
    "def f(a, *, b=1):\n    return a\n",
    "def f(a: int) -> int:\n    return a\n",
    "from . import wire\n",
    "b = n.to_bytes(4, 'little')\nn = int.from_bytes(b, 'big')\n",
    "try:\n    p = data.translate(row)\nexcept AttributeError:\n    p = bytes(row[b] for b in data)\n",
    "def format(x):\n    return x\ny = format(1)\n",
    "s = '%08x' % n\n",
]


@pytest.mark.parametrize("source,expected", BREAKING, ids=[s for s, _ in BREAKING])
def test_checker_flags_each_rule(source, expected):
    problems = subset_problems(source, "dusk_edge/core/example.py")
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("source", ALLOWED)
def test_checker_allows_the_subset(source):
    assert subset_problems(source, "dusk_edge/core/example.py") == []


def test_hashlib_only_in_hashes_and_guarded_os_only_in_accel():
    assert subset_problems("import hashlib\n", "dusk_edge/core/hashes.py") == []
    guarded = "try:\n    import os\nexcept ImportError:\n    os = None\n"
    assert subset_problems(guarded, "dusk_edge/core/accel.py") == []
    assert subset_problems("import os\n", "dusk_edge/core/accel.py")  # unguarded
    assert subset_problems(guarded, "dusk_edge/core/wire.py")  # the exception is accel's alone


def test_all_in_package_init_is_flagged():
    assert subset_problems("__all__ = ['x']\n", "dusk_edge/core/kadcast/__init__.py")
    assert subset_problems("__all__ = ['x']\n", "dusk_edge/core/kadcast/peer.py") == []
