import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json } from "../../test/fakeApi";
import { MSP_SESSION } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const ADMIN = { ...MSP_SESSION, memberships: [{ ...MSP_SESSION.memberships[0], role: "msp_admin" }] };
const section = (key: string, title: string) => ({ key, title, guidance: "Say who.", required: true, body: `${title}: [[fill in]]`, complete: false });
const BUILTIN = { id: "b", name: "Seawall default", description: "", builtin: true, sections: [section("contacts", "Who to call")], created_at: null, updated_at: null };
const OWN = { ...BUILTIN, id: "own", name: "Harbor dental", builtin: false, sections: [section("contacts", "Who to call"), section("power", "Power outage")] };

describe("plan templates", () => {
  it("copies the built-in template and edits a section of the MSP's own", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(ADMIN),
      "GET /api/v1/plan-templates": json([BUILTIN, OWN]),
      "POST /api/v1/plan-templates": json(OWN, 201),
      "PATCH /api/v1/plan-templates/own": json(OWN),
    });
    renderApp("/templates", PAGES);
    const user = userEvent.setup();
    const builtin = await screen.findByRole("article", { name: "Seawall default" });
    expect(within(builtin).queryByRole("button", { name: /Delete/ })).toBeNull();
    await user.type(screen.getByRole("textbox", { name: "Name of the copy" }), "Harbor dental");
    await user.click(screen.getByRole("button", { name: "Make a copy" }));
    expect(api.sent("POST /api/v1/plan-templates")[0]?.body).toEqual({ name: "Harbor dental", description: "", source_template_id: "b" });

    const own = screen.getByRole("article", { name: "Harbor dental" });
    await user.click(within(own).getByText("Sections (edit)"));
    await user.click(within(own).getByRole("button", { name: /Edit\s*“Power outage”/ }));
    const text = within(own).getByRole("textbox", { name: "Starting text of “Power outage”" });
    await user.clear(text);
    await user.paste("Call the utility at [[number]].");
    await user.click(within(own).getByRole("button", { name: "Save section" }));
    const sent = api.sent("PATCH /api/v1/plan-templates/own")[0]?.body as { sections: { key: string; body: string }[] };
    expect(sent.sections.map((s) => [s.key, s.body])).toEqual([["contacts", "Who to call: [[fill in]]"], ["power", "Call the utility at [[number]]."]]);
    expect(sent.sections[0]).not.toHaveProperty("complete");
  });
});
