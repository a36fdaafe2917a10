// Runs tests/core under real MicroPython (the npm wasm port) through its JS API, because the
// port's CLI always exits 0 (DEPENDENCIES.md §7). Copies dusk_edge/__init__.py, dusk_edge/core/**
// and tests/core/*.py into the in-memory FS, runs mpy_runner, and maps the outcome to an exit
// code: 0 all passed, the SystemExit code, or 1 for any other Python error. With --compiled DIR
// the core comes from DIR/dusk_edge/core/**.mpy (mpy-cross output, as firmware freezes it).
// usage: node tests/core/run_mpy.mjs <micropython.mjs> <repo root> [--compiled DIR] [test_module ...]
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [mpyModule, root, ...rest] = process.argv.slice(2);
const compiledAt = rest[0] === "--compiled" ? rest[1] : null;
const modules = compiledAt ? rest.slice(2) : rest;
if (!mpyModule || !root || (rest[0] === "--compiled" && !compiledAt)) {
  console.error("usage: node run_mpy.mjs <micropython.mjs> <repo root> [--compiled DIR] [test_module ...]");
  process.exit(2);
}
const { loadMicroPython } = await import(pathToFileURL(path.resolve(mpyModule)).href);
const mp = await loadMicroPython({
  heapsize: 32 * 1024 * 1024,
  stdout: (line) => process.stdout.write(line.endsWith("\n") ? line : line + "\n"),
  stderr: (line) => process.stderr.write(line.endsWith("\n") ? line : line + "\n"),
});

function copyTree(from, to, keep) {
  mp.FS.mkdir(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory() && entry.name !== "__pycache__") copyTree(source, to + "/" + entry.name, keep);
    else if (entry.isFile() && keep(entry.name)) mp.FS.writeFile(to + "/" + entry.name, fs.readFileSync(source));
  }
}

const isPy = (name) => name.endsWith(".py");
mp.FS.mkdir("/app");
mp.FS.mkdir("/app/dusk_edge");
mp.FS.writeFile("/app/dusk_edge/__init__.py", fs.readFileSync(path.join(root, "dusk_edge", "__init__.py")));
if (compiledAt) copyTree(path.join(compiledAt, "dusk_edge", "core"), "/app/dusk_edge/core", (n) => n.endsWith(".mpy"));
else copyTree(path.join(root, "dusk_edge", "core"), "/app/dusk_edge/core", isPy);
// tests/core flat in one directory; conftest.py is pytest-only.
const testDir = path.join(root, "tests", "core");
mp.FS.mkdir("/app/tests_core");
for (const name of fs.readdirSync(testDir))
  if (isPy(name) && name !== "conftest.py" && name !== "__init__.py")
    mp.FS.writeFile("/app/tests_core/" + name, fs.readFileSync(path.join(testDir, name)));

const names = JSON.stringify(modules);
try {
  mp.runPython(
    "import sys\nsys.path.insert(0, '/app')\nsys.path.insert(0, '/app/tests_core')\n" +
    `import mpy_runner\nmpy_runner.main(${names}, '/app/tests_core')\n`);
} catch (error) {
  if (error.name !== "PythonError") throw error;
  if (error.type === "SystemExit") {
    const code = /(\d+)\s*$/.exec(error.message.trim());
    process.exit(code ? Number(code[1]) : 0);
  }
  console.error(error.message);
  process.exit(1);
}
process.exit(0);
