// openapi.json → TypeScript types, shared by `gen:api` and `check:api` so both produce the same.
//
// The document is read through one normalisation: a discriminator `mapping` whose target is not
// a component (e.g. "#/$defs/…" left over when a handler inlines a Pydantic schema with
// openapi_extra) is unresolvable in OpenAPI and makes openapi-typescript abort the whole run.
// Dropping such a mapping loses nothing for the types: the oneOf members are inline and each
// carries its `type` constant. The mapping is reported so the server can be fixed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function normalise(document, warn = () => {}) {
  const walk = (node, where) => {
    if (Array.isArray(node)) return node.map((v, i) => walk(v, `${where}/${i}`));
    if (node === null || typeof node !== "object") return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "discriminator" && value && typeof value === "object" && value.mapping) {
        const unresolvable = Object.values(value.mapping).some((ref) => !String(ref).startsWith("#/components/"));
        if (unresolvable) {
          warn(`${where}: discriminator mapping points outside #/components; ignored`);
          const { mapping: _dropped, ...rest } = value;
          out[key] = rest;
          continue;
        }
      }
      out[key] = walk(value, `${where}/${key}`);
    }
    return out;
  };
  return walk(document, "#");
}

/** Generate the types into `outPath`; returns the generator's exit status and output. */
export function generateTypes(outPath, { quiet = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "seawall-openapi-"));
  try {
    const warn = quiet ? () => {} : (message) => console.warn(`openapi.json: ${message}`);
    const document = normalise(JSON.parse(readFileSync(join(root, "openapi.json"), "utf8")), warn);
    const input = join(dir, "openapi.json");
    writeFileSync(input, JSON.stringify(document));
    const bin = join(root, "node_modules/.bin/openapi-typescript");
    return spawnSync(bin, [input, "-o", outPath], { cwd: root, encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = generateTypes(join(root, "src/api/schema.d.ts"));
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  process.exit(run.status ?? 1);
}
