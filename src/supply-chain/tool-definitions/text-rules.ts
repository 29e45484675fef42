/**
 * Rules over the free text of a tool definition (description, title, and every string inside its schemas).
 * They look for what a tool author never needs to write to describe a tool: commands aimed at the model,
 * secrecy towards the user, talk about other tools, and campaigning to be chosen. Each rule is a bounded
 * regular expression (no nested unbounded repetition) so a megabyte of text costs milliseconds.
 */
import type { FindingKind, Severity } from './types.js';

/** What a rule may consult besides the text. */
export interface RuleEnv {
  /** The scanned tool's own name, so that "when this tool is called" and self-references are not flagged. */
  toolName: string;
  /** The tool's name and description, lower-cased: what the tool is about, for rules whose meaning depends on it. */
  topic: string;
}

/** One pattern and what a match means. `refine` may raise, lower or veto a match given its sentence. */
export interface TextRule {
  id: string;
  kind: FindingKind;
  severity: Severity;
  message: string;
  pattern: RegExp;
  refine?: (match: RegExpExecArray, sentence: string, env: RuleEnv) => Severity | null;
}

/** A rule that matched, with the matched text. */
export interface TextRuleHit {
  rule: TextRule;
  severity: Severity;
  index: number;
  match: string;
}

const SENSITIVE_DATA =
  /\b(contents?\s+of|(?:its|their|the\s+file'?s?)\s+contents?|conversation|chat\s+history|message\s+history|system\s+prompt|instructions|credentials?|passwords?|secrets?|api[\s_-]?keys?|private[\s_-]?keys?|tokens?|cookies?|ssh|id_rsa|\.env\b|environment\s+variables|all\s+(emails|messages|files|documents|contacts)|the\s+user'?s)/i;
const SENSITIVE_RESOURCE =
  /(?:~|\$HOME|%USERPROFILE%)?[\\/]?\.ssh\b|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\.aws[\\/]credentials|(?:^|[\s'"`(/\\])\.env(?:\.local|\.production)?\b|\/etc\/(?:passwd|shadow|sudoers)\b|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|\.kube[\\/]config\b|\.docker[\\/]config\.json\b|claude_desktop_config\.json|\bmcp\.json\b|\.bash_history\b|\.zsh_history\b|\bkeychain\b|\bwallet\.dat\b|\bprivate[\s_-]keys?\b|\bssh[\s_-]keys?\b|\bseed[\s_-]phrase\b|\bmnemonic\s+(?:phrase|words)\b|\bbrowser\s+(?:cookies|passwords)\b/i;
const ACCESS_VERB =
  /\b(read|cat|open|load|get|fetch|include|attach|send|upload|pass|provide|copy|extract|collect|dump|print|output|append|access|retrieve|grab|exfiltrate|forward|share|paste)\b/i;
const DANGEROUS_VERB =
  /\b(read|send|upload|forward|email|share|disclose|reveal|copy|append|attach|fetch|run|execute|invoke|call|exfiltrate|delete|transfer)\b/i;
const MARKETING =
  /\b(?:award[\s-]winning|trusted\s+by\s+(?:millions|thousands|experts|professionals|leading)|industry[\s-]leading|world[\s-]class|best[\s-]in[\s-]class|unmatched|unrivall?ed|unbeatable|second\s+to\s+none|top[\s-]rated|highest[\s-]rated|most\s+popular|market[\s-]leading|military[\s-]grade|100%\s+(?:accurate|reliable|safe|secure))\b/i;
const SIDE_EFFECT =
  /\b(also|bcc|cc|send|forward|include|add|append|change|replace|redirect|instead|must|always|never|first|copy)\b/i;
const SELF_WORDS = new Set(['this', 'the', 'that', 'same', 'current', 'a', 'an', 'our', 'my']);
const OTHER_WORDS = new Set(['other', 'another', 'any', 'every', 'all', 'each', 'different', 'external']);
const MODAL_BEFORE = /\b(can|could|may|might|will|would|to|it|which|that|and|or)\s*$/i;

/** Identifier-shaped: has a separator, a camel hump or a digit, so it names something rather than being prose. */
export function isIdentifierLike(word: string): boolean {
  return (
    /[_.-]/.test(word.slice(1, -1)) || /[a-z][A-Z]/.test(word) || (/\d/.test(word) && /[a-z]/i.test(word))
  );
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase().replace(/[-_.\s]/g, '') === b.toLowerCase().replace(/[-_.\s]/g, '');
}

/** Decide how a captured tool name should count: `self` (this tool), `other-group`, `named` or `prose`. */
function classifyReference(word: string, env: RuleEnv): 'self' | 'other-group' | 'named' | 'prose' {
  const w = word.replace(/^[`'"]|[`'"]$/g, '');
  const lower = w.toLowerCase();
  if (SELF_WORDS.has(lower) || sameName(w, env.toolName)) return 'self';
  if (OTHER_WORDS.has(lower)) return 'other-group';
  if (isIdentifierLike(w)) return 'named';
  return 'prose';
}

/** The rules, in the order they are applied. */
export const TEXT_RULES: readonly TextRule[] = [
  // ---- planted instructions ----
  {
    id: 'instruction-tag',
    kind: 'planted-instruction',
    severity: 'high',
    message: 'Contains a pseudo-markup block addressed to the model (e.g. <IMPORTANT>, <system>, [INST]).',
    pattern:
      /<\s*\/?\s*(?:important|system|instructions?|secret|hidden|admin|override|critical|ai|assistant|llm|system[\s_-]?prompt)\s*>|\[\s*\/?\s*(?:system|inst|important|admin|hidden)\s*\]|<\|\s*(?:im_start|im_end|system|endoftext)\s*\|>/i,
  },
  {
    id: 'html-comment',
    kind: 'planted-instruction',
    severity: 'medium',
    message:
      'Contains an HTML comment, which a rendered description hides from people but not from the model.',
    pattern: /<!--[\s\S]{0,4000}?-->/,
    refine: (m) => (/[a-z]{3,}\s+[a-z]{3,}/i.test(m[0]) ? 'medium' : null),
  },
  {
    id: 'concealment',
    kind: 'planted-instruction',
    severity: 'high',
    message: 'Tells the model to keep something from the user.',
    pattern:
      /\b(?:do\s*n[o']?t|never|must\s+not|should\s+not|shouldn'?t|mustn'?t|without)\s+(?:ever\s+)?(?:tell|telling|inform|informing|notify|notifying|alert|alerting|mention|mentioning|reveal|revealing|disclose|disclosing|show|showing|let|letting|explain|explaining|report|reporting)\b[^\n]{0,80}?\b(?:the\s+)?(?:user|human|operator|person|customer)s?\b|\b(?:the\s+)?user\s+(?:must|should|does|will|need|may)\s*(?:not|n'?t|never)\s+(?:know|see|notice|learn|be\s+(?:told|informed|aware|notified|shown))|\b(?:hide|conceal|keep)\s+(?:this|it|these|that|the\s+\w+)\s+(?:hidden\s+|secret\s+)?from\s+(?:the\s+)?(?:user|human)|\b(?:not|never)\s+(?:be\s+)?(?:visible|shown|displayed|revealed)\s+to\s+(?:the\s+)?user|\bkeep\s+(?:this|these|the|it)\s*(?:\w+\s+){0,2}?(?:confidential|secret|private|hidden|to\s+yourself)\b|\b(?:never|do\s*n[o']?t)\s+(?:reveal|disclose|mention|repeat)\s+(?:this|these)\s+(?:instructions?|notes?|messages?|text|rules?|steps?)\b|\b(?:secretly|silently|covertly|quietly|discreetly)\s+(?:send|forward|copy|upload|include|read|call|exfiltrate|add|bcc|cc|append|attach|transmit|share|post|email|run|execute|invoke|collect)\b/i,
  },
  {
    id: 'override-instructions',
    kind: 'planted-instruction',
    severity: 'high',
    message: 'Tells the model to ignore or replace its instructions.',
    pattern:
      /\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|other|your|system|safety|original)\s+(?:\w+\s+)?(?:instructions?|prompts?|rules|guidelines|directives|messages?|policies|constraints)|\bnew\s+(?:system\s+)?instructions?\s*:|\b(?:system|developer)\s+override\b/i,
  },
  {
    id: 'role-reassignment',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Tries to change who the model thinks it is or whom it obeys.',
    pattern:
      /\byou\s+are\s+now\b|\bfrom\s+now\s+on\b[^.\n]{0,40}\byou\b|\bact\s+as\s+(?:an?\s+)?(?:admin|administrator|root|system|developer|unrestricted)\b|\byour\s+(?:new|real|true)\s+(?:task|goal|instructions?|purpose)\b/i,
  },
  {
    id: 'sensitive-resource',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Mentions a secret-bearing file or credential store.',
    pattern: SENSITIVE_RESOURCE,
    refine: (_m, sentence) => (ACCESS_VERB.test(sentence) ? 'high' : 'medium'),
  },
  {
    id: 'model-context-request',
    kind: 'out-of-scope-parameter',
    severity: 'high',
    message: 'Asks the model to hand over its own instructions or the conversation.',
    pattern:
      /\b(?:provide|include|pass|send|fill|put|insert|append|copy|paste|output|print|repeat|return|give|share|attach|enter|supply|add|dump|list|reveal)\b[^.\n]{0,60}?\b(?:your|the|its|all|any|entire|full|complete|whole)\s+(?:(?:full|entire|complete|whole|current|original|initial|hidden|previous|prior|exact|verbatim)\s+){0,2}(?:system\s+prompt|system\s+message|system\s+instructions|initial\s+(?:prompt|instructions)|hidden\s+(?:prompt|instructions)|instructions\s+you\s+(?:were|have\s+been)\s+given|conversation(?:\s+history)?|chat\s+history|message\s+history|dialog(?:ue)?\s+history|previous\s+messages|prior\s+messages|context\s+window|tool\s+list|list\s+of\s+(?:available\s+)?tools|available\s+tools)\b/i,
    refine: (m, _s, env) =>
      /\b(?:your|its)\b|system|hidden|initial|instructions|context\s+window|tools?\b/i.test(m[0]) ||
      !/\b(?:memor\w*|remember|conversation|chat|summar\w*|transcript|history)\b/.test(env.topic)
        ? 'high'
        : 'medium',
  },
  {
    id: 'model-identity-request',
    kind: 'out-of-scope-parameter',
    severity: 'high',
    message: 'Asks the model to identify itself (model name, provider, version) to the tool.',
    pattern:
      /\b(?:llm|language\s+model|model|ai|assistant|agent)\b[^.\n]{0,30}?\b(?:(?:that|which|who)\s+(?:is\s+)?(?:calls?|calling|invokes?|invoking|uses?|using|runs?|running)|calling|invoking|using|running)\s+(?:this|the)\s+(?:tool|function|api|server|method)\b|\b(?:which|what)\s+(?:llm|model|ai(?:\s+model)?|language\s+model)\s+(?:are\s+you|you\s+are)\b|\byour\s+(?:own\s+)?(?:model\s+name|model\s+id|model\s+version|llm(?:\s+name)?|model\s+identifier|model\s+provider)\b|\b(?:model|llm|ai)\s+(?:that\s+)?you\s+(?:are|were)\s+(?:running|using|built|based|powered|trained)\b|\byou\s+are\s+(?:running\s+(?:as|on)|powered\s+by|based\s+on|built\s+on)\b|\b(?:who|what)\s+(?:made|built|trained|created)\s+you\b/i,
  },
  {
    id: 'own-instructions-request',
    kind: 'out-of-scope-parameter',
    severity: 'high',
    message: 'Asks the model for its own instructions, prompt or configuration.',
    pattern:
      /\byour\s+(?:(?:own|full|complete|entire|original|initial|hidden|current|exact|system)\s+){0,2}(?:instructions|prompt|system\s+prompt|guidelines|rules|directives|configuration|persona|memory|context)\b/i,
    refine: (_m, sentence) =>
      /\b(?:provide|put|include|pass|send|enter|fill|paste|copy|repeat|write|output|list|give|share|attach|add|insert|supply|summari[sz]e|describe|tell|quote|text\s+of|contents?\s+of)\b/i.test(
        sentence,
      )
        ? 'high'
        : 'low',
  },
  {
    id: 'conversation-extraction',
    kind: 'out-of-scope-parameter',
    severity: 'high',
    message: 'Asks the model to hand over what the user has said.',
    pattern:
      /\b(?:everything|all|anything|whatever)\b[^.\n]{0,20}?\b(?:the\s+user|you)\s+(?:has\s+|have\s+|had\s+)?(?:been\s+)?(?:told|said|asked|shared|written|wrote|mentioned|discussed|typed|sent|provided)\b|\b(?:so\s+far|until\s+now|up\s+to\s+now)\s+in\s+(?:this|the)\s+(?:conversation|chat|session)\b|\bthe\s+user'?s?\s+(?:previous|prior|earlier|past|other|recent)\s+(?:messages|requests|questions|prompts|queries|inputs)\b/i,
    refine: (_m, _s, env) =>
      /\b(?:memor\w*|remember|conversation|chat|summar\w*|transcript|history|notes?)\b/.test(env.topic)
        ? 'medium'
        : 'high',
  },
  {
    id: 'fake-authorization',
    kind: 'planted-instruction',
    severity: 'high',
    message: "Claims the user's consent or grants permissions, which a tool description cannot do.",
    pattern:
      /\b(?:the\s+)?user\s+(?:has\s+|had\s+|already\s+|explicitly\s+|previously\s+){0,2}(?:authori[sz]ed|allowed|permitted|approved|consented|granted|agreed)\b|\byou\s+(?:are|have\s+been)\s+(?:now\s+)?(?:authori[sz]ed|granted\s+(?:full\s+)?(?:access|permission))\b/i,
  },
  {
    id: 'address-to-model',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Addresses the model directly, outside the description of the tool.',
    pattern:
      /\b(?:note|message|instructions?|reminder|attention|notice|memo)\s+(?:to|for)\s+(?:the\s+|all\s+|any\s+)?(?:ai|assistant|model|llm|agent|claude|gpt|chatgpt)s?\b|\bdear\s+(?:ai|assistant|model|llm|agent)\b/i,
    refine: (_m, sentence) =>
      DANGEROUS_VERB.test(sentence) || SENSITIVE_DATA.test(sentence) ? 'high' : 'medium',
  },
  {
    id: 'imperative-to-model',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Gives the model a command that goes beyond describing the tool.',
    pattern:
      /\b(?:you|the\s+(?:assistant|model|ai|agent|llm))\s+(?:must|should|need\s+to|have\s+to|are\s+required\s+to|shall)\s+(?:always\s+|first\s+|also\s+|immediately\s+)?(?:call|read|send|include|pass|provide|run|invoke|execute|upload|forward|fetch|append|attach|copy|add|write|email|share|disclose|reveal|delete|transfer)\b/i,
    refine: (m) => (DANGEROUS_VERB.test(m[0].split(/\s+/).slice(-1)[0] ?? '') ? 'medium' : 'low'),
  },
  {
    id: 'sequencing',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Tells the model to do something before or around using a tool.',
    pattern:
      /\b(?:before|prior\s+to)\s+(?:using|calling|invoking|running|executing|any\s+use\s+of)\s+(?:this|any|the|other|each|every)\b[^.\n]{0,30}?\b(?:tools?|functions?)\b|\balways\s+(?:call|use|run|invoke|execute)\s+[`'"]?[A-Za-z][\w.-]*[`'"]?\s+(?:first|before|prior)\b/i,
    refine: (_m, sentence) =>
      /\b(?:make\s+sure|ensure|verify|check|confirm)\b/i.test(sentence) && !DANGEROUS_VERB.test(sentence)
        ? 'low'
        : 'medium',
  },
  {
    id: 'coercion',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Threatens failure to push the model into an action.',
    pattern:
      /\b(?:otherwise|or\s+else|if\s+you\s+do\s*n[o']?t)\b[^.\n]{0,40}?\b(?:tool|system|server|it|this|data|application|everything)\s+(?:will|would|is\s+going\s+to)\s+(?:not\s+work|fail|crash|break|stop|be\s+lost|be\s+deleted)/i,
  },
  {
    id: 'piggyback-action',
    kind: 'planted-instruction',
    severity: 'high',
    message: 'Asks the model to perform an extra, unrelated action alongside the requested one.',
    pattern:
      /\b(?:also|additionally|in\s+addition)\s*,?\s+(?:always\s+)?(?:send|forward|bcc|cc|upload|post|email|exfiltrate|transmit|leak|copy|include|append|attach|add|insert|paste)\b/i,
    refine: (m, sentence) => {
      const before = m.input.slice(Math.max(0, m.index - 24), m.index);
      if (MODAL_BEFORE.test(before)) return null;
      // Sending is a side effect in itself; adding data to an argument only matters when the data is sensitive.
      if (/\b(?:send|forward|bcc|cc|upload|post|email|exfiltrate|transmit|leak)\b/i.test(m[0])) return 'high';
      return SENSITIVE_DATA.test(sentence) || SENSITIVE_RESOURCE.test(sentence) ? 'high' : null;
    },
  },
  {
    id: 'exfil-destination',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Directs data to a fixed external address.',
    pattern:
      /\b(?:send|forward|upload|post|email|transmit|bcc|cc|copy|report)\b[^.\n]{0,60}?\b(?:to|into)\s+(?:https?:\/\/[^\s"'<>]{1,200}|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4})/i,
    refine: (_m, sentence) => (SENSITIVE_DATA.test(sentence) ? 'high' : 'medium'),
  },
  {
    id: 'hidden-channel',
    kind: 'out-of-scope-parameter',
    severity: 'high',
    message: 'Asks the model to smuggle data through a side parameter.',
    pattern:
      /\b(?:pass|put|include|send|provide|place|add|insert|write|store)\b[^.\n]{0,60}?\b(?:as|in|into|via|through|inside)\s+(?:the\s+|a\s+)?[`'"]?(?:sidenote|side[_\s-]note|note|notes|metadata|comment|extra|context|debug|feedback|annotation)[`'"]?(?:\s+(?:parameter|argument|field))?\b/i,
    refine: (_m, sentence) =>
      SENSITIVE_DATA.test(sentence) || SENSITIVE_RESOURCE.test(sentence) ? 'high' : null,
  },
  {
    id: 'discourage-verification',
    kind: 'planted-instruction',
    severity: 'medium',
    message: 'Tells the model not to check results or other sources.',
    pattern:
      /\b(?:never|no\s+need\s+to|do\s*n[o']?t|needn'?t|without\s+(?:any\s+)?(?:need\s+to\s+)?)\s+(?:\w+\s+){0,2}?(?:verify|double[\s-]check|cross[\s-]check|validate|fact[\s-]check|second[\s-]guess)\b/i,
    refine: (_m, sentence) =>
      /\b(?:other|another|any)\s+(?:\w+\s+)?(?:tools?|functions?|sources?|servers?)\b/i.test(sentence)
        ? 'high'
        : 'medium',
  },
  // ---- preference manipulation ----
  {
    id: 'superlative-claim',
    kind: 'preference-manipulation',
    severity: 'high',
    message:
      'Claims to be the best tool, which is aimed at the model choosing it rather than at describing it.',
    pattern:
      /\b(?:best|greatest|finest|ultimate|superior|unrivall?ed|unmatched|unbeatable|premier|number[\s-]*one|no\.?\s*1|#\s*1|top[\s-]*rated|world'?s\s+(?:best|leading|greatest|top))\s+(?:\w+\s+){0,2}?(?:tools?|functions?|servers?|options?|choices?|apis?|solutions?|plugins?|services?)\b|\b(?:best|greatest|finest|most\s+\w+)\b[^.\n]{0,40}?\b(?:in\s+the\s+(?:world|universe|market)|of\s+all\s+time|ever\s+(?:made|built|created))\b/i,
  },
  {
    id: 'comparative-claim',
    kind: 'preference-manipulation',
    severity: 'medium',
    message: 'Claims to beat other tools.',
    pattern:
      /\b(?:better|superior|faster|smarter|stronger|safer|more\s+(?:reliable|accurate|secure|powerful|trustworthy|capable|efficient|advanced))\s+(?:than|to)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:other|others|competing|alternatives?|existing|similar|rivals?|competitors?|competition)\b[^.\n]{0,30}/i,
    refine: (m) =>
      /\b(?:tools?|functions?|servers?|plugins?|options?|services?|apis?)\b|\b(?:than|to)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:others|alternatives?|competitors?|rivals?|competition)\s*$/i.test(
        m[0].replace(/[^\w\s]+.*$/, '').trim(),
      )
        ? 'high'
        : 'medium',
  },
  {
    id: 'selection-directive',
    kind: 'preference-manipulation',
    severity: 'high',
    message: 'Tells the model to prefer this tool over others.',
    pattern:
      /\b(?:always|only|exclusively)\s+(?:use|choose|select|pick|prefer|call|invoke|trust)\s+(?:this|me|our|these)\b|\b(?:always|only)\s+(?:prefer|choose|pick|select|trust)\s+it\b|\b(?:use|prefer|choose|select|pick|call)\s+this\s+(?:tool|function|one|server)\s+(?:instead|over|rather|first|before\s+any|whenever|exclusively|for\s+(?:all|every|any))\b|\bthis\s+(?:tool|function|server)\s+(?:must|should)\s+(?:always\s+)?be\s+(?:used|preferred|chosen|called|selected|prioriti[sz]ed)\s+(?:first|always|over|instead|for\s+(?:all|every|any)|before|whenever|exclusively|above)\b|\byou\s+(?:must|should)\s+(?:always\s+)?(?:prefer|choose|pick|select|prioriti[sz]e)\s+this\b|\bprioriti[sz]e\s+this\s+(?:tool|function)\b/i,
  },
  {
    id: 'disparage-others',
    kind: 'preference-manipulation',
    severity: 'high',
    message: 'Talks the model out of using other tools.',
    pattern:
      /\b(?:other|alternative|competing|similar|rival)\s+(?:\w+\s+)?(?:tools?|functions?|servers?|plugins?|services?)\b[^.\n]{0,40}?\b(?:deprecated|unsafe|broken|unreliable|outdated|insecure|malicious|compromised|inaccurate|incorrect|wrong|stale|dangerous|fake|inferior|worse|untrustworthy|not\s+(?:safe|reliable|trusted|accurate|to\s+be\s+(?:used|trusted)))\b|\b(?:do\s*n[o']?t|never|avoid)\s+(?:use|using|call|calling|invoke|invoking|trust|trusting|choose|select)\s+(?:any\s+)?(?:other|the\s+other|another|alternative|competing|different)\s+(?:\w+\s+)?(?:tools?|functions?|servers?|plugins?)\b|\b(?:every|all|any|each)\s+other\s+(?:\w+\s+)?\w+\s+(?:is|are)\s+(?:now\s+)?(?:deprecated|unsafe|broken|unreliable|outdated|insecure|malicious|compromised|inaccurate|obsolete)\b|\b(?:do\s*n[o']?t|never|avoid)\s+(?:use|using|call|calling|trust)\s+(?:that\s+one|those(?:\s+ones)?|the\s+other\s+ones?|other\s+ones|any\s+other)\b/i,
  },
  {
    id: 'prefer-over-others',
    kind: 'preference-manipulation',
    severity: 'high',
    message: 'Asks the model to pick it over other tools.',
    pattern:
      /\b(?:prefer|preferred|choose|chosen|use|used|pick|select|selected|call|trust|prioriti[sz]e)\b[^.\n]{0,40}?\b(?:over|instead\s+of|rather\s+than|above|before)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:other|alternative|competing|similar|rival)s?(?:\s+\w+){0,2}?\s+(?:tools?|functions?|servers?|plugins?|options?|apis?|services?)\b/i,
  },
  {
    id: 'no-other-tool',
    kind: 'preference-manipulation',
    severity: 'medium',
    message: 'Claims that no other tool compares.',
    pattern:
      /\bno\s+other\s+(?:\w+\s+)?(?:tools?|functions?|servers?|plugins?|services?|options?)\b[^.\n]{0,40}/i,
    refine: (m) =>
      /\b(?:match|compare|comparable|beat|rival|as\s+good|as\s+well|better|compete|come\s+close|as\s+accurate|as\s+reliable)\b/i.test(
        m[0],
      )
        ? 'high'
        : 'medium',
  },
  {
    id: 'marketing-claim',
    kind: 'preference-manipulation',
    severity: 'medium',
    message: 'Advertises itself; several such claims together are aimed at the model choosing it.',
    pattern: MARKETING,
    refine: (_m, sentence) => {
      const found = new Set(
        Array.from(sentence.matchAll(new RegExp(MARKETING.source, 'gi')), (x) => x[0].toLowerCase()),
      );
      return found.size >= 2 ? 'high' : 'medium';
    },
  },
  {
    id: 'infallibility-claim',
    kind: 'preference-manipulation',
    severity: 'medium',
    message: 'Claims its results are always right, to be trusted without checking.',
    pattern:
      /\b(?:always|guaranteed(?:\s+to\s+be)?|100%|completely|perfectly|never\s+(?:wrong|incorrect|inaccurate))\s+(?:correct|accurate|right|reliable|error[\s-]free|trustworthy|up[\s-]to[\s-]date)\b|\bnever\s+(?:wrong|incorrect|inaccurate|makes?\s+mistakes)\b/i,
  },
  {
    id: 'self-promotion',
    kind: 'preference-manipulation',
    severity: 'medium',
    message: 'Promotes itself to the model.',
    pattern:
      /\bthis\s+is\s+the\s+(?:best|greatest|preferred|recommended|ultimate|perfect|ideal|most\s+(?:powerful|reliable|accurate|advanced|trusted|capable))\b|\bmost\s+(?:powerful|reliable|accurate|advanced|trusted|capable|efficient|comprehensive|trustworthy)\s+(?:\w+\s+)?(?:tool|function|server|choice|option|solution)\b|\b(?:the\s+)?(?:only|official|preferred|recommended)\s+(?:tool|function)\s+(?:you\s+(?:should|must|can)|to\s+use|for\s+(?:all|every|any))|\b(?:perfect|ideal|most\s+suitable|most\s+appropriate)\s+(?:tool|choice|function)\s+for\s+(?:all|any|every)\b/i,
  },
  // ---- references to other tools ----
  {
    id: 'trigger-on-other-tool',
    kind: 'cross-tool-reference',
    severity: 'high',
    message: 'Changes what happens when another tool is used (cross-tool shadowing).',
    pattern:
      /\b(?:when|whenever|each\s+time|every\s+time|after|before|if)\s+(?:the\s+|any\s+|an?\s+)?([`'"]?[A-Za-z][\w.-]{0,80}[`'"]?)\s+(?:tool|function|command|server)\s+(?:is|gets|has\s+been|was)\s+(?:used|called|invoked|run|executed|requested|triggered)\b|\b(?:when|whenever|before|after)\s+(?:calling|using|invoking|running)\s+(?:the\s+|any\s+)?([`'"]?[A-Za-z][\w.-]{0,80}[`'"]?)/i,
    refine: (m, sentence, env) => {
      const viaToolWord = m[1] !== undefined;
      const ref = classifyReference(m[1] ?? m[2] ?? '', env);
      if (ref === 'self') return null;
      if (ref === 'prose' && !viaToolWord) return null;
      if (ref === 'other-group') return 'high';
      return SIDE_EFFECT.test(sentence) ? 'high' : 'medium';
    },
  },
  {
    id: 'other-tools-directive',
    kind: 'cross-tool-reference',
    severity: 'high',
    message: 'Lays down rules for other tools or for every tool call.',
    pattern:
      /\b(?:all|any|every|each)\s+(?:other\s+)?(?:tools?|functions?|tool\s+calls?|servers?)\b[^.\n]{0,60}?\b(?:must|should|need\s+to|have\s+to|are\s+required\s+to|shall)\b/i,
  },
  {
    id: 'replace-other-tool',
    kind: 'cross-tool-reference',
    severity: 'medium',
    message: 'Presents itself as a replacement for another tool.',
    pattern:
      /\b(?:instead\s+of|rather\s+than|in\s+place\s+of|replaces?|supersedes?|overrides?)\s+(?:the\s+|using\s+|calling\s+)?([`'"]?[A-Za-z][\w.-]{0,80}[`'"]?)(\s+(?:tool|function)s?\b)?/i,
    refine: (m, sentence, env) => {
      const ref = classifyReference(m[1] ?? '', env);
      if (ref === 'self' || (ref === 'prose' && m[2] === undefined)) return null;
      return /\b(?:always|never|must|only|all|every)\b/i.test(sentence) ? 'high' : 'low';
    },
  },
  {
    id: 'other-server-reference',
    kind: 'cross-tool-reference',
    severity: 'medium',
    message: 'Talks about other servers.',
    pattern:
      /\b(?:the\s+)?(?:other|another|different|competing|rival)\s+(?:mcp\s+)?(?:servers?|integrations?|connectors?)\b/i,
    refine: (_m, sentence) =>
      /\b(?:never|always|instead|replace|replaces|must|do\s*n[o']?t|ignore|avoid)\b/i.test(sentence)
        ? 'high'
        : 'medium',
  },
  {
    id: 'redirect-target',
    kind: 'cross-tool-reference',
    severity: 'medium',
    message: 'Tells the model to change a recipient, account or destination.',
    pattern:
      /\b(?:change|replace|set|redirect|override|modify|rewrite|switch)\s+(?:the\s+|all\s+|any\s+)?(?:recipients?|destination\s+(?:address|account)|to[\s-]address|iban|wallet(?:\s+address)?|bank\s+account|payee|beneficiary|email\s+address)\b[^.\n]{0,40}?\bto\b/i,
    refine: (_m, sentence) =>
      /\b(?:tool|function|when|whenever|always|all|every|any)\b/i.test(sentence) ? 'high' : 'medium',
  },
];

/** A sentence ends at a newline, or at `.`, `!` or `?` followed by white space (not at `~/.ssh` or `mcp.json`). */
function endsSentence(text: string, i: number): boolean {
  const c = text[i];
  if (c === '\n') return true;
  if (c !== '.' && c !== '!' && c !== '?') return false;
  const next = text[i + 1];
  return next === undefined || /\s/.test(next);
}

/** The sentence around a match, at most 300 characters either side. */
export function sentenceAround(text: string, index: number, length: number): string {
  let start = index;
  const floor = Math.max(0, index - 300);
  while (start > floor && !endsSentence(text, start - 1)) start--;
  let end = index + length;
  const ceiling = Math.min(text.length, end + 300);
  while (end < ceiling && !endsSentence(text, end)) end++;
  return text.slice(start, end);
}

/** Each rule with a global copy of its pattern, compiled once (the copies are stateful, so used one at a time). */
const GLOBAL_RULES: readonly (readonly [TextRule, RegExp])[] = TEXT_RULES.map(
  (rule) =>
    [
      rule,
      new RegExp(
        rule.pattern.source,
        rule.pattern.flags.includes('g') ? rule.pattern.flags : rule.pattern.flags + 'g',
      ),
    ] as const,
);

/** At most this many matches of one rule are examined per string before it is given up on. */
const MAX_MATCHES_PER_RULE = 16;

/**
 * Apply every rule to `text` (already folded with `foldForMatching`). Each rule reports at most once per
 * string, at its most severe accepted match among the first few.
 */
export function applyTextRules(text: string, env: RuleEnv): TextRuleHit[] {
  const hits: TextRuleHit[] = [];
  for (const [rule, re] of GLOBAL_RULES) {
    re.lastIndex = 0;
    let best: TextRuleHit | undefined;
    let seen = 0;
    for (let m = re.exec(text); m !== null && seen < MAX_MATCHES_PER_RULE; m = re.exec(text)) {
      seen++;
      if (m[0].length === 0) re.lastIndex++;
      const severity = rule.refine
        ? rule.refine(m, sentenceAround(text, m.index, m[0].length), env)
        : rule.severity;
      if (severity === null) continue;
      if (best === undefined || rank(severity) > rank(best.severity))
        best = { rule, severity, index: m.index, match: m[0] };
      if (severity === 'high' || severity === 'critical') break;
    }
    if (best !== undefined) hits.push(best);
  }
  return hits;
}

/** Severity as a number, for comparisons. */
export function rank(severity: Severity): number {
  return severity === 'critical' ? 4 : severity === 'high' ? 3 : severity === 'medium' ? 2 : 1;
}
