import { describe, expect, it } from "vitest";
import { diffCounts, parseUnifiedDiff } from "./planDiff";

const DIFF = `--- v1
+++ v2
@@ -1,3 +1,3 @@
 Call Dr. Rivera first.
-Then call the MSP at 555-0100.
+Then call the MSP at 555-0199.
+Text the staff group.
\\ No newline at end of file`;

describe("parseUnifiedDiff", () => {
  it("marks each line added, removed or unchanged and drops file headers", () => {
    const lines = parseUnifiedDiff(DIFF);
    expect(lines).toEqual([
      { kind: "hunk", text: "@@ -1,3 +1,3 @@" },
      { kind: "context", text: "Call Dr. Rivera first." },
      { kind: "removed", text: "Then call the MSP at 555-0100." },
      { kind: "added", text: "Then call the MSP at 555-0199." },
      { kind: "added", text: "Text the staff group." },
    ]);
    expect(diffCounts(lines)).toEqual({ added: 2, removed: 1 });
  });

  it("keeps a removed line that starts with dashes inside a hunk", () => {
    expect(parseUnifiedDiff("@@ -1 +1 @@\n--- signed, the office")).toEqual([
      { kind: "hunk", text: "@@ -1 +1 @@" },
      { kind: "removed", text: "-- signed, the office" },
    ]);
  });

  it("returns nothing for an empty diff", () => {
    expect(parseUnifiedDiff("")).toEqual([]);
  });
});
