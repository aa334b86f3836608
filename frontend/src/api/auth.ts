// Sign-in, MFA, session, password reset and invitations: TanStack Query hooks over the API.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { ApiProblem } from "./problem";

// Types come from what each call returns, not from schema names, so renaming a server-side
// model (LoginOut → LoginResponse) regenerates cleanly; only a changed shape breaks the build.
const getSession = () => unwrap(api.GET("/api/v1/auth/session"));
const startMfaSetup = () => unwrap(api.POST("/api/v1/auth/mfa/setup"));
const lookupInvitation = (token: string) =>
  unwrap(api.GET("/api/v1/invitations/lookup", { params: { query: { token } } }));

export type Session = Awaited<ReturnType<typeof getSession>>;
export type SessionStatus = Session["status"];
export type Membership = Session["memberships"][number];
export type MfaSetup = Awaited<ReturnType<typeof startMfaSetup>>;
export type InvitationLookup = Awaited<ReturnType<typeof lookupInvitation>>;

export const authKeys = {
  all: ["auth"] as const,
  session: ["auth", "session"] as const,
  mfaSetup: ["auth", "mfa-setup"] as const,
  invitation: (token: string) => ["invitations", "lookup", token] as const,
};

/** The current session, or null when signed out (the API answers 401). */
export async function fetchSession(): Promise<Session | null> {
  try {
    return await getSession();
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return null;
    throw error;
  }
}

export function useSession() {
  return useQuery({ queryKey: authKeys.session, queryFn: fetchSession, staleTime: 60_000 });
}

/** After anything that changes who is signed in: read the session again before moving on. */
function useRefreshSession() {
  const queryClient = useQueryClient();
  // A failed read is left in the query for the route guard to show; the caller just moves on.
  return () =>
    queryClient
      .fetchQuery({ queryKey: authKeys.session, queryFn: fetchSession, staleTime: 0 })
      .catch(() => undefined);
}

export function useLogin() {
  return useMutation({
    mutationFn: (body: { email: string; password: string }) =>
      unwrap(api.POST("/api/v1/auth/login", { body })),
  });
}

export type MfaVerifyBody = { code: string } | { recovery_code: string };

export function useVerifyMfa() {
  return useMutation({
    mutationFn: (body: MfaVerifyBody) => unwrap(api.POST("/api/v1/auth/mfa/verify", { body })),
  });
}

/**
 * Starting enrolment is a POST that mints a new secret, but it is read like data: a query
 * keeps React's double-mounting (and a re-render) from minting two secrets and showing the
 * wrong QR code.
 */
export function useMfaSetup(enabled: boolean) {
  return useQuery({
    queryKey: authKeys.mfaSetup,
    queryFn: startMfaSetup,
    enabled,
    staleTime: Infinity,
    gcTime: Infinity,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    retry: false,
  });
}

export function useEnableMfa() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { code: string }) => unwrap(api.POST("/api/v1/auth/mfa/enable", { body })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: authKeys.mfaSetup });
    },
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/logout")),
    // Whatever the server said, nothing the previous user loaded may stay in memory.
    onSettled: () => {
      queryClient.clear();
      queryClient.setQueryData(authKeys.session, null);
    },
  });
}

export function useRequestPasswordReset() {
  return useMutation({
    mutationFn: (body: { email: string }) =>
      unwrap(api.POST("/api/v1/auth/password-reset/request", { body })),
  });
}

export function useConfirmPasswordReset() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) =>
      unwrap(api.POST("/api/v1/auth/password-reset/confirm", { body })),
  });
}

export function useInvitation(token: string) {
  return useQuery({
    queryKey: authKeys.invitation(token),
    queryFn: () => lookupInvitation(token),
    enabled: token !== "",
  });
}

export function useAcceptInvitation() {
  return useMutation({
    mutationFn: (body: { token: string; name: string; password: string }) =>
      unwrap(api.POST("/api/v1/invitations/accept", { body })),
  });
}

export { useRefreshSession };
