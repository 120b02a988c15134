/** IPv4 / IPv6 addresses and CIDR blocks, for the IpAddress / NotIpAddress operators. */

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface CidrBlock extends IpAddress {
  prefix: number;
}

export function parseIPv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

export function parseIPv6(text: string): bigint | null {
  let body = text;
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && body.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === null) return null;
    body = body.slice(0, lastColon + 1) + ((v4 >> 16n) & 0xffffn).toString(16) + ':' + (v4 & 0xffffn).toString(16);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string): string[] | null => (s === '' ? [] : s.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parse a request address; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4. */
export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim();
  const v4 = parseIPv4(trimmed);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIPv6(trimmed);
  if (v6 === null) return null;
  if (v6 >> 32n === V4_MAPPED_PREFIX >> 32n) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** Parse `a.b.c.d/n`, `x::y/n`, or a bare address (a single-host block). */
export function parseCidr(text: string): CidrBlock | null {
  const [addressText, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || addressText === undefined) return null;
  const v4 = parseIPv4(addressText);
  const family: 4 | 6 = v4 !== null ? 4 : 6;
  const value = v4 ?? parseIPv6(addressText);
  if (value === null) return null;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  return { family, value, prefix };
}

export function cidrContains(block: CidrBlock, address: IpAddress): boolean {
  if (block.family !== address.family) return false;
  const bits = BigInt(block.family === 4 ? 32 : 128);
  const shift = bits - BigInt(block.prefix);
  return block.value >> shift === address.value >> shift;
}
