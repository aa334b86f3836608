import { describe, expect, it, vi } from "vitest";
import { authKeys } from "../api/auth";
import { createQueryClient } from "../api/queryClient";
import { SESSION_OK } from "../test/fakeApi";
import { createUnauthorizedHandler } from "./sessionExpiry";

function setup(path: string, signedIn: boolean) {
  const queryClient = createQueryClient();
  if (signedIn) queryClient.setQueryData(authKeys.session, SESSION_OK);
  queryClient.setQueryData(["practices", "readiness"], { score: 72 });
  const navigate = vi.fn();
  const handle = createUnauthorizedHandler({ queryClient, navigate, currentPath: () => path });
  return { queryClient, navigate, handle };
}

describe("session expiry", () => {
  it("sends a signed-in person to sign in with the expired notice and forgets their data", () => {
    const { queryClient, navigate, handle } = setup("/readiness", true);
    handle("/api/v1/practices/{practice_id}/readiness");
    expect(navigate).toHaveBeenCalledWith("/sign-in?expired=1&next=%2Freadiness");
    expect(queryClient.getQueryData(["practices", "readiness"])).toBeUndefined();
    expect(queryClient.getQueryData(authKeys.session)).toBeNull();
  });

  it("says nothing about expiry to someone who was never signed in", () => {
    const { navigate, handle } = setup("/", false);
    handle("/api/v1/auth/session");
    expect(navigate).not.toHaveBeenCalled();
  });

  it("treats a session check that fails after sign-in as expiry", () => {
    const { navigate, handle } = setup("/account", true);
    handle("/api/v1/auth/session");
    expect(navigate).toHaveBeenCalledWith("/sign-in?expired=1&next=%2Faccount");
  });
});
