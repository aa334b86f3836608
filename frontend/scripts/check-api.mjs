// Fails when src/api/schema.d.ts is not what `npm run gen:api` would produce from openapi.json,
// so a changed API cannot land without the regenerated client.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateTypes, root } from "./generate-types.mjs";

const committed = join(root, "src/api/schema.d.ts");
const dir = mkdtempSync(join(tmpdir(), "seawall-api-"));
const fresh = join(dir, "schema.d.ts");

try {
  const run = generateTypes(fresh, { quiet: true });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    console.error("check:api: could not generate types from openapi.json");
    process.exit(1);
  }
  let current;
  try {
    current = readFileSync(committed, "utf8");
  } catch {
    console.error("check:api: src/api/schema.d.ts is missing; run `npm run gen:api` and commit it.");
    process.exit(1);
  }
  if (readFileSync(fresh, "utf8") !== current) {
    console.error(
      "check:api: src/api/schema.d.ts is out of date with openapi.json; run `npm run gen:api` and commit it.",
    );
    process.exit(1);
  }
  console.log("check:api: src/api/schema.d.ts matches openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
