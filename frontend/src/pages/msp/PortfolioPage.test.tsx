import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json } from "../../test/fakeApi";
import { MSP_SESSION } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const none = { critical: 0, high: 0, medium: 0, low: 0, total: 0 };

function item(name: string, score: number | null, incidents = none) {
  return {
    practice_id: `p-${name}`, name, kind: "dental", active: true, score,
    status: score === null ? null : score >= 80 ? "ready" : score >= 50 ? "at_risk" : "not_ready",
    computed_at: null, open_incidents: incidents, trend: [
      { day: "2026-02-01", at: "2026-02-01T00:00:00Z", period: "day", score: 90, min_score: 90, status: "ready" },
      { day: "2026-02-02", at: "2026-02-02T00:00:00Z", period: "day", score: score ?? 90, min_score: 0, status: "ready" },
    ],
  };
}

const PAGE = {
  items: [item("Harbor Ortho", 31, { critical: 1, high: 0, medium: 0, low: 0, total: 1 }), item("Bayside Dental", 64), item("New Clinic", null)],
  next_cursor: null,
  summary: { total: 3, ready: 0, at_risk: 1, not_ready: 1, not_computed: 1 },
};

describe("portfolio", () => {
  it("ranks practices as the API orders them, with status in words and incidents", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(MSP_SESSION), "GET /api/v1/portfolio": json(PAGE) });
    renderApp("/", PAGES);
    const table = await screen.findByRole("table", {}, { timeout: 4000 });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getByRole("rowheader").querySelector("a")?.textContent)).toEqual(["Harbor Ortho", "Bayside Dental", "New Clinic"]);
    expect(within(rows[0] as HTMLElement).getByText("Not ready")).toBeInTheDocument();
    expect(within(rows[0] as HTMLElement).getByText("1 critical")).toBeInTheDocument();
    expect(within(rows[0] as HTMLElement).getByText("down 59 points in 2 days")).toBeInTheDocument();
    expect(within(rows[2] as HTMLElement).getByText("Not scored yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Harbor Ortho" })).toHaveAttribute("href", "/practices/p-Harbor Ortho");
    expect(screen.getByText(/3 practices: 1 not ready, 1 at risk, 0 ready, 1 not scored yet/)).toBeInTheDocument();
  });

  it("sends filters to the API and keeps them in the URL", async () => {
    const api = fakeApi({ "GET /api/v1/auth/session": json(MSP_SESSION), "GET /api/v1/portfolio": json(PAGE) });
    const { router } = renderApp("/portfolio", PAGES);
    const user = userEvent.setup();
    await screen.findByRole("table");
    await user.click(screen.getByRole("checkbox", { name: "Not ready" }));
    await user.type(screen.getByRole("searchbox", { name: "Search practices" }), "harbor");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.selectOptions(screen.getByRole("combobox", { name: "Order" }), "open_incidents");
    await waitFor(() => expect(router.state.location.search).toBe("?q=harbor&status=not_ready&sort=open_incidents"));
    await waitFor(() => expect(api.sent("GET /api/v1/portfolio").at(-1)?.search).toBe("?sort=open_incidents&limit=200&status=not_ready&q=harbor"));
  });

  it("offers to clear filters when nothing matches", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/portfolio": json({ items: [], next_cursor: null, summary: { total: 0, ready: 0, at_risk: 0, not_ready: 0, not_computed: 0 } }),
    });
    renderApp("/portfolio?q=zzz", PAGES);
    expect(await screen.findByRole("heading", { name: "No practice matches these filters" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Clear filters" })).toBeInTheDocument();
  });
});
