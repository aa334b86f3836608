import { describe, expect, it } from "vitest";
import { ApiProblem, errorMessage, fieldName, parseRetryAfter, waitPhrase } from "./problem";

function response(status: number, headers: Record<string, string> = {}) {
  return new Response(null, { status, headers });
}

describe("ApiProblem.fromResponse", () => {
  it("uses the server's detail for a 4xx domain error", () => {
    const p = ApiProblem.fromResponse(response(409), {
      type: "https://seawall.example/problems/plan-not-approvable",
      title: "Plan not approvable",
      status: 409,
      detail: "The plan has sections that are not finished yet.",
    });
    expect(p).toBeInstanceOf(Error);
    expect(p.status).toBe(409);
    expect(p.type).toBe("https://seawall.example/problems/plan-not-approvable");
    expect(p.message).toBe("The plan has sections that are not finished yet.");
  });

  it("never shows a 5xx detail", () => {
    const p = ApiProblem.fromResponse(response(500), { status: 500, title: "Internal", detail: "psycopg.errors.UniqueViolation" });
    expect(p.message).toBe("Something went wrong on our side. Please try again in a few minutes.");
    expect(p.message).not.toContain("psycopg");
  });

  it("maps errors[] to fields and summarises validation in one sentence", () => {
    const p = ApiProblem.fromResponse(response(422), {
      status: 422,
      title: "Validation failed",
      detail: "2 validation errors",
      errors: [
        { field: "body.email", message: "value is not a valid email address" },
        { field: "password", message: "Value error, Use at least 12 characters" },
      ],
    });
    expect(p.fieldErrors).toEqual({
      email: "Value is not a valid email address",
      password: "Use at least 12 characters",
    });
    expect(p.message).toBe("Some details need fixing. Check the highlighted fields.");
    expect(p.hasFieldErrors()).toBe(true);
  });

  it("reads FastAPI's default validation body too", () => {
    const p = ApiProblem.fromResponse(response(422), {
      detail: [{ loc: ["body", "code"], msg: "String should have at least 6 characters", type: "string_too_short" }],
    });
    expect(p.fieldErrors).toEqual({ code: "String should have at least 6 characters" });
  });

  it("says how long to wait when throttled", () => {
    const p = ApiProblem.fromResponse(response(429, { "Retry-After": "120" }), { status: 429, detail: "Rate limited" });
    expect(p.retryAfterSeconds).toBe(120);
    expect(p.message).toBe("Too many attempts. Please wait 2 minutes and try again.");
  });

  it("falls back to plain words when the body is not problem+json", () => {
    const p = ApiProblem.fromResponse(response(403), "<html>Forbidden</html>");
    expect(p.message).toBe("You don't have permission to do that. Ask your administrator if you need access.");
    expect(ApiProblem.fromResponse(response(404), undefined).message).toMatch(/couldn't find that/);
  });
});

describe("helpers", () => {
  it("names the form field of an error location", () => {
    expect(fieldName("body.email")).toBe("email");
    expect(fieldName(["body", "contacts", 0, "phone"])).toBe("contacts.0.phone");
    expect(fieldName("body")).toBe("");
  });

  it("parses Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("rounds waits up and never says zero", () => {
    expect(waitPhrase(1)).toBe("Please wait 1 second and try again.");
    expect(waitPhrase(61)).toBe("Please wait 2 minutes and try again.");
    expect(waitPhrase(0)).toBe("Please wait a little and try again.");
  });

  it("gives plain words for errors that are not API problems", () => {
    expect(errorMessage(new TypeError("x is undefined"))).toBe("Something went wrong in the app. Reload the page and try again.");
    expect(errorMessage(ApiProblem.network())).toMatch(/can't reach Seawall/);
  });
});
