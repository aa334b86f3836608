import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, problem, SESSION_OK } from "../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID, practiceUrl, STAFF_SESSION } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const summary = (number: number, status: string, id = `v${number}`) => ({
  id, number, status, created_at: "2026-02-01T00:00:00Z", created_by_label: "Tech", updated_at: "2026-02-01T00:00:00Z",
  submitted_at: status === "draft" ? null : "2026-02-02T00:00:00Z", submitted_by_label: "Tech",
  approved_at: status === "approved" ? "2026-02-03T00:00:00Z" : null, approved_by_label: status === "approved" ? "Dr. Rivera" : "",
  approved_on_behalf: false, effective_date: null, review_interval_months: 12, next_review_date: null,
});
const sections = [
  { key: "contacts", title: "Who to call", guidance: "List people in order.", required: true, body: "Call Dr. Rivera.", complete: true },
  { key: "systems", title: "Restoring systems", guidance: "", required: true, body: "", complete: false },
];
const plan = (current: unknown, working: unknown) => ({
  id: "plan", practice_id: PRACTICE_ID, template_name: "Built-in", created_at: "2026-02-01T00:00:00Z", current_version: current, working_version: working, last_exported_at: null,
});

function routes(session: unknown, planBody: unknown, versions: unknown[], extra: Record<string, Response | Response[]> = {}) {
  return fakeApi({
    "GET /api/v1/auth/session": json(session),
    [`GET ${practiceUrl("/plan")}`]: json(planBody),
    [`GET ${practiceUrl("/plan/versions")}`]: json(versions),
    [`GET ${practiceUrl("/plan/roles")}`]: json([]),
    [`GET ${practiceUrl("/plan-findings")}`]: json([]),
    ...extra,
  });
}

describe("plan page", () => {
  it("lets the practice owner approve the version in review and offers the PDF", async () => {
    const inReview = summary(2, "in_review");
    const api = routes(SESSION_OK, plan(null, inReview), [inReview], {
      [`GET ${practiceUrl("/plan/versions/v2")}`]: json({ ...inReview, sections }),
      [`POST ${practiceUrl("/plan/versions/v2/approve")}`]: json({ ...summary(2, "approved"), sections }),
    });
    renderApp("/plan", PAGES);
    const user = userEvent.setup();
    expect(await screen.findByRole("heading", { name: "Version 2: Waiting for approval" })).toBeInTheDocument();
    expect(screen.getByText("1 required section still needs writing.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Download PDF" })).toHaveAttribute("href", `/api/v1/practices/${PRACTICE_ID}/plan/versions/v2/export.pdf`);
    expect(screen.queryByRole("button", { name: /Edit/ })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Approve this version" }));
    expect(await screen.findByText("Done: version 2 is now approved, in force.")).toBeInTheDocument();
    expect(api.sent(`POST ${practiceUrl("/plan/versions/v2/approve")}`)).toHaveLength(1);
  });

  it("lets staff acknowledge their role in the approved version", async () => {
    const approved = summary(1, "approved");
    const role = { id: "r1", user_id: SESSION_OK.user.id, user_name: "Dana Lee", user_email: "d@x", contact_id: null, role_name: "Incident lead", duties: "", trained_at: null, acknowledged_at: null };
    const api = routes(STAFF_SESSION, plan(approved, null), [approved], {
      [`GET ${practiceUrl("/plan/versions/v1")}`]: json({ ...approved, sections }),
      [`GET ${practiceUrl("/plan/roles")}`]: [json([role]), json([{ ...role, acknowledged_at: "2026-03-01T00:00:00Z" }])],
      [`POST ${practiceUrl("/plan/acknowledgements")}`]: json({ id: "a", plan_version_id: "v1", user_id: role.user_id, user_label: "Dana", acknowledged_at: "2026-03-01T00:00:00Z" }),
    });
    renderApp("/plan", PAGES);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "I have read the plan and accept my role" }));
    expect(await screen.findByText(/You acknowledged version 1\. Thank you\./)).toBeInTheDocument();
    expect(api.sent(`POST ${practiceUrl("/plan/acknowledgements")}`)).toHaveLength(1);
    expect(screen.queryByRole("button", { name: "Approve this version" })).toBeNull();
  });

  it("lets MSP staff edit a draft section and puts a field error next to it", async () => {
    const draft = summary(1, "draft");
    routes(MSP_SESSION, plan(null, draft), [draft], {
      [`GET ${practiceUrl("/plan/versions/v1")}`]: json({ ...draft, sections }),
      [`GET ${practiceUrl("")}`]: json({ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }),
      [`PATCH ${practiceUrl("/plan/versions/v1/sections/systems")}`]: problem(422, { errors: [{ field: "body.body", message: "Too long" }] }),
    });
    renderApp(`/practices/${PRACTICE_ID}/plan`, { ...PAGES });
    const user = userEvent.setup();
    await screen.findByRole("heading", { name: "Version 1: Draft" });
    await user.click(screen.getByRole("button", { name: /^Edit\s*“Restoring systems”$/ }));
    await user.type(screen.getByRole("textbox", { name: "Text of “Restoring systems”" }), "Restore from NAS");
    await user.click(screen.getByRole("button", { name: "Save section" }));
    expect(await screen.findByText("Too long")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Submit for approval" })).toBeInTheDocument();
  });

  it("says who starts the plan when there is none", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/plan")}`]: problem(404, { detail: "No plan" }),
    });
    renderApp("/plan", PAGES);
    expect(await screen.findByRole("heading", { name: "No plan yet" })).toBeInTheDocument();
    expect(screen.getByText(/Ask them to start it/)).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole("button", { name: "Start the plan" })).toBeNull());
  });
});
