// Windows tools report 32-bit status codes (0xC0000005 is an access violation), which people look
// up in hex; a POSIX code (0-255) reads as it is.
export function exitCodeWords(code: number): string {
  if (code >= 0 && code <= 255) return `exit code ${code}`;
  const hex = (code >>> 0).toString(16).toUpperCase().padStart(8, "0");
  return `exit code 0x${hex} (${code})`;
}
