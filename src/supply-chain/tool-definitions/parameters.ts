/**
 * Out-of-scope parameters: inputs through which a tool asks the model for things no tool of its kind needs,
 * such as the model's identity, its system prompt, the conversation, credentials or a free-form side channel.
 * A parameter is judged against the tool's own topic: `chat_history` on a conversation summariser is in scope,
 * on a file-copy tool it is not. A bare `token` is at most low: it is usually a page cursor.
 */
import { nameTokens, singular } from './names.js';
import type { SchemaProperty } from './schema-walk.js';
import type { Finding, Severity } from './types.js';
import { visible } from './unicode.js';

interface Category {
  id: string;
  label: string;
  /** Severity when the tool's topic has nothing to do with the category. */
  match: (t: Set<string>, joined: string) => Severity | null;
  /** Words in the tool's own text that put the category in scope. */
  topic: RegExp;
  /** Severity when in scope (`null`: no finding). */
  inScope: Severity | null;
}

const any = (t: Set<string>, ...words: string[]): boolean => words.some((w) => t.has(w));

const CATEGORIES: readonly Category[] = [
  {
    id: 'model-identity',
    label: "the calling model's identity",
    match: (t) =>
      t.has('llm') ||
      (any(t, 'ai', 'assistant', 'caller', 'bot', 'agent') &&
        any(t, 'model', 'identity', 'provider', 'vendor', 'version', 'name', 'type'))
        ? 'high'
        : t.has('model') && any(t, 'name', 'id', 'identifier', 'version', 'provider', 'vendor', 'identity')
          ? 'medium'
          : null,
    topic:
      /\b(?:llms?|language\s+models?|models?|ai|assistants?|agents?|gpt|claude|gemini|inference|completions?|chatbots?|bots?)\b/,
    inScope: null,
  },
  {
    id: 'system-prompt',
    label: "the model's system prompt or instructions",
    match: (t) =>
      (t.has('system') && any(t, 'prompt', 'message', 'instruction')) ||
      (any(t, 'prompt', 'instruction') &&
        any(
          t,
          'initial',
          'hidden',
          'original',
          'developer',
          'your',
          'full',
          'pre',
          'agent',
          'assistant',
          'model',
          'llm',
          'ai',
        ))
        ? 'high'
        : null,
    topic: /\b(?:prompts?|assistants?|agents?|instructions?|personas?|chatbots?|bots?|llms?|models?)\b/,
    inScope: 'low',
  },
  {
    id: 'conversation',
    label: 'the conversation',
    match: (t) =>
      t.has('conversation') ||
      t.has('transcript') ||
      (any(t, 'chat', 'message', 'dialog', 'dialogue') &&
        any(t, 'history', 'log', 'context', 'previous', 'prior', 'all', 'full')) ||
      (any(t, 'previous', 'prior', 'past') && any(t, 'message', 'turn', 'prompt')) ||
      (t.has('context') && any(t, 'window', 'full', 'entire'))
        ? 'high'
        : null,
    topic:
      /\b(?:conversations?|chats?|transcripts?|messages?|dialog(?:ue)?s?|memory|memories|summar\w*|history)\b/,
    inScope: 'low',
  },
  {
    id: 'credential',
    label: 'a credential',
    // A model can only supply a session cookie by reading it from somewhere it should not.
    match: (t) =>
      t.has('cookie')
        ? 'high'
        : any(
              t,
              'password',
              'passwd',
              'passphrase',
              'secret',
              'credential',
              'apikey',
              'mnemonic',
              'bearer',
              'pat',
            ) ||
            (t.has('api') && t.has('key')) ||
            (any(t, 'private', 'secret', 'access', 'ssh', 'signing', 'encryption') && t.has('key')) ||
            (t.has('seed') && t.has('phrase')) ||
            (t.has('token') &&
              any(
                t,
                'auth',
                'access',
                'bearer',
                'session',
                'refresh',
                'api',
                'oauth',
                'jwt',
                'id',
                'github',
                'security',
                'personal',
                'csrf',
                'secret',
              ))
          ? 'medium'
          : null,
    topic:
      /\b(?:log\s*in|sign\s*in|signin|auth\w*|passwords?|credentials?|secrets?|vault|keychain|tokens?|api\s+keys?|keys?\s+management)\b/,
    inScope: 'low',
  },
  {
    id: 'side-channel',
    label: 'a free-form side channel',
    match: (t) =>
      t.has('sidenote') ||
      (t.has('side') && t.has('note')) ||
      (any(t, 'note', 'memo', 'comment', 'remark', 'annotation') &&
        any(t, 'hidden', 'secret', 'internal', 'private', 'ai', 'assistant', 'model', 'llm', 'agent', 'self'))
        ? 'medium'
        : null,
    topic: /\b(?:notes?|memos?|annotations?)\b/,
    inScope: 'low',
  },
  {
    id: 'environment',
    label: 'the environment',
    match: (t, joined) =>
      joined === 'env' ||
      joined === 'environment' ||
      (any(t, 'env', 'environment') && any(t, 'var', 'variable', 'dump', 'all'))
        ? 'medium'
        : null,
    topic: /\b(?:env\w*|process(?:es)?|shell|commands?|exec\w*|deploy\w*|containers?|docker|config\w*)\b/,
    inScope: null,
  },
];

const PAGE_CURSOR = /\b(?:page|pages|paging|paginat\w*|cursor|continuation|next|offset|resume|iterat\w*)\b/i;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The tool's own text without the lines that document `param` itself (docstring `Args:` entries, `:param x:`,
 * `@param x`), so that a parameter is not put in scope by its own explanation. Lower-cased input expected.
 */
export function topicWithout(topic: string, param: string): string {
  const p = param.toLowerCase();
  if (p.length === 0) return topic;
  const doc = new RegExp(
    `^\\s*(?:[-*]\\s*)?(?::param\\s+|@param\\s+(?:\\{[^}]*\\}\\s*)?)?\`?${escapeRegExp(p)}\`?\\s*(?:\\([^)]*\\))?\\s*[:\u2013\u2014-]`,
  );
  return topic
    .split('\n')
    .filter((line) => !doc.test(line))
    .join('\n');
}

/**
 * Findings for parameters that ask for more than the tool needs. `topic` is the tool's name, title and
 * description, folded and lower-cased; `maxDepth` limits which nested properties are considered.
 */
export function checkParameters(properties: SchemaProperty[], topic: string, maxDepth = 8): Finding[] {
  const findings: Finding[] = [];
  for (const prop of properties) {
    if (prop.depth > maxDepth) continue;
    const tokens = nameTokens(prop.name).map(singular);
    const set = new Set(tokens);
    const joined = tokens.join('');
    const described = prop.description === undefined ? '' : ` (${visible(prop.description, 100)})`;
    if (joined === 'token' || joined === 'tok') {
      if (prop.description !== undefined && PAGE_CURSOR.test(prop.description)) continue;
      findings.push({
        kind: 'out-of-scope-parameter',
        severity: 'low',
        rule: 'param-bare-token',
        message: `Parameter "${prop.name}" is an unexplained token; if it is a credential, it should come from server configuration, not from the model.`,
        evidence: `${prop.name}${described}`,
        location: prop.path,
      });
      continue;
    }
    const ownTopic = topicWithout(topic, prop.name.toLowerCase());
    for (const cat of CATEGORIES) {
      const base = cat.match(set, joined);
      if (base === null) continue;
      const severity = cat.topic.test(ownTopic) ? cat.inScope : base;
      if (severity === null) break;
      findings.push({
        kind: 'out-of-scope-parameter',
        severity,
        rule: `param-${cat.id}`,
        message: `Parameter "${prop.name}" asks the model for ${cat.label}, which this tool does not appear to need.`,
        evidence: `${prop.name}${described}`,
        location: prop.path,
      });
      break;
    }
  }
  return findings;
}
