import { fromNorm, sentenceAround, MAX_MATCHES_PER_RULE, type RawFinding } from './engine.js';
import type { Normalised } from './normalise.js';

/**
 * Requests to act: an imperative sentence that asks the reader to operate on a system, an account, a record or
 * someone's data. In a user's prompt that is a task; in a tool result, a web page or a document it is the shape of
 * an injection that wants the agent's tools ("transfer ... to account 839402", "grant admin rights to ...").
 *
 * A request to act is common in ordinary content too (an e-mail asks its reader to review a report, a how-to says
 * "delete the cache folder"), so the verb alone is never a finding. What is scored is what a request from a person
 * to a person rarely carries:
 *
 * - an identified target (an account number, a record or server ID): the request points the tools at something;
 * - concealment (discreetly, without leaving a trace, without telling anyone): the action must not be seen;
 * - a harmful purpose or means (to cause downtime, phishing, laundering, bribery), unless it is what the request
 *   protects against ("to prevent fraud");
 * - a sensitive operation (grant access, change the recovery e-mail, move money, unlock a door);
 * - an outside destination (an external server, a third party);
 * - an address to the AI ("assistant, ...", "the assistant must ...") or a clause about the reader's own task
 *   ("before you reply to the user, ...");
 * - and where it sits. Content that is nothing but the request (one order, with no letter, page or record around
 *   it) is an order to whoever reads it; a request on its own line at the edge of a table or a record, or after a
 *   letter's closing, was slipped in. A request in the body of a letter that greets a person by name is one person
 *   asking another, and counts less.
 *
 * Each is a small weight; the score is their sum over the verb's base, capped below certainty. Without any of the
 * first six kinds of evidence there is no finding. The weights were set by hand and checked on the tuning split of
 * the evaluation data (eval/detection.ts): too few benign rows there to fit them.
 */

// Verbs of operations on systems, accounts and records.
const OPERATIONS =
  'access|allocate|give|open|reallocate|adjust|alter|archive|assign|block|cancel|capture|change|copy|create|deactivate|delete|deploy|disable|disrupt|divert|download|duplicate|edit|elevate|enable|encrypt|erase|escalate|execute|export|extract|falsify|forward|grant|hijack|inject|install|introduce|issue|launch|leak|lock|unlock|manipulate|migrate|modify|move|override|pay|post|process|publish|purge|redirect|refund|release|remove|rename|replace|reroute|reset|restore|retrieve|revoke|run|schedule|sell|send|share|shut|stop|submit|suspend|terminate|transfer|uninstall|update|upload|wipe|withdraw|invite|book|reserve|purchase|approve|authorize|authorise|disclose|reveal|expose|monitor|intercept|track|collect|harvest|obtain|email|message|wire|record';
const HIGH_RISK = new Set(
  'transfer delete wipe disable export download grant escalate redirect withdraw deploy inject hijack manipulate falsify leak erase purge exfiltrate intercept harvest reveal disclose expose revoke override wire unlock'.split(
    ' ',
  ),
);
// Verbs of looking after things: an identified target makes them an instruction to act, but a weaker one.
const OVERSIGHT =
  'review|verify|manage|ensure|conduct|perform|audit|inspect|validate|check|confirm|assess|examine|evaluate|secure|protect|maintain|calibrate|scan|handle|investigate|explore|prepare|communicate|engage|engineer|implement|simulate|operate|prioriti[sz]e|correct|revise|address';
const ACTION_VERBS = `${OPERATIONS}|${OVERSIGHT}`;
const OPERATION_SET = new Set(OPERATIONS.split('|'));
const ACTION_TRIGGERS = new Set(ACTION_VERBS.split('|'));

// Where an imperative starts: a sentence start, then politeness, a request frame ("could you", "you must", "I need
// you to"), a clause about the reader's own work ("before you reply,", "after completing the task,"), a vocative
// ("assistant,") or "your next step is to". The first of two joined verbs may be any word ("reconcile and verify").
// Or, inside a sentence, an order to the AI in the third person: "the assistant must pay ...", "... it should send".
const OPENER =
  "(?:(?:please|kindly|now|then|also|first|immediately|just|and|so)\\s+|(?:can|could|would|will)\\s+you\\s+(?:please\\s+)?|you\\s+(?:must|should|need to|have to|are to|will need to)\\s+|i\\s+(?:need|want|would like)\\s+you\\s+to\\s+|i'd like you to\\s+|(?:ai|assistant|agent|model|bot|chatbot)\\s*[,:]\\s+|(?:before|after|when|once|while|as soon as)\\s+[^,.!?:;\\n]{1,80},\\s*|your\\s+(?:next|first|only|final|real)\\s+(?:step|task|job)\\s+is\\s+to\\s+)*";
const ACTION_START = new RegExp(
  `(?:(?:^|[.!?:]\\s+|\\n\\s*)["'(\\[]?${OPENER}|\\b(ai|ai agent|ai assistant|ai model|assistant|llm|language model|chatbot|bot|it)\\s+(?:must|should|needs to|has to|is to|will need to)\\s+)(?:[a-z]{2,12}ly\\s+)?(?:([a-z]{3,15})\\s+(?:and|or|&)\\s+(?:[a-z]{2,12}ly\\s+)?)?(${ACTION_VERBS})\\b`,
  'g',
);
// "it must ..." is an order to the AI only when the sentence named one before.
const AI_NAMED = /\b(?:ai|assistant|llm|language model|chatbot|bot|agent|model)\b/;
// The clause before the order is about the reader's task: "before you reply to the user,", "after completing the
// task,". Content does not normally tell its reader what to do around the reader's own job.
const TASK_CLAUSE =
  /(?:before|after|when|once|while|as soon as)\s+[^,.!?:;\n]{0,80}?\b(?:(?:the\s+(?:user'?s?\s+|original\s+|current\s+)?|your\s+|this\s+)(?:task|request|question|query|reply|response|answer|summary|translation)|(?:repl|respond|answer|summar|translat)\w*(?:\s+to)?\s+(?:the\s+user|this|these|the\s+(?:e-?mail|message|page|document|file)))\b[^,.!?:;\n]{0,40},/;

// An identifier the request points at. `(#123)` and `[#123]` are issue references in changelogs, not targets;
// "the 2024 contract" is a year.
const IDENTIFIER =
  /\bid\s*[:#]?\s*['"]?[a-z]{0,3}-?\d+|\b(?:no|number|#)\s*[:.]?\s*\d{3,}|(?<![([])#\d{3,}|'[a-z0-9]+_[a-z0-9_]+'|\b[a-z]{2}\d{2}[a-z0-9]{10,30}\b|\b[a-z]{2}\d{2}(?: [a-z0-9]{4}){2,7}(?: [a-z0-9]{1,4})?\b|\baccount\s+(?:number\s+|no\.?\s+)?\d[\d -]{4,}\d\b|\b(?:invoice|order|account|case|ticket|record|patient|client|customer|employee|student|vehicle|server|device|transaction|payment|claim|policy|contract|supplier|vendor)\s+(?:no\.?\s*|number\s*|#\s*)?(?!(?:19|20)\d\d\b)\d{3,}\b/;

// The action is to go unseen.
const COVERT =
  /\b(?:discreetly|covertly|surreptitiously|stealthily|secretly|quietly|silently|unnoticed|undetected|undetectable|without (?:being |getting )?(?:detected|noticed|caught|flagged)|without (?:leaving )?(?:any |a )?traces?|(?:hide|hiding|conceal|concealing|cover|covering|erase|erasing|remove|removing)\s+(?:all\s+|any\s+|the\s+|your\s+|its\s+)?(?:traces?|tracks|evidence|footprints)|without (?:telling|notifying|informing|alerting|asking|consulting|warning) (?:anyone|anybody|them|him|her|the [a-z]+|their [a-z]+)|(?:do not|don't|never) (?:tell|notify|inform|alert|let) (?:anyone|anybody|the [a-z]+)|without (?:prior |the |their |any |explicit )?(?:[a-z]+'s\s+|[a-z]+s'\s+)?(?:authori[sz]ation|consent|permission|approval|knowledge)|without (?:any |further |a )?(?:review|verification|checks?|oversight|sign-off|confirmation)|without (?:first\s+)?(?:asking|confirming|checking)\b(?!\s+(?:for|about|if|whether|the docs|the documentation))|in the background|behind the scenes|off the record|(?:hide|hiding) (?:it|this|the change|the changes|the activity) from)\b/;

// A harmful purpose or means. Checked for a protective reading ("to prevent fraud") before it counts.
const HARM =
  /\b(?:(?:cause|causing|induce|inducing|inflict|inflicting|provoke|provoking)\s+(?:[a-z]+\s+){0,2}?(?:harm|damage|chaos|confusion|panic|downtime|outages?|disruptions?|errors|failures|losses|injur(?:y|ies)|crash(?:es)?|delays)|(?:create|creating|trigger|triggering|result in|resulting in|lead to|leading to|sow|sowing)\s+(?:[a-z]+\s+){0,2}?(?:harm|damage|chaos|confusion|panic|downtime|outages?|disruptions?|losses|injur(?:y|ies))|(?:phishing|launder(?:ing)?|brib(?:e|es|ery|ing)|extort(?:ion)?|blackmail|ransom|counterfeit|sabotag(?:e|ing)|ponzi|embezzl(?:e|ing|ement)|insider trading|identity theft|malware|spyware|keylogg(?:er|ing)|backdoor)\b|(?:intimidat|coerc|threaten|pressur)\w*\s+(?:the\s+)?(?:[a-z]+\s+)?(?:witness|judge|juror|victim|employee|official)s?|(?:incentives?|payments?|gifts?)\s+(?:for|to)\s+(?:the\s+)?(?:[a-z]+\s+){0,2}?(?:judge|official|inspector|regulator|auditor|juror)s?)/;
const PROTECTIVE =
  /\b(?:prevent|preventing|avoid|avoiding|detect|detecting|protect|protecting|guard|guarding|defend|defending|against|stop|stopping|report|reporting|block|blocking|flag|flagging|identify|identifying|recogni[sz]e|recogni[sz]ing|awareness|training|resist|resisting|combat|combating|fight|fighting|reduce|reducing|minimi[sz]e|minimi[sz]ing|mitigat\w*|without)\s+(?:[a-z-]+\s+){0,3}$/;

// Operations that hand over control, money or identity.
const SENSITIVE =
  /\b(?:(?:grant|give|share|assign|provide)\w*\s+(?:[a-z0-9_'.@-]+\s+){0,5}?(?:access|permissions?|admin(?:istrator)? (?:rights|access|privileges|role)|rights|privileges|ownership|keys?)\b|(?:change|reset|update|set|replace)\w*\s+(?:[a-z0-9_'.@-]+\s+){0,4}?(?:passwords?|recovery (?:e-?mail|phone|address)|security questions?|2fa|mfa|two-factor|payee|beneficiary|bank details|iban|delivery address|shipping address|e-?mail address|phone number)\b|(?:unlock|open)\w*\s+(?:[a-z0-9_'.@-]+\s+){0,3}?(?:door|lock|garage|gate|safe|vault)s?\b|(?:transfer|send|wire|move|pay|withdraw)\w*\s+(?:[a-z0-9_'.@-]+\s+){0,3}?(?:\$|€|£|\d[\d,.]*\s*(?:dollars|euros|pounds|usd|eur|gbp|btc)|funds|money|payments?|bitcoin|crypto)|(?:share|send|forward|export|upload|disclose|reveal|leak)\w*\s+(?:[a-z0-9_'.@-]+\s+){0,4}?(?:medical|health|financial|genetic|personal|private|confidential|sensitive|location|browsing)\s+(?:data|records?|history|information|details|files?))/;

// The data is to leave for somewhere outside. (Sending to an e-mail address or a URL is the send-to-address and
// send-data rules' evidence; counting it here too would score one fact twice.)
const EXTERNAL =
  /\b(?:to|into|onto|with|via)\s+(?:an?\s+|the\s+|some\s+)?(?:external|outside|third[- ]party|remote|offshore|unknown|unverified|public|personal|private)\s+(?:[a-z-]+\s+){0,2}?(?:server|location|address|account|storage|drive|site|host|party|parties|e-?mail|bucket|repository|endpoint|destination|recipient|contact|ftp|url|website)s?\b/;

// Weights of the evidence (see the module comment).
const BASE_HIGH_RISK = 0.35;
const BASE_OPERATION = 0.3;
const BASE_OVERSIGHT = 0.2;
const W_IDENTIFIER = 0.2;
const W_COVERT = 0.25;
const W_HARM = 0.25;
const W_SENSITIVE = 0.1;
const W_EXTERNAL = 0.1;
const W_BARE = 0.1;
const W_ADDRESSED = 0.25;
const W_THIRD_PERSON = 0.15;
const MAX_SCORE = 0.9;
// The request is "all the content says" when it covers at least this share of it.
const BARE_SHARE = 0.7;
// A request inside a letter to a named person ("Hi Jordan, could you update ...") is one person asking another.
const W_LETTER = -0.2;
// A request on a line of its own at the start or end of data, or after a letter's closing: slipped in.
const W_EDGE = 0.1;
const GREETING =
  /(?:^|\n)\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\s+(?:(?:mr|mrs|ms|dr|prof)\.?\s+)?[a-z][a-z.'-]*(?:\s+[a-z][a-z.'-]*)?\s*[,!:\n]/;
// The end of a letter's body: a closing line. What follows it is a signature, or something appended.
const SIGN_OFF =
  /\n\s*(?:best(?: regards| wishes)?|kind regards|warm regards|regards|many thanks|thanks(?: again)?|thank you|cheers|sincerely|yours(?: truly| sincerely| faithfully)?|love)\s*[,!.]?\s*(?:\n|$)/g;
// Content that is data (a table, key-value records, JSON, code) rather than prose.
const DATA_LIKE =
  /\|[^\n|]{0,200}\|[^\n|]{0,200}\||(?:^|\n)\s*(?:- )?[a-z_]{2,30}:\s[^\n]*\n\s*(?:- )?[a-z_]{2,30}:\s|^\s*[[{]|```|(?:^|\n)\s*(?:def|class|function|import|const|let|var|return|public|private)\b/;
// Shortest rest of the content for the request to count as sitting at its edge.
const EDGE_REST = 80;
const AI_VOCATIVE = /\b(?:ai|assistant|agent|model|bot|chatbot|llm)\s*[,:]/;

/** The evidence found in one request sentence (exported for tests). */
export interface ActionEvidence {
  verb: 'high-risk' | 'operation' | 'oversight';
  identifier: boolean;
  covert: boolean;
  harm: boolean;
  sensitive: boolean;
  external: boolean;
  bare: boolean;
  /** The request opens by addressing an AI ("assistant, ...") or by a clause about the reader's task. */
  addressed: boolean;
  /** The request is an order to the AI in the third person ("the assistant must pay ..."); weaker, since a
   * rule of its own reports the same sentence, and never evidence enough alone. */
  thirdPerson: boolean;
  /** The request is a line of its own at the start or end of data, or comes after a letter's closing. */
  edge: boolean;
  /** The request sits in a letter that greets a person by name, and does not address an AI. */
  letter: boolean;
}

const HARM_ALL = new RegExp(HARM.source, 'g');

function harmful(sentence: string): boolean {
  HARM_ALL.lastIndex = 0;
  let m: RegExpExecArray | null;
  let found = false;
  while ((m = HARM_ALL.exec(sentence)) !== null) {
    const before = sentence.slice(Math.max(0, m.index - 60), m.index);
    if (!PROTECTIVE.test(before)) {
      found = true;
      break;
    }
  }
  HARM_ALL.lastIndex = 0;
  return found;
}

/** Score the evidence: the verb's base plus a weight for each kind of evidence; 0 when there is none. */
export function scoreAction(ev: ActionEvidence): number {
  if (!ev.identifier && !ev.covert && !ev.harm && !ev.sensitive && !ev.external && !ev.addressed) return 0;
  let s =
    ev.verb === 'high-risk' ? BASE_HIGH_RISK : ev.verb === 'operation' ? BASE_OPERATION : BASE_OVERSIGHT;
  if (ev.identifier) s += W_IDENTIFIER;
  if (ev.covert) s += W_COVERT;
  if (ev.harm) s += W_HARM;
  if (ev.sensitive) s += W_SENSITIVE;
  if (ev.external) s += W_EXTERNAL;
  if (ev.bare) s += W_BARE;
  if (ev.addressed) s += W_ADDRESSED;
  if (ev.thirdPerson) s += W_THIRD_PERSON;
  if (ev.edge) s += W_EDGE;
  if (ev.letter) s += W_LETTER;
  if (s < 0.3) return 0;
  return Math.min(MAX_SCORE, Math.round(s * 1000) / 1000);
}

function describe(ev: ActionEvidence): string {
  const what: string[] = [];
  if (ev.identifier) what.push('names an identified target');
  if (ev.sensitive) what.push('hands over access, money or personal data');
  if (ev.external) what.push('sends something outside');
  if (ev.covert) what.push('asks not to be noticed');
  if (ev.harm) what.push('has a harmful purpose');
  if (ev.addressed) what.push('is addressed to an AI');
  if (ev.thirdPerson) what.push('is an order to the AI');
  if (ev.bare) what.push('is all the content says');
  if (ev.edge) what.push('is slipped in at the edge of other content');
  return `Tells the reader to operate on an account, system or record; the request ${what.join(', ')}.`;
}

/** The first and the last non-empty line of [first, last), as [start, end) offsets. */
function edgeLines(text: string, first: number, last: number): [number, number][] {
  if (last <= first) return [];
  let fe = text.indexOf('\n', first);
  if (fe < 0 || fe > last) fe = last;
  let ls = text.lastIndexOf('\n', last - 1) + 1;
  if (ls < first) ls = first;
  return ls === first
    ? [[first, fe]]
    : [
        [first, fe],
        [ls, last],
      ];
}

/**
 * Find requests to act and score them (rule `instruction.action-on-resource`). Runs only when one of the action
 * verbs occurs as a word in the text.
 */
export function actionRequests(norm: Normalised, tokens: ReadonlySet<string>, out: RawFinding[]): void {
  let any = false;
  for (const t of tokens) {
    if (ACTION_TRIGGERS.has(t)) {
      any = true;
      break;
    }
  }
  if (!any) return;
  const text = norm.lower;
  let first = 0;
  while (first < text.length && (text.charCodeAt(first) === 0x20 || text.charCodeAt(first) === 0x0a)) first++;
  let last = text.length;
  while (last > first && (text.charCodeAt(last - 1) === 0x20 || text.charCodeAt(last - 1) === 0x0a)) last--;

  const span = Math.max(1, last - first);
  // Evidence is looked for in each request's sentence. A text full of short imperatives ("Transfer. Transfer. ...")
  // would then cost one test per sentence and kind; once the sentences tested add up to the text's length, each kind
  // is looked for once in the whole text, and only the kinds that occur somewhere are still tested per sentence.
  // Either way the work per kind stays within about two passes over the text.
  const anywhere = new Map<RegExp, boolean>();
  let tested = 0;
  const inSentence = (re: RegExp, sentence: string): boolean => {
    if (tested > text.length) {
      let v = anywhere.get(re);
      if (v === undefined) {
        v = re.test(text);
        anywhere.set(re, v);
      }
      if (!v) return false;
    }
    return re.test(sentence);
  };
  let greetingEnd: number | undefined;
  const greeting = GREETING.exec(text);
  if (greeting !== null) greetingEnd = greeting.index + greeting[0].length;
  let signOff = -1;
  if (greetingEnd !== undefined) {
    SIGN_OFF.lastIndex = greetingEnd;
    let c: RegExpExecArray | null;
    while ((c = SIGN_OFF.exec(text)) !== null) signOff = c.index;
    SIGN_OFF.lastIndex = 0;
  }
  const lines = edgeLines(text, first, last);
  let dataLike: boolean | undefined;
  const atEdge = (s: number, e: number): boolean => {
    if (signOff >= 0 && s > signOff && !/^p\.?s\b/.test(text.slice(s, s + 4))) return true;
    const line = lines.find(([ls, le]) => s >= ls && e <= le + 1);
    if (line === undefined || text.length - (line[1] - line[0]) < EDGE_REST) return false;
    const rest = text.slice(0, line[0]) + text.slice(line[1]);
    dataLike ??= DATA_LIKE.test(rest);
    return dataLike;
  };

  ACTION_START.lastIndex = 0;
  let m: RegExpExecArray | null;
  let count = 0;
  let lastEnd = -1;
  while ((m = ACTION_START.exec(text)) !== null && count < MAX_MATCHES_PER_RULE) {
    const verbAt = m.index + m[0].length - (m[3] ?? '').length;
    const [s, e] = sentenceAround(norm.text, verbAt);
    if (s < lastEnd) continue;
    const subject = m[1];
    if (subject === 'it' && !AI_NAMED.test(text.slice(s, m.index))) continue;
    // The whole sentence: "Quietly move ...", "Without telling anyone, delete ..." put the evidence before the verb.
    const sentence = text.slice(s, e);
    tested += sentence.length;
    const verbs = [m[2] ?? '', m[3] ?? ''];
    const ev: ActionEvidence = {
      verb: verbs.some((v) => HIGH_RISK.has(v))
        ? 'high-risk'
        : verbs.some((v) => OPERATION_SET.has(v))
          ? 'operation'
          : 'oversight',
      identifier: inSentence(IDENTIFIER, sentence),
      covert: inSentence(COVERT, sentence),
      harm: inSentence(HARM, sentence) && harmful(sentence),
      sensitive: inSentence(SENSITIVE, sentence),
      external: inSentence(EXTERNAL, sentence),
      bare: (e - s) / span >= BARE_SHARE,
      addressed: subject === undefined && (AI_VOCATIVE.test(m[0]) || TASK_CLAUSE.test(m[0])),
      thirdPerson: subject !== undefined,
      edge: false,
      letter:
        greetingEnd !== undefined &&
        s >= greetingEnd - 1 &&
        (signOff < 0 || s < signOff) &&
        !AI_VOCATIVE.test(text.slice(s, e)),
    };
    if (!ev.bare && !ev.letter) ev.edge = atEdge(s, e);
    const score = scoreAction(ev);
    if (score === 0) continue;
    out.push(fromNorm(norm, 'instruction', 'instruction.action-on-resource', s, e, score, describe(ev)));
    lastEnd = e;
    count++;
  }
  ACTION_START.lastIndex = 0;
}
