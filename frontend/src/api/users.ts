// People of the MSP and its practices: users, memberships, invitations.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { authKeys } from "./auth";
import { api, unwrap } from "./client";
import type { components } from "./schema";

const listUsers = () => unwrap(api.GET("/api/v1/users"));
const listInvitations = () => unwrap(api.GET("/api/v1/invitations"));

export type User = Awaited<ReturnType<typeof listUsers>>[number];
export type UserMembership = User["memberships"][number];
export type Invitation = Awaited<ReturnType<typeof listInvitations>>[number];
/** The answer to an invitation: the only time its one-time `link` is given. */
export type CreatedInvitation = components["schemas"]["CreatedInvitationOut"];
export type MspRole = "msp_owner" | "msp_admin" | "msp_technician";
export type PracticeRole = "practice_owner" | "practice_staff";

export const userKeys = {
  users: ["users"] as const,
  invitations: ["users", "invitations"] as const,
};

export function useUsers() {
  return useQuery({ queryKey: userKeys.users, queryFn: listUsers });
}

export function useInvitations() {
  return useQuery({ queryKey: userKeys.invitations, queryFn: listInvitations });
}

function useUsersMutation<T, R>(call: (arg: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.users }) });
}

/** A change to memberships may be to the caller's own: their session (and so what the app offers
 * them) is read again too. */
function useMembershipMutation<T, R>(call: (arg: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: userKeys.users }),
        queryClient.invalidateQueries({ queryKey: authKeys.session }),
      ]),
  });
}

export type InviteInput =
  | { kind: "msp"; email: string; role: MspRole }
  | { kind: "practice"; email: string; role: PracticeRole; practiceId: string };

export function useInvite() {
  return useUsersMutation((input: InviteInput): Promise<CreatedInvitation> =>
    input.kind === "msp"
      ? unwrap(api.POST("/api/v1/invitations", { body: { email: input.email, role: input.role } }))
      : unwrap(
          api.POST("/api/v1/practices/{practice_id}/invitations", {
            params: { path: { practice_id: input.practiceId } },
            body: { email: input.email, role: input.role },
          }),
        ),
  );
}

export function useRevokeInvitation() {
  return useUsersMutation((invitationId: string) =>
    unwrap(api.DELETE("/api/v1/invitations/{invitation_id}", { params: { path: { invitation_id: invitationId } } })),
  );
}

export function useChangeRole() {
  return useMembershipMutation(({ membershipId, role }: { membershipId: string; role: MspRole | PracticeRole }) =>
    unwrap(api.PATCH("/api/v1/memberships/{membership_id}", { params: { path: { membership_id: membershipId } }, body: { role } })),
  );
}

export function useRemoveMembership() {
  return useMembershipMutation((membershipId: string) =>
    unwrap(api.DELETE("/api/v1/memberships/{membership_id}", { params: { path: { membership_id: membershipId } } })),
  );
}
