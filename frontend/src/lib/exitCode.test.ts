import { describe, expect, it } from "vitest";
import { exitCodeWords } from "./exitCode";

describe("exitCodeWords", () => {
  it("reads a POSIX code as it is", () => {
    expect(exitCodeWords(1)).toBe("exit code 1");
    expect(exitCodeWords(255)).toBe("exit code 255");
  });
  it("shows a Windows status code in hex, signed or not", () => {
    expect(exitCodeWords(3221225477)).toBe("exit code 0xC0000005 (3221225477)");
    expect(exitCodeWords(-1073741819)).toBe("exit code 0xC0000005 (-1073741819)");
    expect(exitCodeWords(256)).toBe("exit code 0x00000100 (256)");
  });
});
