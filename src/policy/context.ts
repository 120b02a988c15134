/** The request context: condition keys and their values, looked up case-insensitively. */

export type ContextValue = string | string[] | boolean | number;
export type RawContext = Record<string, string | string[] | boolean | number | undefined>;

export class RequestContext {
  private readonly values = new Map<string, ContextValue>();

  constructor(entries: RawContext = {}) {
    for (const [key, value] of Object.entries(entries)) this.set(key, value);
  }

  set(key: string, value: ContextValue | undefined): void {
    if (value === undefined) this.values.delete(key.toLowerCase());
    else this.values.set(key.toLowerCase(), value);
  }

  get(key: string): ContextValue | undefined {
    return this.values.get(key.toLowerCase());
  }

  /** The key's values as a list of strings; `undefined` when the key is absent. */
  getAll(key: string): string[] | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : [String(value)];
  }

  /** A single-valued key as a string (what a policy variable can stand for). */
  getSingle(key: string): string | undefined {
    const value = this.get(key);
    if (value === undefined || Array.isArray(value)) return undefined;
    return String(value);
  }
}
