/**
 * ANSI escapes are stripped by Node's util.stripVTControlCharacters (core/redact.ts
 * stripAnsi), not a hand-written pattern: colours, cursor moves, OSC titles and
 * hyperlinks (BEL- or ST-terminated) all go, and the text between them stays.
 */
import { strict as assert } from "node:assert";
import { stripAnsi } from "../../core/redact";
import { stripAnsi as fromComment } from "../../ci/comment";

describe("stripAnsi (util.stripVTControlCharacters)", () => {
  const cases: Array<[string, string]> = [
    ["\u001b[31m  ~ key: value\u001b[0m", "  ~ key: value"],
    ["\u001b[1;32mok\u001b[39;49m done", "ok done"],
    ["\u001b[2K\u001b[1Gline", "line"],
    ["\u001b]0;title\u0007after", "after"],
    ["\u001b]8;;https://example.invalid/x\u001b\\link\u001b]8;;\u001b\\", "link"],
    ["\u009b31mC1 CSI\u009b0m", "C1 CSI"],
    ["plain text, 100% unchanged", "plain text, 100% unchanged"],
  ];
  for (const [input, want] of cases) {
    it(`strips ${JSON.stringify(input)}`, () => {
      assert.equal(stripAnsi(input), want);
      assert.equal(fromComment(input), want, "the PR comment uses the same function");
    });
  }
});
