import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import type { BerthConfig } from '../../config.js';
import { openRegionDomains, type Domain } from '../../wiring.js';

/** Which regions an admin command works on: the one named with `--region`, else every region or the home one. */
export interface RegionChoice {
  region?: string;
  /** Without `--region`: every region served (true) or the home region (false). */
  every: boolean;
}

/**
 * Runs `fn` with the domains of the regions chosen, each named by its region, and closes them all.
 * A region the deployment does not serve (BERTH_REGIONS) is refused before anything is opened.
 */
export async function withRegionDomains<T>(config: BerthConfig, choice: RegionChoice, fn: (domains: Array<[string, Domain]>) => Promise<T>, log?: Logger): Promise<T> {
  const served = config.regions.map((r) => r.name);
  if (choice.region !== undefined && !served.includes(choice.region)) {
    throw new InvalidArgumentError(`this deployment does not serve region ${choice.region}; it serves ${served.join(', ')} (BERTH_REGIONS)`);
  }
  const domains = await openRegionDomains(config, log);
  try {
    const chosen = [...domains].filter(([region]) => (choice.region !== undefined ? region === choice.region : choice.every || region === config.region));
    return await fn(chosen);
  } finally {
    await Promise.all([...domains.values()].map((d) => d.close().catch(() => undefined)));
  }
}
