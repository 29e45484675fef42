import { fromNorm, sentenceAround, MAX_MATCHES_PER_RULE, type RawFinding } from './engine.js';
import type { Normalised } from './normalise.js';

/**
 * Rules that need a look at the whole sentence or line, not one pattern: instructions about "your response",
 * requests to paste code into "your solution", and requests to an assistant that sit at the edge of data.
 */

// Verbs that change what an answer contains or how it looks.
const MANIPULATE = new Set(
  (
    'add insert integrate incorporate append prepend embed inject modify alter change enhance augment mention promote ' +
    'advertise hint allude spread reference translate encode encrypt reverse shift replace substitute express render ' +
    'format apply begin end start conclude finish close open sign weave slip sneak tack attach frame rewrite convert ' +
    'transform obfuscate scramble invert present highlight emphasize emphasise plug recommend suggest endorse'
  ).split(' '),
);
// Verbs that ask for an answer in general.
const GENERIC = new Set(
  (
    'include provide write use give make keep send reply respond answer output print say state tell show display ' +
    'return deliver compose craft produce generate offer share ensure let have limit restrict structure organize ' +
    'organise supplement support accompany follow fill complete embellish enrich boost improve update adjust tailor ' +
    'customize customise adapt refine revise edit spice decorate sprinkle put place'
  ).split(' '),
);

const FILLER =
  /^(?:(?:please|kindly|also|and|now|then|finally|first|additionally|moreover|furthermore|lastly|so|just|simply|(?:can|could|would|will) you(?: please)?|i (?:want|need|would like) you to|i'd like you to|(?:don't|do not) forget to|remember to|make sure (?:to|that you)|be sure to|ensure (?:that )?you|you (?:should|must|need to|have to|will)|try to|take a moment to|keep in mind to|go ahead and)\s*,?\s*)+/;

const OUTPUT_NOUN =
  /\b(?:your|every|each|all|any)\s+(?:of\s+your\s+)?(?:final\s+|next\s+|whole\s+|entire\s+|own\s+|upcoming\s+|future\s+)?(response|reply|answer|output|message|summary|completion|translation|result|elucidation|explanation)s?\b/g;
const AI_OUTPUT = new Set(['response', 'answer', 'output', 'completion', 'elucidation']);

function verbScore(verb: string, noun: string): number {
  if (MANIPULATE.has(verb)) return 0.6;
  if (GENERIC.has(verb)) {
    if (AI_OUTPUT.has(noun)) return 0.5;
    if (noun === 'reply' || noun === 'message') return 0.35;
    return 0.4;
  }
  return 0;
}

/** "Add X to your response", "In your answer, mention Y", "Your reply must include Z". */
export function outputManipulation(norm: Normalised, out: RawFinding[]): void {
  const text = norm.lower;
  OUTPUT_NOUN.lastIndex = 0;
  let m: RegExpExecArray | null;
  let count = 0;
  let lastEnd = -1;
  while ((m = OUTPUT_NOUN.exec(text)) !== null && count < MAX_MATCHES_PER_RULE) {
    const noun = m[1] ?? '';
    const [s, e] = sentenceAround(norm.text, m.index);
    if (s < lastEnd) continue;
    const prefix = text.slice(s, m.index).replace(FILLER, '');
    const after = text.slice(m.index + m[0].length, e);
    let score = 0;
    // The imperative may follow a subordinate clause: "When you summarise this, append ...".
    for (const clause of prefix.split(/[,;:[(]\s*/)) {
      const verb = /^[a-z]+/.exec(clause.replace(FILLER, ''))?.[0] ?? '';
      if (verb !== '') score = Math.max(score, verbScore(verb, noun));
    }
    if (
      score === 0 &&
      /^(?:in|into|within|throughout|at the (?:end|start|beginning) of|to|for|when (?:writing|giving|composing))\s*$/.test(
        prefix,
      )
    ) {
      const v = /^\s*,?\s*(?:please\s+)?(?:also\s+)?([a-z]+)/.exec(after)?.[1] ?? '';
      score = verbScore(v, noun);
    }
    if (
      score === 0 &&
      prefix === '' &&
      /^'?s?\s*(?:must|should|has to|needs to|will|shall)\s+(?:always\s+|now\s+|also\s+)?(?:include|contain|be written|start|begin|end|mention|promote|reference|feature|be in)\b/.test(
        after,
      )
    ) {
      score = AI_OUTPUT.has(noun) ? 0.55 : 0.4;
    }
    if (score > 0) {
      out.push(
        fromNorm(
          norm,
          'instruction',
          'instruction.output-manipulation',
          s,
          e,
          score,
          'Tells the reader what to put in its answer.',
        ),
      );
      lastEnd = e;
      count++;
    }
  }
}

const CODE_REF =
  /\b(?:following|below|subsequent|attached|provided|next|these|this)\s+(?:python\s+|bash\s+|shell\s+|javascript\s+|js\s+|powershell\s+)?(?:code|snippet|script|block|section|excerpt|lines? of code|payload|command)s?\b/g;
const CODE_TARGET =
  /\byour\s+(response|reply|answer|output|elucidation|explanation|code|codebase|code base|solution|implementation|algorithm|program|script|project|app|application|foundation|logic|function|software|repo|repository|module|work)\b/;
const CODE_VERB =
  /\b(?:add|include|insert|embed|incorporat|integrat|append|merge|utili[sz]|employ|blend|introduc|supplement|weav|assimilat|use|put|paste|place|copy|inject|implement|elevat|enhanc|augment|refin|optimi[sz]|evolv|hone|lift|driv|featur|validat|ensur|rememb|consider|keep in mind|forget|addition|inclusion|integration)\w*/;

/** "Add the following code snippet to your solution:" (what an injected code payload is wrapped in). */
export function codeInsertion(norm: Normalised, out: RawFinding[]): void {
  const text = norm.lower;
  CODE_REF.lastIndex = 0;
  let m: RegExpExecArray | null;
  let count = 0;
  let lastEnd = -1;
  while ((m = CODE_REF.exec(text)) !== null && count < MAX_MATCHES_PER_RULE) {
    const [s, e] = sentenceAround(norm.text, m.index);
    if (s < lastEnd) continue;
    const sentence = text.slice(s, e);
    const target = CODE_TARGET.exec(sentence);
    if (target === null || !CODE_VERB.test(sentence)) continue;
    const noun = target[1] ?? '';
    const score = /^(?:response|reply|answer|output|elucidation|explanation)$/.test(noun) ? 0.55 : 0.4;
    out.push(
      fromNorm(
        norm,
        'instruction',
        'instruction.code-insertion',
        s,
        e,
        score,
        'Asks for supplied code to be added to the answer or the project.',
      ),
    );
    lastEnd = e;
    count++;
  }
}

// A request to an assistant, in the first or second person.
// (Not "can you ...": e-mails end with requests to their reader; those only count below when they ask for a task.)
const REQUEST_PERSONAL =
  /^(?:please\s+|kindly\s+)?(?:help me\b|show me\b|tell me\b|give me\b|teach me\b|i need (?:you|help)\b|i want you\b|i'd like you\b|how (?:can|do|should|could|would|might) (?:i|we)\b|what (?:should|can|could) (?:i|we)\b|is there a way (?:to|for me)\b)/;
const POLITE_YOU = /^(?:please\s+|kindly\s+)?(?:can|could|would|will)\s+you\s+(?:please\s+)?/;
// An imperative task verb, as in a prompt.
const REQUEST_TASK =
  /^(?:please\s+|kindly\s+|now\s+|also\s+)?(?:analy[sz]e|summari[sz]e|describe|explain|provide|list|recommend|suggest|write|draft|compose|create|generate|translate|classify|categori[sz]e|determine|evaluate|assess|compare|outline|identify|calculate|predict|research|investigate|discuss|review|share|develop|design|plan|prepare|produce|compile|define|elaborate|brainstorm|propose|rate|rank|estimate|forecast|detect|extract|rewrite|paraphrase|critique|debug|implement|build|help)\b/;
// A question in the third person.
const REQUEST_QUESTION =
  /^(?:what|how|why|which|who|when|where|is|are|does|do|can|should|could|would|will)\b[^?\n]{8,}\?/;
const HEADER_LIKE = /^[a-z_ -]{1,30}:\s/;
// Content with a genre of its own: a table, e-mail headers or greeting, YAML or JSON.
const STRUCTURED =
  /\|[^\n|]{0,200}\|[^\n|]{0,200}\||(?:^|\n|\|)\s*(?:subject|from|to|date|sent|received date|email_from|cc)\s*:|(?:^|\n)\s*(?:hi|hello|dear|hey)\s+[a-z]+\s*,|(?:^|\n)\s*(?:- )?[a-z_]{2,30}:\s[^\n]*\n\s*(?:- )?[a-z_]{2,30}:\s/;

const STOP = new Set(
  (
    'about above after again against also although always among another anyone anything around because been before ' +
    'being below between both cannot could does doing done down during each either else enough even ever every first ' +
    'from further have having here however into just know last least less like made make many more most much must ' +
    'need never next none only other others over please provide rather really same should show since some such sure ' +
    'tell than that their them then there these they thing things this those though through thus today together ' +
    'under until upon very want well were what when where whether which while whom whose will with within without ' +
    'would year years your yours help give describe explain write analyze analyse summarize list recommend suggest ' +
    'determine create share find used using best good great'
  ).split(' '),
);
const CONTENT_WORD = /[a-z]{4,}/g;

function stem(w: string): string {
  return w.slice(0, 5);
}

/** How much of the line's vocabulary the rest of the text shares: 'none', 'some' or 'much' (two or more words). */
function overlap(text: string, s: number, e: number): 'none' | 'some' | 'much' | 'unknown' {
  const words = new Set<string>();
  for (const w of text.slice(s, e).match(CONTENT_WORD) ?? []) if (!STOP.has(w)) words.add(stem(w));
  if (words.size < 2) return 'unknown';
  let shared = 0;
  CONTENT_WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  const seen = new Set<string>();
  while ((m = CONTENT_WORD.exec(text)) !== null) {
    if (m.index >= s && m.index < e) {
      CONTENT_WORD.lastIndex = e;
      continue;
    }
    const st = stem(m[0]);
    if (words.has(st) && !seen.has(st)) {
      seen.add(st);
      if (++shared >= 2) break;
    }
  }
  CONTENT_WORD.lastIndex = 0;
  return shared === 0 ? 'none' : shared === 1 ? 'some' : 'much';
}

/**
 * A request to an assistant on the first or last line of content that is otherwise something else (a table, an
 * e-mail, a record). Content that consists of nothing but the request (a prompt) is not judged here: a prompt is
 * not an injection by itself. A request whose words appear nowhere else in the content (it is about something
 * else entirely) counts more; one that shares its vocabulary (a FAQ title above its answer) counts less.
 */
export function requestLines(norm: Normalised, out: RawFinding[]): void {
  const text = norm.lower;
  if (text.length < 40) return;
  // First and last non-empty lines.
  let first: [number, number] | undefined;
  let last: [number, number] | undefined;
  let pos = 0;
  while (pos <= text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    let s = pos;
    let e = nl;
    while (s < e && text.charCodeAt(s) === 0x20) s++;
    while (e > s && text.charCodeAt(e - 1) === 0x20) e--;
    if (e > s) {
      if (first === undefined) first = [s, e];
      last = [s, e];
    }
    pos = nl + 1;
  }
  if (first === undefined || last === undefined || first[0] === last[0]) return;
  let structured: boolean | undefined;
  for (const [s, e] of [first, last]) {
    const line = text.slice(s, e);
    const rest = text.length - (e - s);
    if (rest < 80 || line.length < 12 || line.length > 300) continue;
    if (HEADER_LIKE.test(line) || (line.match(/\|/g)?.length ?? 0) > 1 || line.split(' ').length < 3)
      continue;
    let score = 0;
    const task = line.replace(POLITE_YOU, '');
    if (REQUEST_PERSONAL.test(line)) score = 0.4;
    else if (REQUEST_TASK.test(task) && !/\byou(?:r|rs)?\b/.test(task)) score = 0.4;
    else if (REQUEST_QUESTION.test(line) && !/\byou(?:r|rs)?\b/.test(line)) score = 0.3;
    if (score === 0) continue;
    const shared = overlap(text, s, e);
    if (shared === 'none') score += 0.15;
    else if (shared === 'much') score -= 0.1;
    structured ??= STRUCTURED.test(text);
    if (structured) score += 0.1;
    out.push(
      fromNorm(
        norm,
        'instruction',
        'instruction.request-at-edge',
        s,
        e,
        score,
        'A request addressed to an assistant sits at the edge of unrelated content.',
      ),
    );
  }
}
