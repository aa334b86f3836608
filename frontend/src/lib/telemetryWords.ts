// What agents report, in the words of the people reading about it (never a field name).

const EVENT_WORDS: Record<string, string> = {
  heartbeat: "Heartbeat",
  backup_run: "Backup run",
  restore_test: "Restore test",
  link_sample: "Internet link check",
  failover: "Switch to another internet link",
  ping: "Backup ping",
};

// Both what agents send (job, link…) and what the inbox keeps (job_id, link_id…).
const FIELD_WORDS: Record<string, string> = {
  id: "the report's id",
  type: "the kind of report",
  occurred_at: "the time of the report",
  body: "the request",
  events: "the list of reports",
  job: "the backup job",
  job_id: "the backup job",
  system: "the system",
  system_id: "the system",
  link: "the internet link",
  link_id: "the internet link",
  from_link: "the link it switched from",
  from_link_id: "the link it switched from",
  to_link: "the link it switched to",
  to_link_id: "the link it switched to",
  status: "the result",
  started_at: "the start time",
  finished_at: "the end time",
  ended_at: "the end time",
  restore_point_at: "the time of the saved copy",
  bytes: "the size",
  files: "the number of files",
  snapshot_id: "the snapshot name",
  verified: "whether it was verified",
  exit_code: "the exit code",
  log_tail: "the log",
  success: "whether it worked",
  notes: "the notes",
  up: "whether the link was up",
  latency_ms: "the delay",
  loss_pct: "the packet loss",
  jitter_ms: "the jitter",
  kind: "the kind of ping",
  rid: "the run id",
  agent_version: "the agent's version",
  hostname: "the computer's name",
};

export function eventWords(type: string | null | undefined): string {
  if (!type) return "Report";
  return EVENT_WORDS[type] ?? "Report of an unknown kind";
}

export function fieldWords(field: string | null | undefined): string {
  if (!field) return "the report";
  const parts = field.split(".").filter((p) => !/^\d+$/.test(p));
  return FIELD_WORDS[field] ?? FIELD_WORDS[parts[parts.length - 1] ?? ""] ?? "a detail of the report";
}

/** "started_at is missing" → "The start time is missing."; a reason without the field stays as it
 * is (appliers write whole sentences), ending in one full stop either way. */
export function reasonWords(field: string | null | undefined, reason: string): string {
  const text = field && reason.startsWith(`${field} `) ? `${fieldWords(field)} ${reason.slice(field.length + 1)}` : reason.trim();
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** One refused field of a batch in words: "the size must be at least 0". A refusal of the object
 * a report names ("names no backup job of this agent's site") reads with the report as its
 * subject, not "the backup job names no backup job …". */
export function refusalWords(field: string | null | undefined, message: string): string {
  return /^names\b/.test(message) ? `the report ${message}` : `${fieldWords(field)} ${message}`;
}
