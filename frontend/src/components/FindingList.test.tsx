import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { conditionWords, FindingList, type FindingLike } from "./FindingList";

const base: FindingLike = {
  rule_id: "link.down",
  severity: "high",
  component: "connectivity",
  subject_type: "link",
  subject_id: "l-1",
  title: "Internet link Fiber at Main is down",
  remediation: "Call the ISP of Fiber.",
  hipaa: "",
  measured: "down for 12 min",
  target: "up",
};

describe("conditionWords", () => {
  const now = new Date("2030-01-07T10:00:00Z");

  it("says since when, and that a cleared condition still counts until it has stayed clear", () => {
    const words = conditionWords(
      { incident_id: "i", since: "2030-01-07T09:48:00Z", clearing_since: "2030-01-07T09:58:00Z", suppressed_by: null, suppressed_until: null },
      now,
    );
    expect(words[0]).toMatch(/^Since .+ \(12 min ago\)\.$/);
    expect(words[1]).toBe("Cleared 2 min ago: it stops counting once it has stayed clear for a few minutes.");
    expect(words).toHaveLength(2);
  });

  it("names the maintenance window and says the finding still counts", () => {
    const [, paused] = conditionWords(
      { incident_id: "i", since: "2030-01-07T09:48:00Z", clearing_since: null, suppressed_by: "NAS firmware", suppressed_until: "2030-01-07T11:00:00Z" },
      now,
    );
    expect(paused).toMatch(/^Notifications are paused by the maintenance window “NAS firmware” until .+; it still counts in the score\.$/);
  });
});

describe("FindingList", () => {
  it("shows the condition of a finding that is an incident, and nothing extra for one that is not", () => {
    render(
      <FindingList
        findings={[
          { ...base, condition: { incident_id: "i", since: new Date().toISOString(), clearing_since: null, suppressed_by: null, suppressed_until: null } },
          { ...base, rule_id: "inventory.no_baa", subject_id: "x", title: "No BAA on file", condition: null },
        ]}
        empty={null}
      />,
    );
    expect(screen.getByText(/^Since .+ \(just now\)\.$/)).toBeInTheDocument();
    expect(screen.getAllByText(/^Since/)).toHaveLength(1);
    expect(screen.getAllByText(/^Now: down for 12 min\./)).toHaveLength(2);
  });

  it("says a clearing condition's measure is the last one it held with, not the state now", () => {
    const clearing = { incident_id: "i", since: "2030-01-07T09:48:00Z", clearing_since: "2030-01-07T09:58:00Z", suppressed_by: null, suppressed_until: null };
    render(<FindingList findings={[{ ...base, condition: clearing }]} empty={null} />);
    expect(screen.getByText(/^Last measured: down for 12 min\./)).toBeInTheDocument();
    expect(screen.queryByText(/^Now:/)).toBeNull();
  });
});
