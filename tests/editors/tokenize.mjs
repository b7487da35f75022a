// node tokenize.mjs GRAMMAR FILE... -> JSON {file: [[{text, scopes}], ...per line]} on stdout.
// VS Code's own engine: vscode-textmate with the oniguruma WASM regex engine.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import vsctm from "vscode-textmate";
import oniguruma from "vscode-oniguruma";

const require = createRequire(import.meta.url);
const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
await oniguruma.loadWASM(wasm);

const [grammarPath, ...files] = process.argv.slice(2);
const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }),
  loadGrammar: async () => vsctm.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath),
});
const grammar = await registry.loadGrammar("source.sla");
const out = {};
for (const file of files) {
  let state = vsctm.INITIAL;
  out[file] = readFileSync(file, "utf8").split("\n").map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}
process.stdout.write(JSON.stringify(out));
