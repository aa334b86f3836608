import { describe, expect, it } from "vitest";
import { safeNextPath, signInPath } from "./redirects";

describe("safeNextPath", () => {
  it("keeps paths on this site", () => {
    expect(safeNextPath("/readiness?tab=backups")).toBe("/readiness?tab=backups");
  });

  it.each(["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", null])(
    "refuses %s",
    (next) => {
      expect(safeNextPath(next)).toBe("/");
    },
  );

  it("never loops back to sign-in or sign-out", () => {
    expect(safeNextPath("/sign-in?next=/x")).toBe("/");
    expect(safeNextPath("/sign-out")).toBe("/");
  });
});

describe("signInPath", () => {
  it("carries the expired notice and where to go next", () => {
    expect(signInPath({ next: "/plan", expired: true })).toBe("/sign-in?expired=1&next=%2Fplan");
    expect(signInPath({ next: "/" })).toBe("/sign-in");
  });
});
