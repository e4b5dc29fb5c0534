/**
 * Stack files on which YAML readers disagree (or that a reviewer would read
 * wrong): each hides, or could hide, a canary raise from one of the two
 * readings. The project must refuse every one with the line, the column and
 * (for a character) its name. Used by the plan, changed-stacks, rollout and
 * differential (Pulumi's own loader) tests.
 */

/** A prod-like stack file at 10 %, flags on: what a hostile change starts from. */
export const CLEAN_LINES: readonly string[] = [
  "# prod",
  "config:",
  `  valuecanvas:appImage: ghcr.io/valuecanvas/app@sha256:${"a".repeat(64)}`,
  '  valuecanvas:enableStatelessOrchestration: "true"',
  '  valuecanvas:enableSafeJsonParser: "true"',
  '  valuecanvas:canaryPercentage: "10"',
];
export const CLEAN = CLEAN_LINES.join("\n") + "\n";

/** The clean file with `extra` lines appended under `config:` (after the visible percentage). */
const withLines = (...extra: string[]) => [...CLEAN_LINES, ...extra].join("\n") + "\n";
/** The clean file without its visible percentage, plus `extra` lines. */
const hidden = (...extra: string[]) => [...CLEAN_LINES.slice(0, -1), ...extra].join("\n") + "\n";
const RAISE = 'valuecanvas:canaryPercentage: "100"';

export interface HostileStack {
  name: string;
  text: string;
  /** What the refusal must say (line, column, the character's name or the construct). */
  error: RegExp;
}

export const HOSTILE_STACKS: readonly HostileStack[] = [
  // Line breaks other than LF / CRLF: Go's reader ends a comment there, npm yaml does not.
  { name: "NEL (U+0085) inside a comment", text: hidden(`  # roll back to 0\u0085  ${RAISE}`), error: /line 6, column 19: U\+0085 NEXT LINE \(NEL\)/ },
  { name: "lone CR inside a comment", text: hidden(`  # roll back to 0\r  ${RAISE}`), error: /line 6, column 19: U\+000D CARRIAGE RETURN/ },
  { name: "LINE SEPARATOR (U+2028) inside a comment", text: hidden(`  # note\u2028  ${RAISE}`), error: /line 6, column 9: U\+2028 LINE SEPARATOR/ },
  { name: "PARAGRAPH SEPARATOR (U+2029) inside a comment", text: hidden(`  # note\u2029  ${RAISE}`), error: /line 6, column 9: U\+2029 PARAGRAPH SEPARATOR/ },
  { name: "NEL after a value", text: hidden(`  valuecanvas:canaryPercentage: "10" #\u0085  valuecanvas:canaryPercentag: "100"`), error: /line 6, column 39: U\+0085/ },
  { name: "NEL in a quoted value", text: hidden(`  valuecanvas:canaryPercentage: "10\u0085"`), error: /line 6, column 36: U\+0085/ },
  { name: "LF and CRLF mixed", text: CLEAN.replace("config:\n", "config:\r\n"), error: /line 2, .*CRLF but line 1 with LF/ },
  // Other characters.
  { name: "a byte order mark in the middle", text: hidden(`  \uFEFF${RAISE}`), error: /line 6, column 3: U\+FEFF ZERO WIDTH NO-BREAK SPACE \(byte order mark\)/ },
  { name: "a tab for indentation", text: hidden(`\t${RAISE}`), error: /line 6, column 1: U\+0009 CHARACTER TABULATION/ },
  { name: "a NUL in a comment", text: hidden(`  # x\u0000  ${RAISE}`), error: /line 6, column 6: U\+0000 NULL/ },
  { name: "an ESC in a comment", text: hidden(`  # \u001b[2K  ${RAISE}`), error: /U\+001B ESCAPE/ },
  { name: "a C1 control character", text: hidden(`  # x\u0090`, `  ${RAISE}`), error: /line 6, column 6: U\+0090 \(a C1 control character\)/ },
  { name: "DELETE", text: hidden(`  # x\u007f`, `  ${RAISE}`), error: /U\+007F DELETE/ },
  { name: "a right-to-left override (a reviewer sees another text)", text: withLines(`  # \u202e"001" :egatnecreP`), error: /U\+202E RIGHT-TO-LEFT OVERRIDE/ },
  { name: "a zero-width space in a key", text: hidden(`  valuecanvas:canary\u200bPercentage: "100"`), error: /U\+200B ZERO WIDTH SPACE/ },
  { name: "a no-break space", text: hidden(`  valuecanvas:canaryPercentage:\u00a0"100"`), error: /U\+00A0 NO-BREAK SPACE/ },
  { name: "a replacement character (invalid UTF-8)", text: hidden(`  # \ufffd`, `  ${RAISE}`), error: /U\+FFFD REPLACEMENT CHARACTER/ },
  // Constructs.
  { name: "a merge key", text: hidden(`  <<: {${RAISE}}`), error: /line 6, column 3: a merge key/ },
  { name: "an anchor and an alias", text: hidden(`  valuecanvas:appReplicas: &n "3"`, `  valuecanvas:canaryPercentage: *n`), error: /line 6, column 28: an anchor/ },
  { name: "a tag", text: hidden(`  valuecanvas:canaryPercentage: !!str 100`), error: /line 6, column 33: a tag/ },
  { name: "a flow mapping as config", text: "config: {valuecanvas:canaryPercentage: \"100\"}\n", error: /line 1, column 9: a flow collection/ },
  { name: "a flow mapping as a value", text: withLines(`  valuecanvas:gate: {soakHours: 0}`), error: /line 7, column 21: a flow collection/ },
  { name: "a block scalar", text: hidden(`  valuecanvas:canaryPercentage: |-`, `    100`), error: /line 6, column 33: a block scalar/ },
  { name: "a multi-line quoted value", text: hidden(`  valuecanvas:canaryPercentage: "1`, `    00"`), error: /line 6, column 33: a double-quoted value must end on the same line/ },
  { name: "a \\N escape (NEL) in a double-quoted value", text: hidden(`  valuecanvas:canaryPercentage: "100\\N"`), error: /line 6, column 37: the escape \\N/ },
  { name: "a \\x escape", text: hidden(`  valuecanvas:canaryPercentage: "\\x31\\x30\\x30"`), error: /the escape \\x/ },
  { name: "a duplicate key", text: withLines(`  ${RAISE}`), error: /line 7, column 3: duplicate key "valuecanvas:canaryPercentage" \(first at line 6\)/ },
  { name: "a key without namespace (Pulumi adds the project's)", text: withLines(`  canaryPercentage: "100"`), error: /config key "canaryPercentage" has no namespace; Pulumi reads it as "valuecanvas:canaryPercentage"/ },
  { name: "the legacy ns:config:name key form", text: hidden(`  valuecanvas:config:canaryPercentage: "100"`), error: /config key "valuecanvas:config:canaryPercentage" has 2 colons/ },
  { name: "an ESC environment import", text: `environment: canary-100\n${CLEAN}`, error: /top-level key "environment" imports Pulumi ESC environments/ },
  { name: "an unknown top-level key", text: `Config: x\n${CLEAN}`, error: /unknown top-level key "Config"/ },
  { name: "a second document", text: `${CLEAN}---\nconfig:\n  ${RAISE}\n`, error: /line 7, column 1: a document marker/ },
  { name: "a %YAML 1.1 directive", text: `%YAML 1.1\n---\n${CLEAN}`, error: /line 1, column 1: a directive/ },
  { name: "an octal number (Go: 8, npm yaml: 10)", text: withLines("  valuecanvas:appReplicas: 010"), error: /line 7, column 28: "010" is read as a number by some YAML readers/ },
  { name: "a number with _ (Go: 100, npm yaml: a string)", text: hidden("  valuecanvas:canaryPercentage: 1_00"), error: /"1_00" is read as a number by some/ },
  { name: "a hex number", text: hidden("  valuecanvas:canaryPercentage: 0x64"), error: /"0x64" is read as a number/ },
  { name: "an exponent", text: hidden("  valuecanvas:canaryPercentage: 1e2"), error: /"1e2" is read as a number/ },
  { name: "a YAML 1.1 boolean", text: hidden('  valuecanvas:canaryPercentage: "100"').replace('SafeJsonParser: "true"', "SafeJsonParser: yes"), error: /line 5, column 37: "yes" means a boolean or null/ },
  { name: "a capitalised boolean", text: CLEAN.replace('SafeJsonParser: "true"', "SafeJsonParser: True"), error: /"True" means a boolean or null/ },
  { name: "an empty value (Pulumi: \"\", npm yaml: null)", text: hidden("  valuecanvas:canaryPercentage:"), error: /line 6, column 3: "valuecanvas:canaryPercentage" has no value/ },
  { name: "an explicit null", text: hidden("  valuecanvas:canaryPercentage: null"), error: /"null" means a boolean or null/ },
  { name: "a list", text: withLines("  valuecanvas:appExtraEnv:", "    - A=1"), error: /line 8, column 5: a list item/ },
  { name: "a complex key", text: withLines(`  ? ${RAISE}`), error: /line 7, column 3: a complex key/ },
  { name: "a quoted key", text: hidden(`  "valuecanvas:canaryPercentage": "100"`), error: /line 6, column 3: a quoted key/ },
  { name: "a comment without a space", text: hidden(`  valuecanvas:canaryPercentage: "100"#x`), error: /line 6, column 38: a comment needs a space/ },
  { name: "uneven indentation", text: withLines("  valuecanvas:database:", "      host: a", "    port: 5432"), error: /line 9, column 5: indented 4 spaces, but no enclosing mapping starts in that column \(they are indented 6, 2, 0\)/ },
  { name: "a secure mapping with a second key", text: withLines("  valuecanvas:slackWebhookUrl:", "    secure: v1:AAAA", "    plain: x"), error: /a "secure:" mapping must hold exactly one string/ },
  { name: "a negative zero", text: withLines("  valuecanvas:gate:", "    exposureTolerancePct: -0.0"), error: /negative zero/ },
];

/** Project files (Pulumi.yaml) that give a stack config its stack file does not show. */
export const HOSTILE_PROJECT_FILES: readonly HostileStack[] = [
  { name: "project-level config", text: "name: valuecanvas\nruntime: nodejs\nconfig:\n  valuecanvas:canaryPercentage: 100\n", error: /Pulumi\.yaml: the key "config" is not accepted: project-level config applies to every stack/ },
  { name: "stackConfigDir", text: "name: valuecanvas\nruntime: nodejs\nstackConfigDir: elsewhere\n", error: /Pulumi\.yaml: the key "stackConfigDir" is not accepted/ },
  { name: "a NEL hiding config", text: "name: valuecanvas\nruntime: nodejs # x\u0085config: {valuecanvas:canaryPercentage: 100}\n", error: /Pulumi\.yaml line 2, column 20: U\+0085 NEXT LINE/ },
  { name: "a merge key", text: "name: valuecanvas\nruntime: nodejs\n<<: {config: {valuecanvas:canaryPercentage: 100}}\n", error: /Pulumi\.yaml: unknown key "<<"/ },
];
