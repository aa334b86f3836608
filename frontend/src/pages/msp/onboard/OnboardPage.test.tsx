import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../../app/pages";
import { fakeApi, json, problem } from "../../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../../test/fixtures";
import { renderApp } from "../../../test/render";
import { STARTER_SYSTEMS } from "./starterSystems";

const OWNER_SESSION = { ...MSP_SESSION, memberships: [{ ...MSP_SESSION.memberships[0], role: "msp_owner" }] };
const PRACTICE = { id: PRACTICE_ID, name: "Bayside Dental", kind: "clinic", timezone: "America/New_York", active: true, created_at: "2026-01-01T00:00:00Z" };
const SITE = { id: "site-1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" };

function practiceRoutes(extra: Record<string, ReturnType<typeof json> | ReturnType<typeof json>[]> = {}) {
  return {
    "GET /api/v1/auth/session": json(MSP_SESSION),
    [`GET ${practiceUrl("")}`]: json(PRACTICE),
    [`GET ${practiceUrl("/sites")}`]: json([SITE]),
    [`GET ${practiceUrl("/systems")}`]: json([]),
    ...extra,
  };
}

/** The error paragraph tied to an input by aria-describedby, i.e. the message shown at that field. */
function errorAt(input: HTMLElement): string {
  const ids = (input.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => id.endsWith("-error"));
  return ids.map((id) => document.getElementById(id)?.textContent ?? "").join(" ");
}

describe("onboarding a practice", () => {
  it("shows the API's refusal at the practice name field, then opens the sites step of the new practice", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(OWNER_SESSION),
      "POST /api/v1/practices": [
        problem(422, { detail: "Check these fields: name.", errors: [{ field: "name", message: "String should have at least 1 character" }] }),
        json(PRACTICE, 201),
      ],
      [`GET ${practiceUrl("")}`]: json(PRACTICE),
      [`GET ${practiceUrl("/sites")}`]: json([]),
    });
    const { router } = renderApp("/practices/new", PAGES);
    await userEvent.click(await screen.findByRole("button", { name: "Save and continue" }));
    const name = screen.getByRole("textbox", { name: "Practice name" });
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(errorAt(name)).toContain("String should have at least 1 character");
    // The field says it; the summary does not repeat the field's name.
    expect(screen.getByRole("alert")).not.toHaveTextContent("name");

    await userEvent.type(name, "Bayside Dental");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Time zone" }), "America/Chicago");
    await userEvent.click(screen.getByRole("button", { name: "Save and continue" }));
    await waitFor(() => expect(router.state.location.pathname).toBe(`/practices/${PRACTICE_ID}/onboard/sites`));
    expect(api.sent("POST /api/v1/practices").at(-1)?.body).toEqual({ name: "Bayside Dental", timezone: "America/Chicago" });
    expect(await screen.findByRole("heading", { level: 1, name: "Set up Bayside Dental" })).toBeInTheDocument();
    // Sites are what links and agents hang on: there is no way on without one.
    expect(await screen.findByText("Add at least one site: links and agents belong to a site.")).toBeInTheDocument();
  });

  it("is not there for a technician, who cannot add practices", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(MSP_SESSION) });
    renderApp("/practices/new", PAGES);
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });

  it("offers the healthcare starter list and fills the form from a pick", async () => {
    fakeApi(practiceRoutes());
    renderApp(`/practices/${PRACTICE_ID}/onboard/systems`, PAGES);
    const starters = await screen.findByRole("region", { name: "Usual systems of a healthcare practice" });
    for (const name of ["Electronic health record (EHR)", "Practice management and billing", "Scheduling and online booking", "Imaging (X-ray, PACS)", "E-prescribing", "Phones", "Vaccine fridge temperature monitor", "Front-desk and clinical laptops, tablets and phones"]) {
      expect(within(starters).getByText(name, { selector: ".card__title" })).toBeInTheDocument();
    }
    await userEvent.click(within(starters).getByRole("button", { name: "Use Electronic health record (EHR)" }));
    expect(screen.getByRole("textbox", { name: "System name" })).toHaveValue("Electronic health record (EHR)");
    expect(screen.getByRole("textbox", { name: /Time to recover/ })).toHaveValue("240");
    expect(screen.getByRole("checkbox", { name: "Holds patient health information (ePHI)" })).toBeChecked();
    // Every starter pick respects RTO ≤ MTD, or the form would open with an error.
    for (const s of STARTER_SYSTEMS) expect(s.rto_minutes).toBeLessThanOrEqual(s.mtd_minutes);
  });

  it("says at the RTO field, in words, that it must not exceed the MTD, and sends nothing", async () => {
    const api = fakeApi(practiceRoutes());
    renderApp(`/practices/${PRACTICE_ID}/onboard/systems`, PAGES);
    await userEvent.type(await screen.findByRole("textbox", { name: "System name" }), "EHR");
    const rto = screen.getByRole("textbox", { name: /Time to recover/ });
    await userEvent.type(rto, "600");
    await userEvent.type(screen.getByRole("textbox", { name: /Maximum downtime/ }), "480");
    expect(errorAt(rto)).toContain("The time to recover (10 h) must not be longer than the longest the practice can be without it (8 h).");
    expect(errorAt(rto)).not.toMatch(/_minutes/);
    await userEvent.click(screen.getByRole("button", { name: "Save system" }));
    expect(api.sent(`POST ${practiceUrl("/systems")}`)).toHaveLength(0);
  });

  it("shows each of the API's field errors at its own field", async () => {
    fakeApi(
      practiceRoutes({
        [`POST ${practiceUrl("/systems")}`]: problem(422, {
          detail: "Check these fields: mtd_minutes, rpo_minutes.",
          errors: [
            { field: "rpo_minutes", message: "Input should be a valid integer" },
            { field: "mtd_minutes", message: "Input should be less than or equal to 527040" },
          ],
        }),
      }),
    );
    renderApp(`/practices/${PRACTICE_ID}/onboard/systems`, PAGES);
    await userEvent.type(await screen.findByRole("textbox", { name: "System name" }), "EHR");
    await userEvent.type(screen.getByRole("textbox", { name: /Time to recover/ }), "60");
    await userEvent.type(screen.getByRole("textbox", { name: /Maximum downtime/ }), "999999");
    await userEvent.click(screen.getByRole("button", { name: "Save system" }));
    const rpo = screen.getByRole("textbox", { name: /Data that may be lost/ });
    await waitFor(() => expect(errorAt(rpo)).toContain("Input should be a valid integer"));
    expect(errorAt(screen.getByRole("textbox", { name: /Maximum downtime/ }))).toContain("Input should be less than or equal to 527040");
    expect(errorAt(screen.getByRole("textbox", { name: /Time to recover/ }))).toBe("");
  });

  it("saves a backup job with the systems it protects and its off-site provider and BAA", async () => {
    const ehr = { id: "sys-1", name: "EHR" };
    const api = fakeApi(
      practiceRoutes({
        [`GET ${practiceUrl("/systems")}`]: json([{ ...ehr, tier: 1, rto_minutes: 240 }]),
        [`GET ${practiceUrl("/backup-jobs")}`]: json([]),
        [`POST ${practiceUrl("/backup-jobs")}`]: json({ id: "job-1" }, 201),
      }),
    );
    renderApp(`/practices/${PRACTICE_ID}/onboard/backups`, PAGES);
    await userEvent.type(await screen.findByRole("textbox", { name: "Job name" }), "Nightly to Wasabi");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Where the copy is kept" }), "cloud");
    await userEvent.type(screen.getByRole("textbox", { name: "Storage provider" }), "Wasabi");
    await userEvent.click(screen.getByRole("checkbox", { name: /business associate agreement/ }));
    await userEvent.click(screen.getByRole("checkbox", { name: /immutable/ }));
    await userEvent.click(await screen.findByRole("checkbox", { name: "EHR" }));
    await userEvent.click(screen.getByRole("button", { name: "Save backup job" }));
    await waitFor(() => expect(api.sent(`POST ${practiceUrl("/backup-jobs")}`)).toHaveLength(1));
    expect(api.sent(`POST ${practiceUrl("/backup-jobs")}`)[0]?.body).toMatchObject({
      name: "Nightly to Wasabi", location: "cloud", provider: "Wasabi", baa_on_file: true, immutable: true, encrypted: true,
      site_id: "site-1", system_ids: ["sys-1"],
    });
  });

  it("shows the one-time command for Linux and for Windows", async () => {
    fakeApi(
      practiceRoutes({
        [`POST ${practiceUrl("/sites/site-1/enrollment-tokens")}`]: json(
          { token: "swe_abc", expires_at: "2026-03-02T00:00:00Z", site_id: "site-1", install_command: "linux swe_abc", install_command_windows: "windows swe_abc" },
          201,
        ),
      }),
    );
    renderApp(`/practices/${PRACTICE_ID}/onboard/agent`, PAGES);
    const get = await screen.findByRole("button", { name: "Get the install command" });
    await waitFor(() => expect(get).toBeEnabled());
    fireEvent.click(get);
    expect(await screen.findByLabelText("Install and enrol command for Linux")).toHaveTextContent("linux swe_abc");
    expect(screen.getByLabelText("Install and enrol command for Windows")).toHaveTextContent("windows swe_abc");
    expect(screen.getByRole("link", { name: "Finish: see the readiness score" })).toHaveAttribute("href", `/practices/${PRACTICE_ID}/readiness`);
  });
});
