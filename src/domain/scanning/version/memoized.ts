/**
 * `parse` remembering its last few thousand answers. Matching compares the same versions (an
 * advisory's events, the image's packages) over and over, and parsing them was most of the cost.
 */
export function memoized<T>(parse: (v: string) => T, max = 20_000): (v: string) => T {
  const seen = new Map<string, T>();
  return (v) => {
    const held = seen.get(v);
    if (held !== undefined || seen.has(v)) return held as T;
    if (seen.size >= max) seen.clear();
    const parsed = parse(v);
    seen.set(v, parsed);
    return parsed;
  };
}
