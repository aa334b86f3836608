// A section's unified diff → lines a person can read, each marked added, removed or unchanged.

export type DiffLineKind = "added" | "removed" | "context" | "hunk";

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

/**
 * Parse a unified diff body. File headers (---/+++ before the first hunk) carry no meaning for a
 * section and are dropped; inside a hunk, "---" is a removed line that starts with "--".
 */
export function parseUnifiedDiff(diff: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let inHunk = false;
  for (const raw of diff.split("\n")) {
    if (!inHunk && (raw.startsWith("---") || raw.startsWith("+++"))) continue;
    if (raw.startsWith("@@")) {
      inHunk = true;
      lines.push({ kind: "hunk", text: raw });
    }
    else if (raw.startsWith("+")) lines.push({ kind: "added", text: raw.slice(1) });
    else if (raw.startsWith("-")) lines.push({ kind: "removed", text: raw.slice(1) });
    else if (raw.startsWith(" ")) lines.push({ kind: "context", text: raw.slice(1) });
    else if (raw === "\\ No newline at end of file" || raw === "") continue;
    else lines.push({ kind: "context", text: raw });
  }
  return lines;
}

export function diffCounts(lines: readonly DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((l) => l.kind === "added").length,
    removed: lines.filter((l) => l.kind === "removed").length,
  };
}

export const SECTION_STATUS_WORDS: Record<string, string> = {
  unchanged: "Unchanged",
  changed: "Changed",
  added: "Added",
  removed: "Removed",
};
