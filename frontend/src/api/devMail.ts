// Development mail: what the local SMTP sink of `seawall run` received. The route exists only
// outside production, so a 404 is the server saying "not in development" (nothing to show).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const listDevMail = () => unwrap(api.GET("/api/v1/dev/mail"));

export type DevMail = Awaited<ReturnType<typeof listDevMail>>;
export type DevMailMessage = DevMail["messages"][number];

export const devMailKeys = { all: ["dev-mail"] as const };

/** The kept messages; refreshed every few seconds, as an inbox would be. */
export function useDevMail(options: { poll?: boolean } = {}) {
  return useQuery({
    queryKey: devMailKeys.all,
    queryFn: listDevMail,
    retry: false,
    refetchInterval: options.poll ? 3_000 : false,
  });
}

/** Whether the server is in development (it answers the dev mail route); false while unknown. */
export function useIsDevelopment(): boolean {
  return useDevMail().isSuccess;
}
