// Batch prover/verifier for dusk-edge: one node process proves or verifies many statements with
// snarkjs (loading the wasm and zkey once), so tests and the bench do not pay node start-up per proof.
//   node snarkjs_batch.mjs prove  <node_modules> <wasm> <zkey> <inputs.json> <out.json>
//   node snarkjs_batch.mjs verify <node_modules> <vk.json> <items.json> <out.json>
// inputs.json: [circuit input, ...] -> out.json: [{proof, publicSignals, ms}, ...]
// items.json: [{proof, publicSignals}, ...] -> out.json: {results: [true|false, ...], ms: total}
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { pathToFileURL } from "url";

const [mode, modules, ...rest] = process.argv.slice(2);
const snarkjs = await import(pathToFileURL(join(modules, "snarkjs", "main.js")).href);

async function prove(wasm, zkey, inputsPath, outPath) {
    const inputs = JSON.parse(readFileSync(inputsPath, "utf8"));
    const results = [];
    for (const input of inputs) {
        const start = performance.now();
        const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey);
        results.push({ proof, publicSignals, ms: performance.now() - start });
    }
    writeFileSync(outPath, JSON.stringify(results));
}

async function verify(vkPath, itemsPath, outPath) {
    const vk = JSON.parse(readFileSync(vkPath, "utf8"));
    const items = JSON.parse(readFileSync(itemsPath, "utf8"));
    const results = [];
    const start = performance.now();
    for (const item of items) {
        let ok = false;
        try {
            ok = await snarkjs.groth16.verify(vk, item.publicSignals, item.proof);
        } catch (err) {
            ok = false;
        }
        results.push(ok === true);
    }
    writeFileSync(outPath, JSON.stringify({ results, ms: performance.now() - start }));
}

try {
    if (mode === "prove") await prove(...rest);
    else if (mode === "verify") await verify(...rest);
    else throw new Error("mode must be prove or verify");
    process.exit(0);
} catch (err) {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
}
