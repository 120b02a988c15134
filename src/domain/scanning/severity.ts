import cvss from 'ae-cvss-calculator';
import type { OsvAffected, OsvRecord } from './vulndb/osv.js';

export type FindingSeverity = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNDEFINED';
export const SEVERITIES: FindingSeverity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

export interface CvssScore {
  version: '2.0' | '3.0' | '3.1';
  vector: string;
  score: number;
}

/** A CVSS vector's base score, or undefined when the vector cannot be read. */
export function cvssScore(vector: string): CvssScore | undefined {
  try {
    if (vector.startsWith('CVSS:3.1/')) return finite({ version: '3.1', vector, score: new cvss.Cvss3P1(vector).calculateScores().base ?? NaN });
    if (vector.startsWith('CVSS:3.0/')) return finite({ version: '3.0', vector, score: new cvss.Cvss3P0(vector).calculateScores().base ?? NaN });
    if (/^(?:\(?)AV:[LAN]\/AC:/.test(vector)) return finite({ version: '2.0', vector, score: new cvss.Cvss2(vector.replace(/[()]/g, '')).calculateScores().base ?? NaN });
  } catch {
    // an unreadable vector is no score
  }
  return undefined;
}

function finite(s: CvssScore): CvssScore | undefined {
  return Number.isFinite(s.score) ? s : undefined;
}

/** CVSS v3 bands (0 None → INFORMATIONAL, then LOW, MEDIUM, HIGH, CRITICAL); v2 has no CRITICAL band. */
export function severityOfScore(score: CvssScore): FindingSeverity {
  const s = score.score;
  if (s === 0) return 'INFORMATIONAL';
  if (s < 4) return 'LOW';
  if (s < 7) return 'MEDIUM';
  if (score.version === '2.0' || s < 9) return 'HIGH';
  return 'CRITICAL';
}

/** A record's own severity word (GHSA's `MODERATE`, converted Debian urgencies) as ECR's. */
function severityOfWord(word: unknown): FindingSeverity | undefined {
  if (typeof word !== 'string') return undefined;
  const w = word.toUpperCase();
  if (w === 'MODERATE') return 'MEDIUM';
  if (w === 'NEGLIGIBLE' || w === 'UNIMPORTANT') return 'INFORMATIONAL';
  return (['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as string[]).includes(w) ? (w as FindingSeverity) : undefined;
}

export interface Rated {
  severity: FindingSeverity;
  cvss3?: CvssScore;
  cvss2?: CvssScore;
}

/**
 * The severity of a record for one affected entry: CVSS v3 (the record's, else the entry's), then
 * CVSS v2, then the record's own severity word; UNDEFINED when none is known.
 */
export function rate(record: OsvRecord, affected?: OsvAffected): Rated {
  const vectors = [...(record.severity ?? []), ...(affected?.severity ?? [])];
  const scores = vectors.map((v) => cvssScore(v.score)).filter((s): s is CvssScore => s !== undefined);
  const cvss3 = scores.find((s) => s.version !== '2.0');
  const cvss2 = scores.find((s) => s.version === '2.0');
  const best = cvss3 ?? cvss2;
  if (best) return { severity: severityOfScore(best), ...(cvss3 ? { cvss3 } : {}), ...(cvss2 ? { cvss2 } : {}) };
  const word = severityOfWord(record.database_specific?.severity) ?? severityOfWord(affected?.database_specific?.severity);
  return { severity: word ?? 'UNDEFINED' };
}
