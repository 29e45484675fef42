/**
 * Globs over argument values and names, compiled once to anchored regular expressions.
 *
 * In a path glob (`segmented`), `*` matches a run of characters other than `/`, `**` matches any run
 * (and `**` followed by `/` also matches no directory at all), `?` one character other than `/`.
 * In a name glob (tools, agents), `*` and `**` match any run and `?` any one character.
 * A backslash makes the next character literal. Nothing else is special.
 */
export function compileGlob(pattern: string, options: { segmented: boolean; ignoreCase?: boolean }): RegExp {
  let out = '';
  const any = options.segmented ? '[^/]' : '[\\s\\S]';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      out += escapeRegex(pattern[++i] as string);
    } else if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (options.segmented && pattern[i + 1] === '/') {
          i++;
          out += '(?:[\\s\\S]*/)?';
        } else {
          out += '[\\s\\S]*';
        }
      } else {
        out += `${any}*`;
      }
    } else if (c === '?') {
      out += any;
    } else {
      out += escapeRegex(c);
    }
  }
  return new RegExp(`^(?:${out})$`, options.ignoreCase ? 'iu' : 'u');
}

/** True when a plain string value in config should be read as a glob (it contains an unescaped `*`). */
export function looksLikeGlob(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '*') return true;
  }
  return false;
}

/** A name glob (tool or agent names), or equality when the text has no `*` or `?`. */
export function nameMatcher(pattern: string): (name: string) => boolean {
  if (!/[*?\\]/.test(pattern)) return (name) => name === pattern;
  const re = compileGlob(pattern, { segmented: false });
  return (name) => re.test(name);
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
