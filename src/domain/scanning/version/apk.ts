/** apk-tools' version order (src/version.c): digits, a letter, `_suffix`es, `-rN`. */

enum T {
  Invalid = -1,
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
}

const PRE = ['alpha', 'beta', 'pre', 'rc'];
const POST = ['cvs', 'svn', 'git', 'hg', 'p'];
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isLower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';

class Cursor {
  constructor(
    public s: string,
    public type: T = T.Digit,
  ) {}

  private next(): void {
    const s = this.s;
    let n = T.Invalid;
    if (s.length === 0) n = T.End;
    else if ((this.type === T.Digit || this.type === T.DigitOrZero) && isLower(s[0])) n = T.Letter;
    else if (this.type === T.Letter && isDigit(s[0])) n = T.Digit;
    else if (this.type === T.Suffix && isDigit(s[0])) n = T.SuffixNo;
    else {
      if (s[0] === '.') n = T.DigitOrZero;
      else if (s[0] === '_') n = T.Suffix;
      else if (s[0] === '-' && s[1] === 'r') {
        n = T.RevisionNo;
        this.s = s.slice(1);
      }
      this.s = this.s.slice(1);
    }
    if (n < this.type) {
      const allowed = (n === T.DigitOrZero && this.type === T.Digit) || (n === T.Suffix && this.type === T.SuffixNo) || (n === T.Digit && this.type === T.Letter);
      if (!allowed) n = T.Invalid;
    }
    this.type = n;
  }

  /** The current token's value; moves to the next token. */
  token(): number {
    const s = this.s;
    if (s.length === 0) {
      this.type = T.End;
      return 0;
    }
    let v = 0;
    let i = 0;
    let nt = T.Invalid;
    switch (this.type) {
      case T.DigitOrZero:
        // A component after `.` with leading zeros is a fraction: its zeros weigh negatively (`1.01 < 1.1`).
        if (s[0] === '0') {
          while (s[i] === '0') i++;
          v = -i;
          // apk-tools 2 reads an empty digit token after the zeros; before a suffix, revision or
          // letter that token would make `1.0_rc1` newer than `1.0`, so those are read straight away.
          if (i >= s.length || isDigit(s[i]) || s[i] === '.') nt = T.Digit;
        } else {
          while (isDigit(s[i])) v = v * 10 + Number(s[i++]);
        }
        break;
      case T.Digit:
      case T.SuffixNo:
      case T.RevisionNo:
        while (isDigit(s[i])) v = v * 10 + Number(s[i++]);
        break;
      case T.Letter:
        v = s.charCodeAt(0);
        i = 1;
        break;
      case T.Suffix: {
        const pre = PRE.findIndex((p) => s.startsWith(p));
        if (pre >= 0) {
          i = PRE[pre]!.length;
          v = pre - PRE.length;
          break;
        }
        const post = POST.findIndex((p) => s.startsWith(p));
        if (post >= 0) {
          i = POST[post]!.length;
          v = post;
          break;
        }
        this.type = T.Invalid;
        return -1;
      }
      default:
        this.type = T.Invalid;
        return -1;
    }
    this.s = s.slice(i);
    if (this.s.length === 0) this.type = T.End;
    else if (nt !== T.Invalid) this.type = nt;
    else this.next();
    return v;
  }
}

export function isValidApkVersion(v: string): boolean {
  const c = new Cursor(v);
  if (!isDigit(v[0])) return false;
  while (c.type !== T.End && c.type !== T.Invalid) c.token();
  return c.type === T.End;
}

export function compareApk(a: string, b: string): number {
  const x = new Cursor(a);
  const y = new Cursor(b);
  let av = 0;
  let bv = 0;
  while (x.type === y.type && x.type !== T.End && x.type !== T.Invalid && av === bv) {
    av = x.token();
    bv = y.token();
  }
  if (av < bv) return -1;
  if (av > bv) return 1;
  if (x.type === y.type) return 0;
  if (x.type === T.Suffix && x.token() < 0) return -1;
  if (y.type === T.Suffix && y.token() < 0) return 1;
  if (x.type > y.type) return -1;
  if (y.type > x.type) return 1;
  return 0;
}
