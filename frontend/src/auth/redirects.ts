// Where to send people around sign-in, without ever sending them off-site.

export const SIGN_IN_PATH = "/sign-in";
export const MFA_SETUP_PATH = "/mfa/setup";

/** A `next` parameter is honoured only if it is a path on this site (no "//evil.example"). */
export function safeNextPath(next: string | null | undefined, fallback = "/"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  if (next === SIGN_IN_PATH || next.startsWith(`${SIGN_IN_PATH}?`) || next.startsWith("/sign-out")) {
    return fallback;
  }
  return next;
}

export function signInPath(options: { next?: string; expired?: boolean } = {}): string {
  const params = new URLSearchParams();
  if (options.expired) params.set("expired", "1");
  const next = safeNextPath(options.next, "");
  if (next && next !== "/") params.set("next", next);
  const query = params.toString();
  return query ? `${SIGN_IN_PATH}?${query}` : SIGN_IN_PATH;
}
