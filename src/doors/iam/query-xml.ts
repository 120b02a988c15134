/** Rendering of AWS query-protocol (IAM, STS) XML responses. */

export type XmlValue = string | number | boolean | Date | undefined | XmlValue[] | { [key: string]: XmlValue };

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Timestamps as IAM writes them: ISO 8601 in UTC, whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Objects become elements in key order; lists become `<member>` children; undefined is omitted. */
export function renderXml(value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<member>${renderXml(v)}</member>`).join('');
  if (value instanceof Date) return isoSeconds(value.getTime());
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${renderXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

export function responseXml(action: string, xmlns: string, result: { [key: string]: XmlValue } | undefined, requestId: string): string {
  const body = result === undefined ? '' : `<${action}Result>${renderXml(result)}</${action}Result>`;
  return `<${action}Response xmlns="${xmlns}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function errorXml(xmlns: string, code: string, message: string, requestId: string, type: 'Sender' | 'Receiver' = 'Sender'): string {
  return `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
