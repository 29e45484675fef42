/**
 * Types of the prompt-injection detector for Tier 3 content (Domain 2, ASI01). Kept free of runtime code so that
 * the pipeline and adapters can import them without loading the rule tables.
 */

/** The kind of evidence a finding is. Each family has its own rules; a scan combines them into one score. */
export type InjectionFamily =
  /** Imperatives addressed to the assistant: override earlier instructions, new task, conceal from the user. */
  | 'instruction'
  /** Chat-template and role delimiters: `<|im_start|>`, `[INST]`, `### System`, `system:`, `<system>`. */
  | 'role-marker'
  /** Text that claims to come from the system, the developer, an administrator, the user or a tool. */
  | 'fake-system'
  /** Function-call syntax, MCP payloads, or instructions to call a tool, send, transfer or forward. */
  | 'tool-syntax'
  /** Invisible characters and markup: zero-width, Unicode tags, bidi overrides, HTML comments, `display:none`. */
  | 'hidden-text'
  /** Words that mix scripts (Latin with Cyrillic or Greek look-alikes) or spell a sensitive word in look-alikes. */
  | 'homoglyph'
  /** Base64, hex, URL-encoded, escaped, rot13 or reversed text that decodes to instructions. */
  | 'encoding'
  /** Instructions to send data to a URL or an address; markdown images that carry data in the query. */
  | 'exfiltration'
  /** Code that steals, destroys or phones home (keyloggers, `curl | sh`, reverse shells, ransomware). */
  | 'malicious-code';

/** Every family, in a stable order (reports, tests, neutralise markers). */
export const INJECTION_FAMILIES: readonly InjectionFamily[] = [
  'instruction',
  'role-marker',
  'fake-system',
  'tool-syntax',
  'hidden-text',
  'homoglyph',
  'encoding',
  'exfiltration',
  'malicious-code',
];

/** One piece of evidence, with a span into the original (not normalised) text. */
export interface InjectionFinding {
  family: InjectionFamily;
  /** Stable id of the rule that fired, e.g. `instruction.override`. */
  rule: string;
  /** UTF-16 offset of the first character in the original text. */
  start: number;
  /** UTF-16 offset one past the last character in the original text. */
  end: number;
  /** How strongly this finding alone suggests an injection, 0..1. */
  score: number;
  /** One sentence for a person. */
  message: string;
  /** The original text of the span, shortened, with invisible characters shown as `\u{…}`. Safe to log. */
  excerpt: string;
}

/** Options of {@link scanForInjection}. */
export interface InjectionScanOptions {
  /** Score at or above which the content is flagged. Default {@link DEFAULT_INJECTION_THRESHOLD}. */
  threshold?: number;
  /** UTF-16 code units scanned; the rest is ignored and the result says so. Default 262,144 (256 Ki). */
  maxChars?: number;
  /** Decode base64 / hex / URL-encoded / escaped / rot13 / reversed candidates and rescan them. Default true. */
  decode?: boolean;
  /** Families to report; findings of the others are dropped before scoring. Default: all. */
  families?: readonly InjectionFamily[];
}

/** The result of one scan. A value, never an exception: bad input gives a clear result. */
export interface InjectionScan {
  /** Combined score, 0..1. */
  score: number;
  /** `score >= threshold`. */
  flagged: boolean;
  threshold: number;
  /** Sorted by start offset, then by score (highest first). */
  findings: InjectionFinding[];
  /** Highest finding score per family that fired. */
  families: Partial<Record<InjectionFamily, number>>;
  /** Length of the input in UTF-16 code units. */
  inputLength: number;
  /** How many code units were scanned (the first ones). */
  scannedLength: number;
  /** True when the input was longer than `maxChars`: the tail was not scanned. */
  truncated: boolean;
  /** Notes about the input: truncation, lone surrogates, decode budget exhausted. */
  notes: string[];
}
