// A fake of the API at the fetch boundary: routes by "METHOD /path" and records what was sent.
import { vi } from "vitest";

export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  credentials: RequestCredentials;
  body: unknown;
}

type Reply = Response | ((request: RecordedRequest) => Response);

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

export function problem(status: number, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: "about:blank", title: "Error", status, ...body }), {
    status,
    headers: { "Content-Type": "application/problem+json", ...headers },
  });
}

export function noContent(status = 204): Response {
  return new Response(null, { status });
}

/** Install a fake fetch. Replies listed as arrays are used in order, the last one repeating. */
export function fakeApi(routes: Record<string, Reply | Reply[]>) {
  const requests: RecordedRequest[] = [];
  const calls = new Map<string, number>();
  const fetch = vi.fn(async (input: Request) => {
    const url = new URL(input.url);
    const text = await input.text();
    const recorded: RecordedRequest = {
      method: input.method,
      path: url.pathname,
      search: url.search,
      headers: input.headers,
      credentials: input.credentials,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    requests.push(recorded);
    const key = `${input.method} ${url.pathname}`;
    const route = routes[key];
    if (route === undefined) return problem(404, { detail: `No fake for ${key}` });
    const n = calls.get(key) ?? 0;
    calls.set(key, n + 1);
    const reply = Array.isArray(route) ? route[Math.min(n, route.length - 1)] : route;
    if (reply === undefined) throw new Error(`Empty reply list for ${key}`);
    return typeof reply === "function" ? reply(recorded) : reply.clone();
  });
  vi.stubGlobal("fetch", fetch);
  return { requests, fetch, sent: (key: string) => requests.filter((r) => `${r.method} ${r.path}` === key) };
}

export const SESSION_OK = {
  user: { id: "8d3e1c2a-0000-4000-8000-000000000001", email: "dana@harbor.example", name: "Dana Lee", mfa_enabled: true },
  status: "ok",
  csrf_token: "csrf-1",
  memberships: [
    {
      msp_id: "8d3e1c2a-0000-4000-8000-0000000000aa",
      msp_name: "Harbor IT",
      practice_id: "8d3e1c2a-0000-4000-8000-0000000000bb",
      practice_name: "Bayside Dental",
      role: "practice_owner",
    },
  ],
} as const;
