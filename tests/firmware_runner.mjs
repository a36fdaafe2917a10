// Runs the companion firmware bundle under real MicroPython (the npm wasm port) as a simulated
// board, bridged line by line to a CPython test over stdin/stdout. The JS module `jsboard` is the
// board's hardware: UART writes, pin levels, display updates and event dumps become stdout lines.
//   stdin:  STEP <now_ms> <rx hex>   run one firmware step with these UART bytes
//           REBOOT <now_ms>          power-cycle: a fresh firmware instance, same flash (MEMFS)
//           EVENTS                   dump the flash event ring
//           QUIT
//   stdout: TX <hex> | PIN <name> <0|1> | DISPLAY <text> | EVENT <seq> <at> <text> | LOG <text>
//           OK after each command, ERR <message> (then exit 1) on a Python error.
// usage: node tests/firmware_runner.mjs <micropython.mjs> <bundle dir>
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

// Or: node tests/firmware_runner.mjs <micropython.mjs> --check <repo root> <script.py>
//   runs one MicroPython-compatible check script against the source dusk_edge/ package; exit
//   code 0 when it finishes, 1 on any Python error (printed).
const [mpyModule, bundle, checkRoot, checkScript] = process.argv.slice(2);
if (!mpyModule || !bundle || (bundle === "--check" && !checkScript)) {
  console.error("usage: node firmware_runner.mjs <micropython.mjs> <bundle dir> | --check <root> <script.py>");
  process.exit(2);
}
const out = (line) => process.stdout.write(line + "\n");
const { loadMicroPython } = await import(pathToFileURL(path.resolve(mpyModule)).href);
const mp = await loadMicroPython({
  heapsize: 8 * 1024 * 1024,
  stdout: (s) => { for (const l of s.split("\n")) if (l) out("LOG " + l); },
  stderr: (s) => { for (const l of s.split("\n")) if (l) out("LOG " + l); },
});

function copyTree(from, to) {
  mp.FS.mkdir(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copyTree(source, to + "/" + entry.name);
    else if (/\.(m?py)$/.test(entry.name) && entry.name !== "main.py") mp.FS.writeFile(to + "/" + entry.name, fs.readFileSync(source));
  }
}
if (bundle === "--check") {
  mp.FS.mkdir("/app");
  copyTree(path.join(checkRoot, "dusk_edge", "core"), "/app/dusk_edge_core");
  mp.FS.mkdir("/app/dusk_edge");
  mp.FS.writeFile("/app/dusk_edge/__init__.py", fs.readFileSync(path.join(checkRoot, "dusk_edge", "__init__.py")));
  mp.FS.rename("/app/dusk_edge_core", "/app/dusk_edge/core");
  mp.FS.writeFile("/app/check_script.py", fs.readFileSync(checkScript));
  try {
    mp.runPython("import sys\nsys.path.insert(0, '/app')\nimport check_script");
    out("OK");
    process.exit(0);
  } catch (e) {
    if (e.name !== "PythonError") throw e;
    out("ERR " + e.message);
    process.exit(1);
  }
}
copyTree(bundle, "/app");
mp.registerJsModule("jsboard", {
  uart_write: (hex) => out("TX " + hex),
  pin_write: (name, value) => out("PIN " + name + " " + value),
  display: (text) => out("DISPLAY " + text),
  event: (text) => out("EVENT " + text),
});

function run(code) {
  try {
    mp.runPython(code);
    out("OK");
  } catch (e) {
    if (e.name !== "PythonError") throw e;
    out("ERR " + e.message.replace(/\n/g, " | "));
    process.exit(1);
  }
}

run("import sys\nsys.path.insert(0, '/app')\nimport board_bridge\nfw = board_bridge.start(0)");
const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const [cmd, a, b] = line.trim().split(" ");
  if (cmd === "STEP" && /^\d+$/.test(a) && /^[0-9a-f]*$/.test(b ?? "")) run(`fw.step(${a}, "${b ?? ""}")`);
  else if (cmd === "REBOOT" && /^\d+$/.test(a)) run(`fw = board_bridge.start(${a})`);
  else if (cmd === "EVENTS") run("fw.dump_events()");
  else if (cmd === "QUIT") process.exit(0);
  else { out("ERR bad command " + line); process.exit(1); }
}
process.exit(0);
