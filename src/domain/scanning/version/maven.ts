/** Maven's ComparableVersion order: `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final < sp`. */

type Item = { kind: 'int'; value: bigint } | { kind: 'string'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };

function stringItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1) v = ({ a: 'alpha', b: 'beta', m: 'milestone' } as Record<string, string>)[v] ?? v;
  return { kind: 'string', value: ALIASES[v] ?? v };
}

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return item.value === 0n;
  if (item.kind === 'string') return comparableQualifier(item.value) === RELEASE_INDEX;
  return item.items.length === 0;
}

function parseItem(digits: boolean, text: string): Item {
  return digits ? { kind: 'int', value: BigInt(text) } : stringItem(text, false);
}

function normalize(list: Item & { kind: 'list' }): void {
  for (let i = list.items.length - 1; i >= 0; i--) {
    const last = list.items[i]!;
    if (isNull(last)) list.items.splice(i, 1);
    else if (last.kind !== 'list') break;
  }
}

export function parseMaven(version: string): Item {
  const v = version.toLowerCase();
  const root: Item & { kind: 'list' } = { kind: 'list', items: [] };
  let list = root;
  const stack = [root];
  let digits = false;
  let start = 0;
  const sub = () => {
    const next: Item & { kind: 'list' } = { kind: 'list', items: [] };
    list.items.push(next);
    list = next;
    stack.push(next);
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '.' || c === '-') {
      list.items.push(i === start ? { kind: 'int', value: 0n } : parseItem(digits, v.slice(start, i)));
      start = i + 1;
      if (c === '-') sub();
    } else if (c >= '0' && c <= '9') {
      if (!digits && i > start) {
        list.items.push(stringItem(v.slice(start, i), true));
        start = i;
        sub();
      }
      digits = true;
    } else {
      if (digits && i > start) {
        list.items.push(parseItem(true, v.slice(start, i)));
        start = i;
        sub();
      }
      digits = false;
    }
  }
  if (v.length > start) list.items.push(parseItem(digits, v.slice(start)));
  while (stack.length) normalize(stack.pop()!);
  return root;
}

function cmp<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareItems(a: Item, b: Item | undefined): number {
  switch (a.kind) {
    case 'int':
      if (!b) return a.value === 0n ? 0 : 1;
      return b.kind === 'int' ? cmp(a.value, b.value) : 1;
    case 'string':
      if (!b) return cmp(comparableQualifier(a.value), RELEASE_INDEX);
      if (b.kind === 'int' || b.kind === 'list') return -1;
      return cmp(comparableQualifier(a.value), comparableQualifier(b.value));
    case 'list':
      if (!b) return a.items.length === 0 ? 0 : compareItems(a.items[0]!, undefined);
      if (b.kind === 'int') return -1;
      if (b.kind === 'string') return 1;
      for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
        const l = a.items[i];
        const r = b.items[i];
        const result = l ? compareItems(l, r) : r ? -compareItems(r, undefined) : 0;
        if (result !== 0) return result;
      }
      return 0;
  }
}

export function compareMaven(a: string, b: string): number {
  return compareItems(parseMaven(a), parseMaven(b));
}
