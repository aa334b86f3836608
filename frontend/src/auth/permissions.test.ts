import { describe, expect, it } from "vitest";
import { can } from "./permissions";

const m = (role: string, practice_id: string | null = null) => ({ id: "m", msp_id: "x", msp_name: "Harbor IT", practice_id, practice_name: null, role });

describe("can", () => {
  it("follows the server's policy for plans", () => {
    expect(can([m("practice_owner", "p1")], "plan_approve", "p1")).toBe(true);
    expect(can([m("practice_staff", "p1")], "plan_approve", "p1")).toBe(false);
    expect(can([m("practice_staff", "p1")], "plan_acknowledge", "p1")).toBe(true);
    expect(can([m("msp_technician")], "plan_approve", "p1")).toBe(false);
    expect(can([m("msp_technician")], "practice_operate", "p1")).toBe(true);
  });

  it("does not carry a practice role over to another practice", () => {
    expect(can([m("practice_owner", "p1")], "plan_approve", "p2")).toBe(false);
  });
});
