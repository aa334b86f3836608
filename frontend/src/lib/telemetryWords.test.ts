import { describe, expect, it } from "vitest";
import { eventWords, fieldWords, reasonWords, refusalWords } from "./telemetryWords";

describe("telemetry in words", () => {
  it("puts the field in words and ends the sentence once", () => {
    expect(reasonWords("started_at", "started_at is missing")).toBe("The start time is missing.");
    expect(reasonWords(null, "This backup run names a backup job that is no longer at the site (it was moved).")).toBe(
      "This backup run names a backup job that is no longer at the site (it was moved).",
    );
    expect(reasonWords("exit_code", "exit_code is too large")).toBe("The exit code is too large.");
  });

  it("never shows a field name, even for one it does not know", () => {
    expect(fieldWords("events.3.job")).toBe("the backup job");
    expect(fieldWords("events.3.colour")).toBe("a detail of the report");
    expect(fieldWords("job")).toBe("the backup job");
    expect(eventWords("link_sample")).toBe("Internet link check");
    expect(eventWords("toaster")).toBe("Report of an unknown kind");
  });
});

describe("refusalWords", () => {
  it("makes the report the subject of a refusal of the object it names, and the field otherwise", () => {
    expect(refusalWords("job", "names no backup job of this agent's site")).toBe("the report names no backup job of this agent's site");
    expect(refusalWords("bytes", "must be at least 0")).toBe("the size must be at least 0");
  });
});
