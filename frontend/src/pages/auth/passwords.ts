/** Client-side check that only catches typos; the server enforces the password policy. */
export function confirmationError(password: string, confirmation: string): string | undefined {
  if (confirmation !== "" && password !== confirmation) return "The two passwords don't match.";
  return undefined;
}
