import type { FormEvent } from "react";
import { ApiProblem } from "../../api/problem";

/** The trimmed text of a named field of the submitted form. */
export function formText(event: FormEvent<HTMLFormElement>, name: string): string {
  const value = new FormData(event.currentTarget).get(name);
  return typeof value === "string" ? value.trim() : "";
}

/** The error for one field from a failed mutation, for TextField's `error`. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiProblem ? error.fieldErrors[field] : undefined;
}
