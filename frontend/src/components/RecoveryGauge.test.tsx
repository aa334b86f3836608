import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { readGauge } from "./recoveryGauge";
import { RecoveryGauge } from "./RecoveryGauge";

describe("readGauge", () => {
  it("puts the target in the middle of the bar and fills up to what was achieved", () => {
    const r = readGauge(240, 60);
    expect(r).toMatchObject({ state: "met", targetAt: 50, fill: 12.5 });
    expect(r.summary).toBe("Achieved 1 h against a target of 4 h: within target.");
  });

  it("warns when the achieved value is within 20% of the target", () => {
    expect(readGauge(240, 200).state).toBe("near");
    expect(readGauge(240, 240).state).toBe("near");
    expect(readGauge(240, 191).state).toBe("met");
  });

  it("reads an RPO copy at risk exactly when the server judged it so with the policy's ratio", () => {
    // An MSP ratio of 0.5: 60 % of the target is at risk, though short of a fixed 80 %.
    expect(readGauge(60, 36, false, true).state).toBe("near");
    expect(readGauge(60, 55, false, false).state).toBe("met");
    expect(readGauge(60, 90, false, false).state).toBe("missed");
  });

  it("marks a miss and stretches the scale so a big miss is not clipped", () => {
    const r = readGauge(60, 600);
    expect(r.state).toBe("missed");
    expect(r.fill).toBe(90.9);
    expect(r.targetAt).toBe(9.1);
  });

  it("meets a zero target only with zero", () => {
    expect(readGauge(0, 0).state).toBe("met");
    expect(readGauge(0, 5).state).toBe("missed");
  });

  it("says 'not measured yet' rather than guessing when nothing was reported", () => {
    const r = readGauge(240, null);
    expect(r).toMatchObject({ state: "unknown", fill: 0 });
    expect(r.summary).toBe("Target 4 h; achieved not measured yet.");
  });

  it("calls a required copy that no backup job makes missed, not 'not measured yet'", () => {
    const r = readGauge(60, null, true);
    expect(r).toMatchObject({ state: "missed", fill: 0 });
    expect(r.summary).toBe("Target 1 h; no backup job makes this copy.");
  });
});

describe("RecoveryGauge", () => {
  it("reads as a sentence to assistive technology, not as a coloured bar", () => {
    render(<RecoveryGauge label="Recovery point (RPO)" targetMinutes={60} achievedMinutes={90} />);
    expect(
      screen.getByRole("img", {
        name: "Recovery point (RPO): Achieved 1 h 30 min against a target of 1 h: over target.",
      }),
    ).toBeInTheDocument();
  });
});
