// RFC 9457 problem details → an error whose message a practice owner can read.

export interface ProblemFieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: ProblemFieldError[];
}

const NETWORK_MESSAGE =
  "We can't reach Seawall right now. Check your internet connection and try again.";
const SERVER_MESSAGE = "Something went wrong on our side. Please try again in a few minutes.";

/** Plain-words fallback for a status when the server sent no detail we should show. */
export function messageForStatus(status: number, retryAfterSeconds?: number): string {
  if (status === 0) return NETWORK_MESSAGE;
  if (status === 401) return "Your session has ended. Please sign in again.";
  if (status === 403) return "You don't have permission to do that. Ask your administrator if you need access.";
  if (status === 404) return "We couldn't find that. It may have been removed, or the link may be wrong.";
  if (status === 409) return "That change clashes with something that changed in the meantime. Reload and try again.";
  if (status === 410) return "This link has expired or has already been used.";
  if (status === 413) return "That is too large to upload.";
  if (status === 400 || status === 422) return "Some details need fixing. Check the highlighted fields.";
  if (status === 429) return `Too many attempts. ${waitPhrase(retryAfterSeconds)}`;
  if (status >= 500) return SERVER_MESSAGE;
  return "That didn't work. Please try again.";
}

/** "Please wait 2 minutes and try again." — rounded up, never "0 seconds". */
export function waitPhrase(retryAfterSeconds?: number): string {
  if (retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds) || retryAfterSeconds <= 0) {
    return "Please wait a little and try again.";
  }
  if (retryAfterSeconds < 60) {
    const s = Math.ceil(retryAfterSeconds);
    return `Please wait ${s} second${s === 1 ? "" : "s"} and try again.`;
  }
  const m = Math.ceil(retryAfterSeconds / 60);
  return `Please wait ${m} minute${m === 1 ? "" : "s"} and try again.`;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now.getTime()) / 1000);
}

/** "body.email" or ["body", "email"] → "email": the form field the error belongs to. */
export function fieldName(field: string | ReadonlyArray<string | number>): string {
  const parts = typeof field === "string" ? field.split(".") : field.map(String);
  const meaningful = parts.filter((p) => p !== "body" && p !== "query" && p !== "path" && p !== "");
  return meaningful.length > 0 ? meaningful.join(".") : "";
}

// Pydantic prefixes messages from custom validators with "Value error, "; people don't need that.
function tidyFieldMessage(message: string): string {
  const trimmed = message.replace(/^(Value|Assertion) error,\s*/i, "").trim();
  if (trimmed === "") return "This value isn't valid.";
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readFieldErrors(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (field: string, message: string) => {
    // Keep the first message for a field: it is usually the most basic problem.
    if (!(field in out)) out[field] = tidyFieldMessage(message);
  };
  if (Array.isArray(body.errors)) {
    for (const item of body.errors) {
      if (isRecord(item) && typeof item.message === "string") {
        add(typeof item.field === "string" ? fieldName(item.field) : "", item.message);
      }
    }
  }
  // FastAPI's default validation body ({"detail": [{"loc": [...], "msg": "..."}]}) in case an
  // endpoint slips past the server's problem+json handler.
  if (Array.isArray(body.detail)) {
    for (const item of body.detail) {
      if (isRecord(item) && typeof item.msg === "string" && Array.isArray(item.loc)) {
        add(fieldName(item.loc.filter((p): p is string | number => typeof p === "string" || typeof p === "number")), item.msg);
      }
    }
  }
  return out;
}

export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  /** HTTP status; 0 when the request never reached the server. */
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** Messages keyed by form field name; "" holds errors that name no field. */
  readonly fieldErrors: Readonly<Record<string, string>>;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    status: number;
    message: string;
    type?: string;
    title?: string;
    detail?: string;
    fieldErrors?: Record<string, string>;
    retryAfterSeconds?: number;
  }) {
    super(init.message);
    this.status = init.status;
    this.type = init.type ?? "about:blank";
    this.title = init.title ?? "";
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? {};
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** Build from a failed response and its already-read body (parsed JSON or raw text). */
  static fromResponse(response: Response, body: unknown): ApiProblem {
    const status = response.status;
    const retryAfterSeconds = parseRetryAfter(response.headers.get("Retry-After"));
    const record = isRecord(body) ? body : {};
    const detail = typeof record.detail === "string" ? record.detail.trim() : undefined;
    const fieldErrors = readFieldErrors(record);
    return new ApiProblem({
      status,
      message: plainMessage(status, detail, Object.keys(fieldErrors).length > 0, retryAfterSeconds),
      type: typeof record.type === "string" ? record.type : undefined,
      title: typeof record.title === "string" ? record.title : undefined,
      detail,
      fieldErrors,
      retryAfterSeconds,
    });
  }

  static network(): ApiProblem {
    return new ApiProblem({ status: 0, message: NETWORK_MESSAGE });
  }

  /** True when the error concerns a form field, so the form can show it next to the input. */
  hasFieldErrors(): boolean {
    return Object.keys(this.fieldErrors).length > 0;
  }
}

// The server writes 4xx `detail` for people (domain errors such as "RTO must not exceed MTD").
// 5xx detail is never shown: it can only confuse, and the server promises it says nothing useful.
// 429 always uses our wording because it must say how long to wait; validation problems with
// field errors get one summary sentence because each field shows its own message.
function plainMessage(
  status: number,
  detail: string | undefined,
  hasFieldErrors: boolean,
  retryAfterSeconds?: number,
): string {
  if ((status === 400 || status === 422) && hasFieldErrors) return messageForStatus(status);
  if (status >= 400 && status < 500 && status !== 429 && detail) return detail;
  return messageForStatus(status, retryAfterSeconds);
}

/** Plain words for any thrown value, for places that only show one sentence. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiProblem) return error.message;
  return "Something went wrong in the app. Reload the page and try again.";
}
