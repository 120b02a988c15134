import { parsePolicyDocument, type PolicyDocument, type PolicyKind } from './index.js';

/** Parsed policy documents by their text; stored texts were validated when written. */
export class PolicyCache {
  private readonly parsed = new Map<string, PolicyDocument | null>();

  constructor(private readonly maxEntries = 2000) {}

  /** The parsed document, or undefined if the text does not parse (it then grants nothing). */
  get(text: string, kind: PolicyKind): PolicyDocument | undefined {
    const key = `${kind}\u0000${text}`;
    let doc = this.parsed.get(key);
    if (doc === undefined) {
      try {
        doc = parsePolicyDocument(text, kind);
      } catch {
        doc = null;
      }
      if (this.parsed.size >= this.maxEntries) this.parsed.clear();
      this.parsed.set(key, doc);
    }
    return doc ?? undefined;
  }
}
