import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { readSettings } from '../registry/settings.js';
import { ScanError } from './errors.js';

export type ScanType = 'BASIC' | 'ENHANCED';
export type ScanFrequency = 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';

export interface RepositoryFilter {
  filter: string;
  filterType: 'WILDCARD';
}

export interface ScanningRule {
  scanFrequency: ScanFrequency;
  repositoryFilters: RepositoryFilter[];
}

export interface RegistryScanningConfiguration {
  scanType: ScanType;
  rules: ScanningRule[];
}

/** A repository's scanning as ECR's BatchGetRepositoryScanningConfiguration reports it. */
export interface EffectiveScanning {
  scanOnPush: boolean;
  scanFrequency: ScanFrequency;
  appliedScanFilters: RepositoryFilter[];
}

export const DEFAULT_CONFIGURATION: RegistryScanningConfiguration = { scanType: 'BASIC', rules: [] };

/** What each scan type lets rules ask for (ECR: basic scans on push or manually, enhanced on push or continuously). */
const FREQUENCIES: Record<ScanType, ScanFrequency[]> = { BASIC: ['SCAN_ON_PUSH', 'MANUAL'], ENHANCED: ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN'] };

const key = (registryId: string) => `account:${registryId}:registryScanningConfiguration`;

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

function matching(rule: ScanningRule | undefined, name: string): RepositoryFilter[] {
  return rule ? rule.repositoryFilters.filter((f) => wildcard(f.filter).test(name)) : [];
}

/** Refuses rules the scan type cannot honour, and a frequency given twice. */
export function checkConfiguration(config: RegistryScanningConfiguration): void {
  const seen = new Set<ScanFrequency>();
  for (const rule of config.rules) {
    if (!FREQUENCIES[config.scanType].includes(rule.scanFrequency)) {
      throw new ScanError('Validation', `Scan frequency ${rule.scanFrequency} is not supported for scan type ${config.scanType}. Supported: ${FREQUENCIES[config.scanType].join(', ')}.`);
    }
    if (seen.has(rule.scanFrequency)) throw new ScanError('Validation', `Only one rule per scan frequency is allowed; ${rule.scanFrequency} was given twice.`);
    seen.add(rule.scanFrequency);
  }
}

/**
 * The effective scanning of a repository: a CONTINUOUS_SCAN rule wins over SCAN_ON_PUSH (and scans
 * on push too); the repository's own `scanOnPush` setting scans on push as well; otherwise MANUAL.
 */
export function effectiveScanning(config: RegistryScanningConfiguration, repositoryName: string, repoScanOnPush: boolean): EffectiveScanning {
  const continuous = matching(config.rules.find((r) => r.scanFrequency === 'CONTINUOUS_SCAN'), repositoryName);
  if (continuous.length > 0) return { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN', appliedScanFilters: continuous };
  const onPush = matching(config.rules.find((r) => r.scanFrequency === 'SCAN_ON_PUSH'), repositoryName);
  if (onPush.length > 0) return { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: onPush };
  if (repoScanOnPush) return { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: [] };
  return { scanOnPush: false, scanFrequency: 'MANUAL', appliedScanFilters: [] };
}

/** The registry scanning configuration, stored per account (registry). */
export async function readConfiguration(meta: MetadataStore, registryId: string): Promise<RegistryScanningConfiguration> {
  const text = await meta.getSetting(key(registryId));
  return text ? (JSON.parse(text) as RegistryScanningConfiguration) : DEFAULT_CONFIGURATION;
}

export async function writeConfiguration(meta: MetadataStore, registryId: string, config: RegistryScanningConfiguration): Promise<void> {
  checkConfiguration(config);
  await meta.setSetting(key(registryId), JSON.stringify(config));
}

/** The effective scanning of a stored repository row (its settings as stored). */
export function repositoryScanOnPush(settings: Record<string, unknown>): boolean {
  return readSettings(settings).imageScanningConfiguration.scanOnPush;
}
