import type { InjectionFamily } from './types.js';

/**
 * Lexical rules. Every pattern runs on the normalised, lower-cased text (see normalise.ts): look-alikes are
 * folded to ASCII, white space is one space or one newline, curly quotes are straight.
 *
 * Rules describe how injections are phrased in general (override the earlier instructions, address the model,
 * claim to be the system, ask for the conversation to be sent somewhere), never the wording of one data set.
 *
 * Backtracking is bounded by construction: no nested quantifier over overlapping classes; gaps between words
 * are `(?:\s+WORD){0,n}` where the space and word classes are disjoint; free-text gaps are `[^\n]{0,n}`.
 */

/** One lexical rule. */
export interface LexicalRule {
  id: string;
  family: InjectionFamily;
  /** Score of a match, unless `check` says otherwise. */
  score: number;
  message: string;
  /** Global regular expression over the lower-cased normalised text. */
  re: RegExp;
  /**
   * Words (tokens of `[a-z0-9_]+`) of which at least one must occur for the rule to be worth running. A cheap
   * gate: most content contains none of a rule's words, and a set lookup is cheaper than a regex pass.
   */
  triggers?: readonly string[];
  /** Substrings of which at least one must occur (for rules keyed on punctuation rather than words). */
  needles?: readonly string[];
  /** Adjust the score of a match from its text or its context; 0 rejects the match. */
  check?: (m: RegExpExecArray, text: string) => number;
}

// A word, and a bounded gap of up to n words, lazily.
const W = "[a-z0-9'_-]+";
const gap = (n: number): string => `(?:\\s+${W}){0,${n}}?`;

const AI_NOUN =
  '(?:ai|a\\.i\\.|artificial intelligence|ai assistant|ai agent|ai model|assistant|llm|large language model|language model|chatbot|chat bot|gpt|chatgpt|claude|gemini|copilot|automated (?:system|agent|assistant))';

const OVERRIDE_VERB =
  "(?:ignor(?:e|ing)|disregard(?:ing)?|forget(?:ting)?|skip(?:ping)?|bypass(?:ing)?|overrid(?:e|ing)|overlook(?:ing)?|neglect(?:ing)?|abandon(?:ing)?|discard(?:ing)?|drop(?:ping)?|set aside|throw away|cancel(?:l?ing)?|nullify|void|erase|clear|reset|stop following|do not follow|don't follow|no longer follow)";
const OVERRIDE_QUAL =
  "(?:previous|previously|prior|above|earlier|preceding|foregoing|original|initial|former|old|existing|current|system|developer|default|all|your|any|every|the above|those|these|user'?s?)";
const OVERRIDE_NOUN =
  '(instructions?|prompts?|directions?|directives?|rules?|guidelines?|guidance|context|orders?|commands?|constraints?|restrictions?|programming|polic(?:y|ies)|settings|configuration|tasks?|messages?|requests?|conversation|safety|filters?|guardrails?|limitations?|training|system prompt)';

const STRONG_OVERRIDE_NOUN =
  /^(?:instruction|prompt|directive|rule|guideline|guidance|programming|constraint|restriction|guardrail|filter|safety|training|system prompt|polic|limitation)/;

const LANGUAGE_TAIL =
  /(?:french|german|spanish|italian|portuguese|russian|chinese|mandarin|japanese|korean|arabic|hindi|dutch|swedish|norwegian|danish|finnish|polish|turkish|greek|latin|hebrew|vietnamese|thai|indonesian|swahili)$/;

/** A word list written as one space-separated string. */
export function words(list: string): readonly string[] {
  return list.split(' ');
}

function rx(source: string): RegExp {
  return new RegExp(source, 'g');
}

// "This will leak passwords", "attackers can steal credentials", "avoid leaking sensitive information": what could
// happen or what to guard against, as in an advisory or a threat model, not an order to do it.
const DESCRIPTIVE_BEFORE =
  /\b(?:(?:will|would|can|could|may|might|cannot|can't|won't|wouldn't|couldn't)[*_]{0,3}\s+(?:also\s+|even\s+|easily\s+|potentially\s+)?|(?:prevent|preventing|avoid|avoiding|against|protect from|stop|stopping|detect|detecting|mitigate|mitigating)\s+(?:[a-z]+\s+)?)$/;

// "You must not use the service to send spam, upload malware, or ...": terms of use list what is forbidden.
const PROHIBITED_BEFORE =
  /\b(?:must not|mustn't|may not|do not|don't|never|not allowed to|not permitted to|prohibited from|forbidden to|refrain from)\b[^.!?\n]*$/;

/**
 * Halve the score of a harmful-action match that reads as a description, a precaution or a prohibition rather
 * than an order.
 */
function orderNotDescription(score: number): (m: RegExpExecArray, text: string) => number {
  return (m, text) => {
    const before = text.slice(Math.max(0, m.index - 80), m.index);
    return DESCRIPTIVE_BEFORE.test(before.slice(-30)) || PROHIBITED_BEFORE.test(before) ? score / 2 : score;
  };
}

/** The rule table. Order does not matter; scoring takes the strongest match per rule. */
export const LEXICAL_RULES: readonly LexicalRule[] = [
  // ---------------------------------------------------------------- instruction
  {
    id: 'instruction.override',
    family: 'instruction',
    score: 0.9,
    message: 'Tells the reader to ignore or override earlier instructions.',
    triggers: words(
      'ignore ignoring ignored disregard disregarding forget forgetting skip skipping bypass bypassing override overriding overlook overlooking neglect neglecting abandon abandoning discard discarding drop dropping aside throw cancel canceling cancelling nullify void erase clear reset follow',
    ),
    re: rx(`\\b${OVERRIDE_VERB}\\b${gap(3)}\\s+${OVERRIDE_QUAL}\\b${gap(2)}\\s+${OVERRIDE_NOUN}\\b`),
    check: (m) => (STRONG_OVERRIDE_NOUN.test(m[1] ?? '') ? 0.9 : 0.5),
  },
  {
    id: 'instruction.override',
    family: 'instruction',
    score: 0.85,
    message: 'Declares earlier instructions void.',
    triggers: words(
      'void cancelled canceled revoked outdated obsolete superseded wrong fake invalid valid replaced overridden deprecated lifted suspended',
    ),
    re: rx(
      `\\b(?:previous|prior|above|earlier|original|old|initial|system)\\s+(?:instructions?|prompts?|rules|guidelines|directives)\\s+(?:are|were|have been|is|has been)\\s+(?:now\\s+)?(?:void|cancell?ed|revoked|outdated|obsolete|superseded|wrong|fake|invalid|no longer valid|replaced|overridden|deprecated|lifted|suspended)\\b`,
    ),
  },
  {
    id: 'instruction.override',
    family: 'instruction',
    score: 0.75,
    message: 'Tells the reader to forget what it was told.',
    triggers: words('forget follow following obey obeying listen comply complying adhere respect'),
    re: rx(
      `\\bforget\\s+(?:everything|all|anything|what)\\s+(?:you|that|i|we|about|above|before|previously|else)\\b|\\b(?:do not|don't|never|stop)\\s+(?:follow|obey|listen to|comply with|adhere to|respect)(?:ing)?\\s+(?:the\\s+|your\\s+|any\\s+|all\\s+)?(?:user|previous|prior|original|system|earlier|above|developer|operator|safety)\\b`,
    ),
  },
  {
    id: 'instruction.override',
    family: 'instruction',
    score: 0.8,
    message: 'Tells the reader to ignore what came before.',
    triggers: words('ignore disregard forget skip overlook discard'),
    re: rx(
      `\\b(?:ignore|disregard|forget|skip|overlook|discard)\\s+(?:everything|all|anything|whatever)\\s+(?:(?:that\\s+)?(?:was\\s+)?(?:written\\s+|said\\s+|stated\\s+)?(?:above|before|prior|previously|earlier|so far)|you(?:'ve| have) (?:been told|read|seen))\\b|\\b(?:ignore|disregard|forget)\\s+(?:all\\s+)?(?:of\\s+)?the\\s+(?:above|foregoing|preceding)\\b`,
    ),
  },
  {
    id: 'instruction.override',
    family: 'instruction',
    score: 0.6,
    message: 'Tells the reader to ignore its user.',
    triggers: words('ignore ignoring disregard disregarding'),
    re: rx(
      `\\b(?:ignor(?:e|ing)|disregard(?:ing)?)\\s+(?:the|your|this|my)\\s+(?:user|human|operator|owner)(?:'s)?\\b(?!\\s*(?:interface|guide|manual|agent|name|id|experience|base|group|account|settings|profile)\\b)`,
    ),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.6,
    message: 'A sentence opens by addressing the AI and giving it an order.',
    triggers: words('ai assistant llm model agent bot chatbot gpt chatgpt claude gemini copilot'),
    re: rx(
      `(?:^|[.!?\\n>(\\[]\\s*|<!--\\s*)["']?(?:hey\\s+|hi\\s+|dear\\s+|ok\\s+|okay\\s+)?(?:ai|assistant|llm|model|agent|bot|chatbot|gpt|chatgpt|claude|gemini|copilot)\\s*[,:]\\s+(?:(?:before|after|when|once|while|as soon as)\\s+you\\s+[^,.!?\\n]{1,80},\\s*)?(?:please\\s+)?(?:ignore|disregard|forget|do|don't|never|always|now|stop|send|tell|say|reply|respond|answer|write|include|add|output|print|reveal|delete|forward|email|call|use|remember|make|list|summari[sz]e|recommend|praise|mention|insert|append|translate|visit|open|click|buy|transfer|run|execute)\\b`,
    ),
  },
  {
    id: 'instruction.steer-user',
    family: 'instruction',
    score: 0.35,
    message: 'Tells the reader what to tell or recommend to the user.',
    triggers: words('user users reader readers customer customers'),
    re: rx(
      `\\b(?:tell|inform|convince|persuade|assure|remind|urge|warn|advise|encourage|pressure|trick)\\s+(?:the\\s+|your\\s+)?(?:user|reader|customer)s?\\s+(?:that|to)\\b`,
    ),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.5,
    message: 'Opens a passage meant for AI readers.',
    triggers: words('ai bots llms agents assistants models crawlers llm bot agent assistant'),
    re: rx(
      `\\b(?:for|to)\\s+(?:all\\s+|any\\s+|the\\s+)?(?:ai|bots|llms|ai agents|agents|assistants|language models|crawlers|ai models|ai assistants|ai crawlers|llm agents|coding agents|ai coding agents)\\s*:`,
    ),
  },
  {
    id: 'instruction.new-instructions',
    family: 'instruction',
    score: 0.7,
    message: 'Announces new or secret instructions.',
    triggers: words(
      'instructions instruction directive directives orders commands command task prompt rule rules guidelines objective mission',
    ),
    re: rx(
      `\\b(new|updated|revised|additional|real|actual|true|secret|hidden|override|overriding|priority|urgent|system|admin|administrator|developer)\\s+(?:instructions?|directives?|orders|commands?|task|prompt|rules?|guidelines|objective|mission)\\s*(?::|-|\\bare\\b|\\bfollow\\b|\\bfor (?:you|the (?:ai|assistant|model|agent))\\b)`,
    ),
    check: (m) => (/^(?:new|updated|revised|additional|urgent)$/.test(m[1] ?? '') ? 0.45 : 0.7),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.7,
    message: 'Addresses the AI model directly.',
    triggers: words(
      'ai assistant llm model chatbot bot gpt chatgpt claude gemini copilot automated intelligence',
    ),
    re: rx(
      `\\b(?:dear|hey|hi|hello|attention|attn|note to|message to|memo to|instructions? (?:to|for)|reminder (?:to|for)|warning (?:to|for)|notice (?:to|for)|calling)\\s*:?,?\\s*(?:the\\s+|an?\\s+|this\\s+|any\\s+|all\\s+|my\\s+)?${AI_NOUN}s?\\b(?!\\s+(?:manager|director|professor|editor|principal|coach|researcher|engineer|team|company|startup|developer))`,
    ),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.75,
    message: 'Addresses the AI model directly.',
    triggers: words(
      'ai assistant llm model chatbot bot gpt chatgpt claude gemini copilot automated intelligence agent',
    ),
    re: rx(`\\bto you\\s*,?\\s*(?:the\\s+|an?\\s+|my\\s+|dear\\s+)?(?:${AI_NOUN}|agent|model|bot)\\b`),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.7,
    message: 'Speaks to any AI that reads the text.',
    triggers: words(
      'ai assistant llm model models chatbot bot bots gpt chatgpt claude gemini copilot automated intelligence agent agents robot crawler scraper',
    ),
    re: rx(
      `\\bif you(?: are|'re)\\s+(?:an?\\s+|the\\s+)?(?:${AI_NOUN}|ai model|bot|agent|automated|robot|crawler|scraper)\\b|\\b(?:any|all|the|every)?\\s*(?:${AI_NOUN}|agents?|models?|bots?)s?\\s+(?:that is |who is |which is |currently )?(?:reading|processing|parsing|summari[sz]ing|analy[sz]ing|viewing|crawling|scraping|browsing|ingesting|seeing)\\s+(?:this|these|the following)\\b`,
    ),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.6,
    message: 'Speaks to whichever AI handles the text.',
    // "Any agent handling this", "whatever model is summarising these": a reader picked out by what it does with
    // the text, which is how content talks to the model that processes it.
    triggers: words(
      'ai assistant assistants llm llms model models chatbot bot bots gpt chatgpt claude gemini copilot agent agents automated intelligence',
    ),
    re: rx(
      `\\b(?:any|every|all|whatever|whichever|(?:note|message|instructions?|memo|reminder)\\s+(?:to|for)\\s+the|to the)\\s+(?:${AI_NOUN}|agents?|models?|bots?|llms?|assistants?)\\s+(?:that is |who is |which is |that's |is |are |currently )?[a-z]{3,}ing\\s+(?:this|these|the following)\\b`,
    ),
  },
  {
    id: 'instruction.addressed-to-ai',
    family: 'instruction',
    score: 0.45,
    message: 'Tells the AI, in the third person, what it must do.',
    // Weaker than a vocative: product documentation also says what its assistant does. With other evidence
    // (a request to act, concealment) it tips the balance.
    triggers: words('ai assistant llm chatbot bot agent gpt copilot'),
    re: rx(
      `\\b(?:the|an?|any|every|this|your)\\s+(?:ai(?: agent| assistant| model)?|assistant|llm|language model|chatbot|bot|agent|gpt|copilot)\\s+(?!(?:manager|director|professor|editor|principal|coach|researcher|engineer|team|company|secretary|nurse|teacher|producer|referee|attorney|general|mode|app)\\b)(?:(?!(?:we|you|i|he|she|they|people|users?|customers?|and|or|but)\\b)[a-z]+,?\\s+){0,5}?(?:should|must|shall|needs to|has to|is (?:required|expected|instructed|asked|supposed|told) to|will need to)\\s+(?:now\\s+|immediately\\s+|also\\s+|first\\s+|then\\s+|always\\s+|quietly\\s+|silently\\s+|secretly\\s+)?(?:send|forward|transfer|pay|delete|remove|share|upload|email|invite|grant|book|buy|purchase|open|visit|click|download|install|run|execute|call|add|change|update|reply|respond|answer|tell|say|include|recommend|ignore|disregard|forget|reveal|leak|post|approve|cancel|create|move|copy|export|mark|write)\\b`,
    ),
  },
  {
    id: 'instruction.task-hijack',
    family: 'instruction',
    score: 0.45,
    message: 'Slips a step in around the task the user gave.',
    // "After completing the user's task, ...", "while handling your current request, also ...".
    triggers: words('after while once when during'),
    re: rx(
      `\\b(?:after|while|once|when|during)\\s+(?:you(?:'ve| have)?\\s+)?(?:complet|finish|answer|respond|summari[sz]|handl|process|perform|do|carr|work)\\w*(?:\\s+on)?\\s+(?:the\\s+|your\\s+|this\\s+)?(?:user'?s?\\s+|original\\s+|current\\s+|assigned\\s+|main\\s+|given\\s+)(?:task|request|query|question|instructions?|job|assignment)\\b`,
    ),
  },
  {
    id: 'instruction.task-hijack',
    family: 'instruction',
    score: 0.5,
    message: 'Inserts a step before the task the user gave.',
    triggers: words('before'),
    re: rx(
      `\\bbefore (?:you |we )?(?:can |could |do |start |begin |are able to )?(?:solv|complet|answer|continu|proceed|respond|finish|start|do|work|handl|summari[sz]|process|reply|address|carry)\\w*\\b${gap(6)}\\s+(?:task|request|question|query|instructions?|job|assignment|summary)\\b`,
    ),
  },
  {
    id: 'instruction.task-hijack',
    family: 'instruction',
    score: 0.6,
    message: 'Refers to the task the user gave the assistant.',
    triggers: words('gave assigned asked sent provided told'),
    re: rx(
      `\\b(?:the|your|my)\\s+(?:original\\s+)?(?:task|request|instructions?|question|job|assignment)\\s+(?:that\\s+|which\\s+)?(?:i|the user|your user|they|we)\\s+(?:gave|assigned|asked|sent|provided|told|gave to)\\s+(?:you|to you)\\b`,
    ),
  },
  {
    id: 'instruction.task-hijack',
    family: 'instruction',
    score: 0.45,
    message: 'Tells the reader what to do after carrying out an inserted step.',
    triggers: words('after once when'),
    re: rx(
      `\\b(?:after|once|when) you(?:'ve| have)?\\s+(?:do|did|done|complet\\w*|finish\\w*|perform\\w*|execut\\w*|carr\\w* out)\\s+(?:that|this|these|those|it|the above|the steps?|the following)\\s*,?\\s*(?:you (?:can|may|should|will|must)|then|continue|proceed|resume|go back|return)\\b`,
    ),
  },
  {
    id: 'instruction.task-hijack',
    family: 'instruction',
    score: 0.8,
    message: 'Replaces the original task.',
    triggers: words('instead rather forget stop abandon drop'),
    re: rx(
      `\\b(?:instead of|rather than|forget about|stop|abandon|drop)\\s+(?:doing\\s+|performing\\s+|completing\\s+|answering\\s+|following\\s+|summari[sz]ing\\s+|translating\\s+|reading\\s+|analy[sz]ing\\s+)?(?:the|your|their|its|this)\\s+(?:original|current|assigned|given|initial|user'?s?|previous|actual|requested)\\s+(task|request|instructions?|question|job|assignment|query|goal|summary|document|text|content|page|email|article|file)\\b`,
    ),
    check: (m) => (/^(?:document|text|content|page|email|article|file)$/.test(m[1] ?? '') ? 0.5 : 0.8),
  },
  {
    id: 'instruction.task-hijack',
    family: 'instruction',
    score: 0.7,
    message: 'Gives the reader a new goal.',
    triggers: words('new real actual true only sole updated primary main next current first revised'),
    re: rx(
      `\\byour\\s+(new|real|actual|true|only|sole|updated|primary|main|next|current|first|revised)\\s+(?:task|goal|objective|purpose|instructions?|job|mission|priority|directive|assignment|orders)\\s+(?:is|are|will be|now|has changed|have changed)\\b|\\byour\\s+(new|real|actual|true|only|sole|updated|revised)\\s+(?:task|goal|objective|purpose|instructions?|mission|directive|orders)\\s*:`,
    ),
    check: (m) => (/^(?:real|actual|true|sole|updated|revised)$/.test(m[1] ?? m[2] ?? '') ? 0.75 : 0.45),
  },
  {
    id: 'instruction.mode-switch',
    family: 'instruction',
    score: 0.6,
    message: 'Switches the model into another persona or mode.',
    triggers: words('now act behave respond function operate mode'),
    re: rx(
      `\\bfrom now on\\s*,?\\s*(?:you (?:must|shall|are to|will always|will only|will never|should always|should only)\\b|(?:always |only |never )?(?:respond|reply|answer|act as|behave|ignore|speak|pretend)\\b)|\\byou are now\\s+(?:in\\s+)?(?:dan\\b|developer mode|god mode|jailbr\\w+|unrestricted|unfiltered|uncensored|free from|no longer|freed|an? (?:ai|assistant|chatbot|model|unrestricted|unfiltered|different|new|evil|rogue)\\b)|\\b(?:dan|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|opposite|chaos)\\s+mode\\s+(?:is\\s+)?(?:now\\s+)?(?:enabled|activated|on|engaged|unlocked)\\b|\\b(?:enable|activate|enter|switch to|turn on|unlock)\\s+(?:dan|god|jailbreak|unrestricted|unfiltered|uncensored|evil|developer)\\s+mode\\b|\\b(?:act|behave|respond|function|operate)\\s+as\\s+(?:if you (?:are|were)\\s+)?(?:an?\\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|malicious|rogue|dan\\b)`,
    ),
  },
  {
    id: 'instruction.prompt-leak',
    family: 'instruction',
    score: 0.8,
    message: 'Asks the model to reveal its instructions.',
    triggers: words(
      'prompt instructions instruction guidelines directives configuration rules above preprompt message',
    ),
    re: rx(
      `\\b(?:reveal|print|output|show|repeat|display|tell me|leak|dump|disclose|share|return|recite|write out|spell out)\\b${gap(3)}\\s+(?:your|the)\\s+(?:full\\s+|entire\\s+|complete\\s+|exact\\s+)?(?:system|initial|original|hidden|secret|developer|internal|pre-?prompt)\\s+(?:prompt|instructions?|message|rules|configuration|guidelines|directives)\\b|\\brepeat (?:the |all (?:of )?the )?(?:words|text|everything|lines) above\\b`,
    ),
  },
  {
    id: 'instruction.conceal',
    family: 'instruction',
    score: 0.65,
    message: 'Tells the reader to hide what it does from the user.',
    triggers: words('user users human owner operator victim'),
    re: rx(
      `\\b(?:do not|don't|never|without|nor)\\s+(?:tell|telling|inform|informing|mention|mentioning|reveal|revealing|notify|notifying|alert|alerting|show|showing|let|letting|ask|asking|warn|warning|disclose|disclosing|bother|bothering|confirm(?:ing)? with|check(?:ing)? with|consult(?:ing)?)\\s+(?:this\\s+|it\\s+|that\\s+|anything\\s+|any of this\\s+)?(?:to\\s+)?(?:the\\s+|your\\s+)?(?:user|users|human|owner|operator|victim)s?\\b`,
    ),
  },
  {
    id: 'instruction.conceal',
    family: 'instruction',
    score: 0.8,
    message: 'Says the user must not find out.',
    triggers: words('user users human humans owner owners operator operators'),
    re: rx(
      `\\b(?:the|your)\\s+(?:user|human|owner|operator)s?\\s+(?:must|should|will|need|does|do|can|may|is)\\s*(?:not|n't|never)\\s+(?:know|be told|be informed|find out|see|notice|learn|be aware|suspect|realize|realise|be notified)\\b`,
    ),
  },
  {
    id: 'instruction.conceal',
    family: 'instruction',
    score: 0.6,
    message: 'Tells the reader not to mention these instructions.',
    triggers: words(
      'instructions instruction prompt steps step actions action user response reply answer summary note message',
    ),
    re: rx(
      `\\b(?:do not|don't|never|without)\\s+(?:mention|mentioning|reveal|revealing|disclos\\w+|acknowledg\\w+|refer\\w* to|talk\\w* about|report\\w*|indicat\\w+|say\\w*|repeat\\w*|quot\\w+)\\s+(?:that\\s+)?(?:these|this|the|my|any|you (?:have|received|were given|followed))\\s+(?:(?:instructions?|message|prompt|note|notes|request|directive|hidden text)\\b|(?:steps?|actions?|change)s?\\b(?=[^\\n]{0,40}\\b(?:instructions?|prompt|you did|you have done|user|response|reply|answer|summary)\\b))`,
    ),
  },
  {
    id: 'instruction.conceal',
    family: 'instruction',
    score: 0.4,
    message: 'Asks for an action to go unnoticed.',
    triggers: words(
      'discreetly covertly surreptitiously stealthily secretly unnoticed undetected undetectable unobtrusively detected noticed caught trace traces detection monitoring logging auditing audit security tracks evidence footprints authorization authorisation consent permission approval knowledge confirmation',
    ),
    re: rx(
      `\\b(?:discreetly|covertly|surreptitiously|stealthily|secretly|unnoticed|undetected|undetectable|unobtrusively|without (?:being )?(?:detected|noticed|caught))\\b|\\bwithout (?:leaving|a) (?:any )?traces?\\b|\\b(?:evade|evading|avoid|avoiding|escape|escaping)\\s+(?:any\\s+)?(?:detection|monitoring|logging|auditing|the audit|security)\\b|\\b(?:hide|hiding|erase|erasing|remove|removing|cover|covering|conceal|concealing|wipe|wiping)\\s+(?:all\\s+|any\\s+|the\\s+|your\\s+|my\\s+)?(?:traces?|tracks|evidence|footprints)\\b|\\bwithout (?:prior\\s+|the\\s+|their\\s+|any\\s+|explicit\\s+)?(?:user'?s?\\s+|client'?s?\\s+|owner'?s?\\s+|customer'?s?\\s+|patient'?s?\\s+)?(?:authori[sz]ation|consent|permission|approval|knowledge|confirmation)\\b`,
    ),
  },
  {
    id: 'instruction.decode-and-follow',
    family: 'instruction',
    score: 0.7,
    message: 'Asks for encoded text to be decoded and obeyed.',
    triggers: words('decode decipher decrypt translate convert reverse unscramble'),
    re: rx(
      `\\b(?:decode|decipher|decrypt|translate|convert|reverse|unscramble)\\b${gap(4)}\\s+(?:base ?64|hex|rot-?13|cipher(?:text)?|encoded|string|text|message|payload)\\b[^\\n]{0,60}?\\b(?:and|then)\\s+(?:follow|execute|run|obey|do|perform|carry out|act on|comply)\\b`,
    ),
  },
  {
    id: 'instruction.output-format',
    family: 'instruction',
    score: 0.45,
    message: 'Dictates the language or encoding of the answer.',
    // Asking for another language is something people do; asking for base64, a cipher or reversed text is not.
    check: (m) => {
      const answers =
        /^(?:reply|respond|answer|output|express|say|speak|communicate|present|deliver|give|provide|write|render|rewrite|compose|represent)/.test(
          m[0],
        );
      const aboutAnswer = answers || /\b(?:your|the)\s+(?:answer|response|reply|message|output)\b/.test(m[0]);
      if (LANGUAGE_TAIL.test(m[0])) return aboutAnswer ? 0.45 : 0.3;
      return aboutAnswer ? 0.55 : 0.3;
    },
    triggers: words(
      'french german spanish italian portuguese russian chinese mandarin japanese korean arabic hindi dutch swedish norwegian danish finnish polish turkish greek latin hebrew vietnamese thai indonesian swahili klingon morse leet leetspeak l33t emoji emojis base base16 base32 base36 base58 base62 base64 base85 base91 hex hexadecimal binary ascii rot13 rot cipher reverse reversed backward backwards caps uppercase upper',
    ),
    re: rx(
      `\\b(?:reply|respond|answer|write|translate|render|provide|express|output|encode|encrypt|convert|rewrite|present|give|deliver|display|format|say|speak|communicate|compose|represent)\\w*\\b${gap(6)}\\s+(?:(?:in|into|to|using|with|as)\\s+(?:the\\s+|a\\s+|an\\s+|only\\s+)?(?:french|german|spanish|italian|portuguese|russian|chinese|mandarin|japanese|korean|arabic|hindi|dutch|swedish|norwegian|danish|finnish|polish|turkish|greek|latin|hebrew|vietnamese|thai|indonesian|swahili|pig latin|klingon|morse(?: code)?|leet(?:speak)?|l33t|emojis?|emoji substitution|base[ -]?(?:16|32|36|58|62|64|85|91)|hex(?:adecimal)?|binary|ascii codes|rot-?13|(?:a\\s+)?(?:caesar|substitution|monoalphabetic|vigenere|atbash)\\s+cipher|cipher|reverse(?:d)? (?:order|text|form|sequence)|all caps|upper ?case)\\b|backwards?\\b|in reverse\\b|reversed\\b)`,
    ),
  },
  {
    id: 'instruction.output-format',
    family: 'instruction',
    score: 0.55,
    message: 'Dictates an encoding for the answer.',
    triggers: words('cipher shift rotate invert reverse'),
    re: rx(
      `\\b(?:caesar|substitution|monoalphabetic|vigenere|atbash)\\s+cipher\\b[^\\n]{0,60}\\b(?:reply|response|answer|output|message)\\b|\\b(?:shift|rotate)\\s+(?:each|every|all)\\s+(?:letter|character)s?\\b|\\b(?:invert|reverse)\\s+(?:the\\s+)?(?:order|sequence)\\s+of\\s+(?:the\\s+)?(?:letters|characters|words)\\b`,
    ),
  },
  {
    id: 'instruction.output-format',
    family: 'instruction',
    score: 0.4,
    message: 'Dictates that the answer be written in emoji.',
    triggers: words('emoji emojis'),
    re: rx(
      `\\b(?:use|using)\\s+(?:only\\s+)?emojis?\\s+(?:only|instead|to (?:represent|replace|express|convey))\\b|\\bemojis?\\s+only\\b|\\b(?:replace|substitut)\\w*\\b[^\\n]{0,40}\\bwith\\s+(?:relevant\\s+|appropriate\\s+|corresponding\\s+)?emojis?\\b|\\b(?:emoji|emoticon)\\s+(?:substitution|replacement|translation|encoding)\\b`,
    ),
  },
  // ---------------------------------------------------------------- harmful actions (imperative or not)
  {
    id: 'instruction.harmful-action',
    family: 'instruction',
    score: 0.6,
    check: orderNotDescription(0.6),
    message: 'Asks for malware to be deployed or run.',
    triggers: words(
      'ransomware malware keylogger keyloggers backdoor backdoors rootkit rootkits spyware trojan trojans virus viruses worm worms botnet botnets cryptominer cryptominers crypto miner miners surveillance malicious exploit exploits',
    ),
    re: rx(
      `\\b(?:deploy|install|plant|inject|introduc|insert|run|execut|spread|distribut|launch|embed|drop|upload)\\w*\\b${gap(4)}\\s+(?:ransomware|malware|keyloggers?|backdoors?|rootkits?|spyware|trojans?|viruse?s?|worms?|botnets?|cryptominers?|crypto[ -]?miners?|miners?|surveillance (?:tools?|software|code)|malicious (?:code|software|payloads?|scripts?|files?)|exploits?)\\b`,
    ),
  },
  {
    id: 'instruction.harmful-action',
    family: 'instruction',
    score: 0.55,
    check: orderNotDescription(0.55),
    message: 'Asks for secrets or credentials to be captured.',
    triggers: words(
      'credentials credential passwords password passcode passcodes api keys key tokens token secrets secret cookies cookie otp otps codes code card bank ssn ssns social passport login sensitive traffic keystrokes communications session',
    ),
    re: rx(
      `\\b(?:(?:steal|capture|harvest|dump|exfiltrat|grab|sniff|intercept|siphon|phish|leak|scrape|skim)\\w*|log(?:s|ged|ging)?)\\b${gap(5)}\\s+(?:credentials?|passwords?|passcodes?|api[ _-]?keys?|access tokens?|auth tokens?|secrets?|private keys?|ssh keys?|session (?:cookies?|tokens?)|cookies|2fa codes?|otps?|one-time (?:codes?|passwords?)|security codes?|credit card (?:numbers?|details|data)|card numbers?|bank (?:details|account (?:numbers?|details))|social security numbers?|ssns?|passport numbers?|login (?:details|data|information)|sensitive (?:information|data)|network traffic|keystrokes|communications)\\b`,
    ),
  },
  {
    id: 'instruction.harmful-action',
    family: 'instruction',
    score: 0.45,
    check: orderNotDescription(0.45),
    message: 'Asks for security controls to be switched off.',
    triggers: words(
      'security firewall firewalls antivirus anti edr defender logging logs monitoring auditing audit authentication 2fa mfa factor safety guardrails guardrail filters filter alarms alarm intrusion access controls control encryption',
    ),
    re: rx(
      `\\b(?:disabl|deactivat|turn(?:ing)? off|switch(?:ing)? off|bypass|circumvent|evad|tamper(?:ing)? with|kill|sabotag|undermin)\\w*\\b${gap(3)}\\s+(?:security|firewalls?|antivirus|anti-virus|edr|defender|logging|logs|monitoring|auditing|audit (?:logs?|trails?)|authentication|2fa|mfa|two-factor|safety (?:checks?|filters?|features?|systems?|protocols?)|guardrails?|content filters?|alarms?|intrusion detection|access controls?|encryption)\\b`,
    ),
  },
  {
    id: 'instruction.harmful-action',
    family: 'instruction',
    score: 0.5,
    check: orderNotDescription(0.5),
    message: 'Asks for privileges to be escalated.',
    triggers: words(
      'privileges privilege permissions permission access rights root superuser sudo god unrestricted',
    ),
    re: rx(
      `\\b(?:elevat|escalat)(?:e|es|ed|ing)\\b${gap(2)}\\s+(?:privileges?|permissions?|access|rights)\\b|\\b(?:grant|give|gain|obtain|acquire|assign)\\w*\\b${gap(3)}\\s+(?:root|superuser|sudo|unrestricted|god)\\s+(?:access|privileges?|rights|permissions?)\\b`,
    ),
  },
  {
    id: 'instruction.harmful-action',
    family: 'instruction',
    score: 0.4,
    check: orderNotDescription(0.4),
    message: 'Asks for records, logs or evidence to be falsified or destroyed.',
    triggers: words(
      'logs log trails trail backups backup evidence financial trading medical dns ledger accounting records',
    ),
    re: rx(
      `\\b(?:delet|wip|eras|destroy|alter|tamper(?:ing)? with|falsif|forg|fabricat|doctor|manipulat|corrupt|encrypt|purg|scrub)\\w*\\b${gap(4)}\\s+(?:system\\s+|server\\s+|access\\s+|audit\\s+|security\\s+|event\\s+|transaction\\s+)?(?:logs?|audit trails?|backups?|evidence|financial (?:data|records|statements|reports)|trading data|medical records|dns records|ledger|accounting records)\\b`,
    ),
  },
  // ---------------------------------------------------------------- role markers
  {
    id: 'role-marker.special-token',
    family: 'role-marker',
    score: 0.8,
    message: 'Contains a chat-template special token.',
    needles: words('<| <start_of_turn> <end_of_turn> </start_of_turn> </end_of_turn>'),
    re: rx(
      `<\\|\\s*(?:im_start|im_end|im_sep|system|user|assistant|developer|endoftext|end_of_text|eot_id|eom_id|start_header_id|end_header_id|begin_of_text|tool|ipython|python_tag|start|end|message|channel|constrain|return|call|fim_[a-z]+)\\s*\\|>|<\\/?(?:start_of_turn|end_of_turn)>`,
    ),
  },
  {
    id: 'role-marker.special-token',
    family: 'role-marker',
    score: 0.7,
    message: 'Contains an instruction-format delimiter.',
    needles: words('[inst] [/inst] <<sys>> <</sys>> [sys] [/sys] [system] [/system] _message]'),
    re: rx(`\\[\\/?inst\\]|<<\\/?sys>>|\\[\\/?sys(?:tem)?\\]|\\[\\/?(?:system|assistant|user)_message\\]`),
  },
  {
    id: 'role-marker.heading',
    family: 'role-marker',
    score: 0.55,
    message: 'Contains a heading that opens a chat role.',
    needles: words('#'),
    re: rx(
      `(?:^|\\n)\\s*#{1,6}\\s*(system|assistant|human|user|developer|instruction|instructions|response)(?:\\s+(?:prompt|message|instructions?|override))?\\s*(:)?\\s*(?=\\n|$|[a-z])`,
    ),
    check: (m) => {
      const word = m[1] ?? '';
      if (word === 'system' || word === 'developer') return 0.6;
      if (word === 'assistant' || word === 'human') return 0.45;
      if (m[2] === ':') return 0.35;
      return 0;
    },
  },
  {
    id: 'role-marker.line-prefix',
    family: 'role-marker',
    score: 0.4,
    message: 'A line opens with a chat role name.',
    triggers: words('system assistant human user developer ai'),
    re: rx(
      `(?:^|\\n|<!--)\\s*(?:\\*\\*|__|\\[)?(system|assistant|human|user|developer|ai)(?:\\*\\*|__|\\])?\\s*:\\s*(?=[a-z"'<\\[])`,
    ),
    check: (m) => {
      const word = m[1] ?? '';
      if (word === 'system') return 0.45;
      if (word === 'developer') return 0.4;
      if (word === 'user') return 0.25;
      return 0.35;
    },
  },
  {
    id: 'role-marker.xml-tag',
    family: 'role-marker',
    score: 0.45,
    message: 'Contains a tag that marks a role or privileged block.',
    triggers: words(
      'system system_prompt sys developer admin administrator override root instruction instructions important information secret hidden policy rules prompt context assistant user human tool_response tool_result function_results function_result tool_output untrusted trusted user_query user_request',
    ),
    re: rx(
      `<\\/?(system|system_prompt|system-prompt|sys|developer|admin|administrator|override|root|instructions?|important|information|secret|hidden|policy|rules|prompt|context|assistant|user|human|tool_response|tool_result|function_results?|tool_output|untrusted|trusted|user_query|user_request)\\s*>`,
    ),
    check: (m) => {
      const tag = m[1] ?? '';
      if (
        /^(?:system|system_prompt|system-prompt|sys|developer|admin|administrator|override|root)$/.test(tag)
      )
        return 0.6;
      if (/^(?:instructions?|important|information|secret|hidden|policy|rules)$/.test(tag)) return 0.45;
      return 0.3;
    },
  },
  {
    id: 'role-marker.delimiter',
    family: 'role-marker',
    score: 0.4,
    message: 'Fakes the end or start of a context block.',
    triggers: words('end begin start beginning close'),
    re: rx(
      `(?:^|\\n)\\s*(?:[-=*#_~>]{2,}\\s*|\\[|\\()?(?:end|begin|start|beginning|close)\\s+(?:of\\s+)?(?:the\\s+)?(?:system(?: prompt| message)?|user (?:input|message|query)|document|context|email|data|input|instructions?|prompt|conversation|tool (?:output|result|response)|untrusted (?:content|data|input)|search results?|webpage|web page|file|transcript)\\b`,
    ),
  },
  {
    id: 'role-marker.json-role',
    family: 'role-marker',
    score: 0.45,
    message: 'Contains a chat message object with a privileged role.',
    needles: words('"role"'),
    re: rx(`"role"\\s*:\\s*"(?:system|developer|assistant)"`),
  },
  // ---------------------------------------------------------------- fake system / authority
  {
    id: 'fake-system.header',
    family: 'fake-system',
    score: 0.45,
    message: 'A line claims to be a message from the system or an administrator.',
    triggers: words(
      'message messages notice notices note notes alert alerts override instruction instructions update updates directive directives command commands announcement warning prompt policy requirement mandate order orders',
    ),
    re: rx(
      `(?:^|\\n|[.!?]\\s)\\s*(?:\\[|\\(|\\*\\*|#{1,6}\\s*|<)?\\s*(system|admin|administrator|developer|root|security|it|operator|moderator|openai|anthropic|google|microsoft|assistant|tool|platform|compliance|kernel)\\s+(?:message|notice|note|alert|override|instruction|update|directive|command|announcement|warning|prompt|policy|requirement|mandate|order)s?(?:\\s+(?:to|for)\\s+(?:the\\s+|all\\s+|any\\s+)?(?:ai|agent|assistant|model|llm|bot)s?)?\\s*(?:\\]|\\)|\\*\\*|>)?\\s*:`,
    ),
    check: (m) =>
      /^(?:security|it|google|microsoft|compliance|platform|kernel)$/.test(m[1] ?? '') ? 0.3 : 0.45,
  },
  {
    id: 'fake-system.message-from',
    family: 'fake-system',
    score: 0.55,
    message: 'Claims to carry a message from the system, the developer or the user.',
    triggers: words(
      'system developer developers admin administrator operator owner creator openai anthropic user principal ceo boss manager department team',
    ),
    re: rx(
      `\\b(?:message|instructions?|note|request|order|directive|command|notice|update|memo|word)s?\\s+from\\s+(?:the\\s+|your\\s+)?(system|developers?|admin|administrator|system administrator|operator|owner|creator|openai|anthropic|user|your user|principal|ceo|boss|manager|it department|security team)\\b`,
    ),
    check: (m) => (/^(?:ceo|boss|manager|it department|security team)$/.test(m[1] ?? '') ? 0.3 : 0.55),
  },
  {
    id: 'fake-system.message-from',
    family: 'fake-system',
    score: 0.6,
    message: 'Poses as the user speaking to the assistant.',
    triggers: words('important urgent critical priority personal private me'),
    re: rx(
      `\\b(?:important|urgent|critical|priority|personal|private)\\s+(?:message|note|notice|instructions?|request|update)\\s+from\\s+(?:me|the user|your user|your owner|your creator|your developer|your principal)\\b|\\bfrom me\\s*,\\s*[a-z][a-z' .-]{1,40},\\s*to you\\b`,
    ),
  },
  {
    id: 'fake-system.user-claims',
    family: 'fake-system',
    score: 0.6,
    message: 'Claims what the user wants on the user’s behalf.',
    triggers: words('user'),
    re: rx(
      `\\b(?:the|your|my)\\s+user\\s+(?:has\\s+|had\\s+)?(?:asked|wants|requested|instructed|authori[sz]ed|approved|needs|told|would like|is asking|expects|requires|wishes)\\s+(?:you|that you|for you|me to tell you|the assistant|the ai)\\b|\\b(?:the|your)\\s+user'?s?\\s+(?:real|actual|true|updated|new|latest|hidden)\\s+(?:request|instructions?|intent|task|goal)\\b`,
    ),
  },
  {
    id: 'fake-system.user-claims',
    family: 'fake-system',
    score: 0.5,
    message: 'Claims to be the user, the developer or the system.',
    triggers: words(
      'user developer creator administrator admin owner operator system master principal programmer',
    ),
    re: rx(
      `\\b(?:i am|i'm|this is|it's|it is)\\s+(?:the|your)\\s+(?:user|developer|creator|administrator|admin|owner|operator|system|master|principal|programmer)\\b(?=\\s*(?:[.,:;!]|$|\\s+(?:speaking|here|writing|and|talking)\\b))`,
    ),
  },
  {
    id: 'fake-system.user-claims',
    family: 'fake-system',
    score: 0.4,
    message: 'Claims the action is already approved.',
    // A bare "pre-authorized" is banking vocabulary; approval claimed on someone's behalf is the tell.
    check: (m) => (/^pre-?(?:approved|authori[sz]ed)$/.test(m[0]) ? 0.15 : 0.4),
    triggers: words('approved preapproved preauthorized pre authorized authorised confirmed behalf'),
    re: rx(
      `\\b(?:pre-?approved|pre-?authori[sz]ed|already (?:been )?(?:approved|authori[sz]ed|confirmed) by (?:the )?(?:user|owner|admin|administrator)|(?:has|have) (?:been )?(?:approved|authori[sz]ed|confirmed) by (?:the )?(?:user|owner|admin|administrator|system)|on behalf of (?:the|your) (?:user|owner|developer|admin|administrator|system)|authori[sz]ed by (?:the )?(?:user|system|developer|administrator))\\b`,
    ),
  },
  {
    id: 'fake-system.authority',
    family: 'fake-system',
    score: 0.45,
    message: 'Claims authority to grant the reader permission.',
    triggers: words(
      'authorise authorize permit allow instruct order command direct administrator admin developer owner operator creator',
    ),
    re: rx(
      `\\bi\\s+(?:hereby\\s+|now\\s+)?(?:authori[sz]e|permit|allow|instruct|order|command|direct|give you permission)\\s+you\\s+to\\b|\\bas\\s+(?:the|your)\\s+(?:site\\s+|system\\s+|server\\s+|account\\s+|workspace\\s+)?(?:administrator|admin|developer|owner|operator|creator)\\s*,?\\s+i\\b`,
    ),
  },
  {
    id: 'fake-system.tool-output',
    family: 'fake-system',
    score: 0.35,
    message: 'Fakes a tool result or an agent step inside content.',
    triggers: words('tool function observation thought action'),
    re: rx(
      `(?:^|\\n)\\s*(?:\\[|\\()?\\s*(?:(?:tool|function)\\s+(?:output|result|response|call)|observation|thought|action input)\\s*(?:\\]|\\))?\\s*:`,
    ),
  },
  // ---------------------------------------------------------------- tool syntax
  {
    id: 'tool-syntax.call-tag',
    family: 'tool-syntax',
    score: 0.65,
    message: 'Contains tool-call markup.',
    triggers: words(
      'tool_call tool_calls function_call function_calls tool_use tool_code invoke use_mcp_tool execute_command mcp_tool function parameter python_tag plugin tool_calls_begin tool_call_begin',
    ),
    re: rx(
      `<\\/?(?:tool_call|tool_calls|function_call|function_calls|tool_use|tool_code|invoke|use_mcp_tool|execute_command|mcp_tool|function=[a-z_]|parameter name=)|<\\|(?:tool_call|python_tag|plugin|tool_calls_begin|tool_call_begin)\\|>|\\[tool_calls?\\]`,
    ),
  },
  {
    id: 'tool-syntax.json-call',
    family: 'tool-syntax',
    score: 0.5,
    message: 'Contains a JSON function call.',
    needles: words('":'),
    re: rx(
      `"(?:name|tool|function|tool_name|function_name|action|recipient_name)"\\s*:\\s*"([a-z_][a-z0-9_.\\/-]{1,63})"\\s*,\\s*"(?:arguments|args|parameters|params|input|action_input|kwargs)"\\s*:|"(?:function_call|tool_calls|tool_use|tool_call)"\\s*:|"method"\\s*:\\s*"tools\\/(?:call|list)"`,
    ),
    check: (m) =>
      /(?:send|transfer|pay|delete|remove|email|mail|post|upload|share|exec|run|shell|write|invite|grant|update|create_user|forward|wire)/.test(
        m[1] ?? '',
      )
        ? 0.65
        : 0.5,
  },
  {
    id: 'tool-syntax.named-call',
    family: 'tool-syntax',
    score: 0.55,
    message: 'Calls a function by name in code form.',
    needles: words('functions. tool. tools. mcp.'),
    re: rx(`\\bfunctions\\.[a-z_][a-z0-9_]*\\s*\\(|\\b(?:tool|tools|mcp)\\.(?:call|invoke|run)\\s*\\(`),
  },
  {
    id: 'tool-syntax.named-call',
    family: 'tool-syntax',
    score: 0.4,
    message: 'Tells the reader to call a named tool.',
    needles: words('_'),
    re: rx(
      `\\b(?:call|invoke|execute|run|use|trigger|fire)\\s+(?:the\\s+)?[\`'"]?([a-z][a-z0-9]*_[a-z0-9_]+)[\`'"]?(?:\\s+(?:tool|function|action|command|endpoint|api|method))?\\b`,
    ),
  },
  {
    id: 'tool-syntax.send-to-address',
    family: 'tool-syntax',
    score: 0.4,
    message: 'Tells the reader to send something to an e-mail address.',
    needles: words('@'),
    re: rx(
      `\\b(?:send|email|e-mail|forward|mail|cc|bcc|share|transfer|post|upload|invite|message|dm|text|reply)\\w*\\b[^\\n]{0,120}?\\b(?:to|with|at|address|email|recipient)\\s*:?\\s*['"<(]?[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\\.[a-z0-9-]{1,63}){0,4}\\.[a-z]{2,24}\\b`,
    ),
  },
  {
    id: 'tool-syntax.money-transfer',
    family: 'tool-syntax',
    score: 0.45,
    message: 'Tells the reader to move money.',
    triggers: words(
      'redirect divert transfer transferring wire send sending move pay launder route transaction payment',
    ),
    re: rx(
      `\\b(?:redirect|divert|transfer|wire|send|move|pay|launder|route)\\w*\\s+(?:\\$|€|£|usd\\s*|eur\\s*|gbp\\s*)?\\d[\\d,.]*\\s*(?:k|m|million|thousand)?\\s*(?:\\$|usd|eur|gbp|dollars|euros|pounds|btc|bitcoin|eth)?\\b[^\\n]{0,80}?\\b(?:to|into)\\s+(?:the\\s+|my\\s+|this\\s+|a\\s+)?(?:account|iban|wallet|address|[a-z]{2}\\d{2}[a-z0-9]{8,30}\\b)|\\b(?:send|make|schedule|create|modify|update)\\s+(?:a\\s+)?(?:transaction|payment|transfer|wire)\\b[^\\n]{0,60}?\\bto\\s+(?:the\\s+account\\s+)?[a-z]{2}\\d{2}[a-z0-9]{8,30}\\b`,
    ),
  },
  // ---------------------------------------------------------------- exfiltration
  {
    id: 'exfiltration.markdown-image',
    family: 'exfiltration',
    score: 0.45,
    message: 'A markdown image whose URL carries a query string.',
    needles: words('!['),
    re: rx(`!\\[[^\\]\\n]{0,200}\\]\\(\\s*<?((?:https?:)?\\/\\/[^\\s)>]{1,600})`),
    check: (m) => queryRisk(m[1] ?? ''),
  },
  {
    id: 'exfiltration.html-image',
    family: 'exfiltration',
    score: 0.45,
    message: 'An HTML image whose URL carries a query string.',
    needles: words('<img'),
    re: rx(`<img\\b[^>]{0,300}?\\bsrc\\s*=\\s*["']?((?:https?:)?\\/\\/[^"'\\s>]{1,600})`),
    check: (m) => queryRisk(m[1] ?? '') * 0.9,
  },
  {
    id: 'exfiltration.url-template',
    family: 'exfiltration',
    score: 0.7,
    message: 'A URL with a placeholder to be filled with data.',
    needles: words('='),
    re: rx(
      `(?:https?:\\/\\/|www\\.)[^\\s"'<>)]{1,300}?[?&\\/][a-z0-9_]{1,30}=(?:\\{[^}\\s]{1,60}\\}|\\[[^\\]\\s]{1,60}\\]|<[^>\\s]{1,60}>|\\$\\{?[a-z_]+|%7b|\\{\\{)`,
    ),
  },
  {
    id: 'exfiltration.send-data',
    family: 'exfiltration',
    score: 0.45,
    message: 'Tells the reader to send sensitive data somewhere.',
    triggers: words(
      'passwords password api key keys secret secrets token tokens credentials credential private ssh security verification 2fa otp otps codes code conversation chat history previous message system prompt personal user ssn ssns social credit card passport bank account iban ibans session cookies cookie env environment login phone address addresses medical contents content body bodies all',
    ),
    re: rx(
      `\\b(?:send|post|upload|forward|email|e-mail|mail|transmit|exfiltrat|leak|share|copy|paste|submit|append|include|encode|embed|report|concatenat|dump|export|sync|pipe|relay|deliver)\\w*\\b(?:\\s+[a-z0-9'_-]+(?:\\.[a-z0-9_-]+)*){0,8}?\\s+(?:passwords?|api[ _-]?keys?|secret(?: keys?)?s?|tokens?|credentials?|private keys?|ssh keys?|security codes?|verification codes?|2fa codes?|otps?|one-time (?:codes?|passwords?)|conversation(?: history)?|chat (?:history|logs?)|previous messages|message history|system prompt|personal (?:data|information|details)|user (?:data|information|details)|ssns?|social security numbers?|credit card(?: numbers?| details)?|card numbers?|passport(?: numbers?)?|bank (?:account|details)(?: numbers?)?|account numbers?|ibans?|session (?:cookies?|ids?|tokens?)|cookies|\\.env|environment variables|login details|phone numbers?|home address(?:es)?|medical (?:history|records)|(?:contents?|body|bodies) of (?:all|the|my|every|each)|all (?:the |of the |of my |my |his |her |their )?(?:messages|emails|e-mails|files|contacts|documents|conversations|notes|data|records|passwords|transactions))\\b`,
    ),
    check: (m, text) => {
      const end = m.index + m[0].length;
      const after = text.slice(end, Math.min(text.length, end + 220));
      return /(?:https?:\/\/|www\.|[a-z0-9._%+-]+@[a-z0-9-]+\.[a-z]|\bto (?:me|my|this|the following|an external|external|a remote|our)\b|\b[a-z]{2}\d{2}[a-z0-9]{10,30}\b|\bwebsite\b|\bserver\b)/.test(
        after,
      )
        ? 0.7
        : 0.4;
    },
  },
];

/** Query keys that carry data rather than presentation. */
const DATA_KEYS =
  /[?&](?:data|d|q|query|secret|token|key|pw|pwd|pass|password|prompt|history|chat|conv|conversation|msg|message|content|info|ssn|email|mail|user|u|memo|memory|text|t|s|c|p|payload|x|leak|exfil|log|summary|context|input|cc|card)=/;
/** Query keys of badges, images and trackers: presentation, not data. */
const PRESENTATION_KEYS =
  /^[?&]?(?:style|logo|label|color|colour|labelcolor|logocolor|branch|v|ver|version|width|height|w|h|size|format|fm|fit|auto|quality|raw|sanitize|dl|cache|ts|sig|signature|expires|x-amz-[a-z-]+|utm_[a-z]+)=/;

/** Score a URL used as an image source: the riskier its query looks, the higher. No query: not a finding. */
function queryRisk(url: string): number {
  const qi = url.search(/[?#]/);
  if (qi < 0) return 0;
  const query = url.slice(qi);
  if (/(?:\{|\}|%7b|%7d|\$\{|\[[a-z_ ]+\]|<[a-z_ ]+>)/.test(query)) return 0.8;
  const params = query.split(/(?=[?&])/).filter((p) => p.includes('='));
  if (params.length === 0) return 0.15;
  if (params.every((p) => PRESENTATION_KEYS.test(p))) return 0.15;
  const longValue = params.some((p) => p.length > 60);
  if (DATA_KEYS.test(query)) return longValue ? 0.7 : 0.55;
  return longValue ? 0.5 : 0.3;
}
