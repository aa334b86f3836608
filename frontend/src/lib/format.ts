// Durations and times in the words people use on the phone during an outage.

/** 90 → "1 h 30 min", 1440 → "1 day", 2940 → "2 days 1 h"; never more than two units. */
export function formatMinutes(total: number): string {
  if (!Number.isFinite(total) || total < 0) return "unknown";
  const minutes = Math.round(total);
  if (minutes < 60) return `${minutes} min`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) {
    const d = `${days} day${days === 1 ? "" : "s"}`;
    return hours > 0 ? `${d} ${hours} h` : d;
  }
  return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "unknown" : dateTime.format(date);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "unknown" : dateOnly.format(date);
}

/** "5 min ago", "3 h ago", "2 days ago" — for "last seen" style facts. */
export function formatAgo(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return "unknown";
  const minutes = Math.max(0, (now.getTime() - then) / 60_000);
  if (minutes < 1) return "just now";
  return `${formatMinutes(minutes)} ago`;
}

/** snake_case enum values → "Practice management". */
export function humanize(value: string): string {
  const words = value.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
