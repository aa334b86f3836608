import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, json, noContent, problem, SESSION_OK } from "../test/fakeApi";
import { createApiClient, setUnauthorizedHandler, unwrap } from "./client";
import { readCookie } from "./csrf";
import { ApiProblem } from "./problem";

const base = "http://seawall.test";

afterEach(() => setUnauthorizedHandler(() => {}));

describe("CSRF header", () => {
  it("is sent from the seawall_csrf cookie on every non-GET request, and not on GET", async () => {
    const server = fakeApi({
      "POST /api/v1/auth/logout": noContent(),
      "GET /api/v1/auth/session": json(SESSION_OK),
    });
    const client = createApiClient({ baseUrl: base, getCookies: () => "theme=dark; seawall_csrf=tok%2Fen-123; other=1" });
    await unwrap(client.POST("/api/v1/auth/logout"));
    await unwrap(client.GET("/api/v1/auth/session"));
    expect(server.sent("POST /api/v1/auth/logout")[0]?.headers.get("X-CSRF-Token")).toBe("tok/en-123");
    expect(server.sent("GET /api/v1/auth/session")[0]?.headers.has("X-CSRF-Token")).toBe(false);
  });

  it("is omitted when there is no cookie yet (before the first sign-in)", async () => {
    const server = fakeApi({ "POST /api/v1/auth/login": json({ status: "ok", csrf_token: "t" }) });
    const client = createApiClient({ baseUrl: base, getCookies: () => "" });
    await unwrap(client.POST("/api/v1/auth/login", { body: { email: "a@b.c", password: "pw" } }));
    expect(server.requests[0]?.headers.has("X-CSRF-Token")).toBe(false);
  });

  it("reads the real document cookie by default", async () => {
    document.cookie = "seawall_csrf=from-document";
    const server = fakeApi({ "POST /api/v1/auth/logout": noContent() });
    await unwrap(createApiClient({ baseUrl: base }).POST("/api/v1/auth/logout"));
    expect(server.requests[0]?.headers.get("X-CSRF-Token")).toBe("from-document");
  });

  it("sends the session cookie along (credentials: include)", async () => {
    const server = fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    await unwrap(createApiClient({ baseUrl: base }).GET("/api/v1/auth/session"));
    expect(server.requests[0]?.credentials).toBe("include");
  });
});

describe("readCookie", () => {
  it("finds one cookie by exact name", () => {
    expect(readCookie("a=1; seawall_csrf_old=x; seawall_csrf=y", "seawall_csrf")).toBe("y");
    expect(readCookie("a=1", "seawall_csrf")).toBeUndefined();
  });
});

describe("unwrap", () => {
  it("returns the data of a success and nothing for 204", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK), "POST /api/v1/auth/logout": noContent() });
    const client = createApiClient({ baseUrl: base });
    const session = await unwrap(client.GET("/api/v1/auth/session"));
    expect(session.user.email).toBe("dana@harbor.example");
    await expect(unwrap(client.POST("/api/v1/auth/logout"))).resolves.toBeUndefined();
  });

  it("throws an ApiProblem built from the problem+json body", async () => {
    fakeApi({
      "POST /api/v1/auth/login": problem(429, { detail: "slow down" }, { "Retry-After": "30" }),
    });
    const call = unwrap(createApiClient({ baseUrl: base }).POST("/api/v1/auth/login", { body: { email: "a@b.c", password: "x" } }));
    await expect(call).rejects.toBeInstanceOf(ApiProblem);
    await expect(call).rejects.toMatchObject({ status: 429, retryAfterSeconds: 30, message: "Too many attempts. Please wait 30 seconds and try again." });
  });

  it("turns a network failure into a plain-words problem", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const call = unwrap(createApiClient({ baseUrl: base }).GET("/api/v1/auth/session"));
    await expect(call).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/internet connection/) });
  });
});

describe("401 handling", () => {
  it("reports a 401 from an ordinary request as an ended session", async () => {
    fakeApi({ "POST /api/v1/auth/mfa/setup": problem(401) });
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    await expect(unwrap(createApiClient({ baseUrl: base }).POST("/api/v1/auth/mfa/setup"))).rejects.toMatchObject({ status: 401 });
    expect(handler).toHaveBeenCalledWith("/api/v1/auth/mfa/setup");
  });

  it("leaves a 401 for wrong credentials to the sign-in form", async () => {
    fakeApi({ "POST /api/v1/auth/login": problem(401, { detail: "Invalid credentials" }) });
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    await expect(
      unwrap(createApiClient({ baseUrl: base }).POST("/api/v1/auth/login", { body: { email: "a@b.c", password: "x" } })),
    ).rejects.toMatchObject({ status: 401 });
    expect(handler).not.toHaveBeenCalled();
  });
});
