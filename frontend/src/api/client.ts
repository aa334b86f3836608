// The one typed HTTP client for the Seawall API (same origin, cookie session).
import createClient, { type Middleware } from "openapi-fetch";
import { ApiProblem } from "./problem";
import { CSRF_COOKIE, CSRF_HEADER, needsCsrfToken, readCookie } from "./csrf";
import type { paths } from "./schema";

export type ApiPaths = paths;

/**
 * Paths where a 401 answers the question asked ("are these credentials right?", "am I signed
 * in?") rather than meaning the session ran out mid-use. The session path is decided by the
 * handler, which knows whether the app believed it was signed in.
 */
const CREDENTIAL_CHECK_PATHS: ReadonlySet<string> = new Set([
  "/api/v1/auth/login",
  "/api/v1/auth/mfa/verify",
  "/api/v1/auth/logout",
  "/api/v1/auth/password-reset/request",
  "/api/v1/auth/password-reset/confirm",
  "/api/v1/invitations/lookup",
  "/api/v1/invitations/accept",
]);

export type UnauthorizedHandler = (schemaPath: string) => void;

let onUnauthorized: UnauthorizedHandler = () => {};

/** Register what happens when the server says the session is gone (set once at start-up). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  onUnauthorized = handler;
}

export function csrfMiddleware(getCookies: () => string): Middleware {
  return {
    onRequest({ request }) {
      if (!needsCsrfToken(request.method)) return undefined;
      const token = readCookie(getCookies(), CSRF_COOKIE);
      if (token) request.headers.set(CSRF_HEADER, token);
      return request;
    },
  };
}

export const unauthorizedMiddleware: Middleware = {
  onResponse({ response, schemaPath }) {
    if (response.status === 401 && !CREDENTIAL_CHECK_PATHS.has(schemaPath)) {
      onUnauthorized(schemaPath);
    }
    return undefined;
  },
};

export interface ApiClientOptions {
  baseUrl?: string;
  getCookies?: () => string;
}

export function createApiClient(options: ApiClientOptions = {}) {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? globalThis.location?.origin ?? "",
    credentials: "include",
    // Looked up on every call so tests can stub the global fetch.
    fetch: (request) => globalThis.fetch(request),
  });
  client.use(csrfMiddleware(options.getCookies ?? (() => globalThis.document?.cookie ?? "")));
  client.use(unauthorizedMiddleware);
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export const api: ApiClient = createApiClient();

interface ApiResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The success body of a call; void for bodiless answers such as 204. */
export type DataOf<R extends ApiResult> = [Exclude<R["data"], undefined>] extends [never]
  ? void
  : Exclude<R["data"], undefined>;

/**
 * Await an openapi-fetch call and return its data, or throw an ApiProblem in plain words.
 * Query hooks use this so every failure reaching a component is an ApiProblem.
 */
export async function unwrap<R extends ApiResult>(call: Promise<R>): Promise<DataOf<R>> {
  let result: R;
  try {
    result = await call;
  } catch (error) {
    if (error instanceof ApiProblem) throw error;
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    // fetch rejects only when the request could not be made at all (offline, DNS, aborted).
    throw ApiProblem.network();
  }
  if (result.error !== undefined || !result.response.ok) {
    throw ApiProblem.fromResponse(result.response, result.error);
  }
  return result.data as DataOf<R>;
}
