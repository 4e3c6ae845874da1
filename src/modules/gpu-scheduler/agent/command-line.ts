/**
 * Splits a task's `command` into argv the way a POSIX shell would for the simple cases — words,
 * 'single' and "double" quotes, backslash escapes — so most commands run without a shell (no
 * injection surface, and the child is the process the agent signals). Returns null when the command
 * uses anything only a shell can do (pipes, redirections, `;`, `&&`, variables, globs, `~`,
 * `VAR=x cmd`, comments, subshells); the agent then refuses it (see command-policy.ts): no shell
 * ever interprets a task's command.
 */
export function splitCommand(command: string): string[] | null {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const s = command;
  const SHELL_ONLY = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}', '\n', '\r']);
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    if (!inWord && (c === '#' || c === '~')) return null;
    if (SHELL_ONLY.has(c)) return null;
    if (c === '\\') {
      if (i + 1 >= s.length || s[i + 1] === '\n') return null;
      word += s[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return null;
      word += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const d = s[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '$' || d === '`') return null; // expansions inside double quotes
        if (d === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) {
          word += s[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) return null;
      inWord = true;
      continue;
    }
    if (c === '=' && argv.length === 0 && inWord && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word)) return null; // VAR=x cmd
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) argv.push(word);
  return argv.length > 0 ? argv : null;
}
