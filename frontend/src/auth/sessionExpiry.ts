// What the app does when the API says the session is gone in the middle of use.
import type { QueryClient } from "@tanstack/react-query";
import { authKeys } from "../api/auth";
import { SIGN_IN_PATH, signInPath } from "./redirects";

export interface ExpiryDeps {
  queryClient: QueryClient;
  navigate: (to: string) => void;
  currentPath: () => string;
}

export function createUnauthorizedHandler({ queryClient, navigate, currentPath }: ExpiryDeps) {
  return (schemaPath: string): void => {
    const hadSession = Boolean(queryClient.getQueryData(authKeys.session));
    // A 401 from the session endpoint for someone who was never signed in is just "signed out";
    // the route guard sends them to sign in without talking about an expired session.
    if (schemaPath === "/api/v1/auth/session" && !hadSession) return;
    // Drop everything the signed-out user loaded: it must not be on screen for the next person.
    queryClient.clear();
    queryClient.setQueryData(authKeys.session, null);
    const here = currentPath();
    if (here.startsWith(SIGN_IN_PATH)) return;
    navigate(signInPath({ next: here, expired: true }));
  };
}
