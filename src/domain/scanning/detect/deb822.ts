/**
 * Stanzas of `Key: value` lines separated by blank lines, continuation lines starting with a space
 * or tab (dpkg's status file). Keys keep their case; the first occurrence of a key wins.
 */
export function parseStanzas(text: string, separator = ':'): Array<Map<string, string>> {
  const stanzas: Array<Map<string, string>> = [];
  let current = new Map<string, string>();
  let lastKey: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      lastKey = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && lastKey) {
      current.set(lastKey, `${current.get(lastKey)}\n${line.trim()}`);
      continue;
    }
    const at = line.indexOf(separator);
    if (at <= 0) continue;
    const key = line.slice(0, at);
    lastKey = key;
    if (!current.has(key)) current.set(key, line.slice(at + separator.length).trim());
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}
