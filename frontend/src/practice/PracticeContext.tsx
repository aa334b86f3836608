// Which practice a practice view shows: a practice user's own, or the one an MSP technician opened.
import { createContext, useContext, type ReactNode } from "react";
import { useSignedInSession } from "../auth/RequireSession";

const PracticeIdContext = createContext<string | null>(null);

export function PracticeProvider({ practiceId, children }: { practiceId: string; children: ReactNode }) {
  return <PracticeIdContext.Provider value={practiceId}>{children}</PracticeIdContext.Provider>;
}

/**
 * The practice shown. Inside an MSP's practice detail it is the one in the URL; in the practice
 * shell it is the person's own practice (the first, for the rare person in several).
 */
export function usePracticeId(): string {
  const fromRoute = useContext(PracticeIdContext);
  const session = useSignedInSession();
  if (fromRoute) return fromRoute;
  const own = session.memberships.find((m) => m.practice_id)?.practice_id;
  if (!own) throw new Error("usePracticeId is used outside a practice");
  return own;
}

/** True when the view is shown inside an MSP's practice detail (which has its own heading). */
export function useInPracticeDetail(): boolean {
  return useContext(PracticeIdContext) !== null;
}
