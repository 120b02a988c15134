import type { Command } from 'commander';
import { registerAuditAdmin } from './audit.js';
import { registerIdentityAdmin } from './identity.js';
import { registerJobsAdmin } from './jobs.js';
import { registerMaintenanceAdmin } from './maintenance.js';
import { registerTlsAdmin } from './tls.js';
import { registerUsageAdmin } from './usage.js';
import { registerVulnDbAdmin } from './vulndb.js';

/** `berth admin …`: operator tasks that work on the data dir directly. */
export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('operator tasks on a data dir');
  registerIdentityAdmin(admin);
  registerMaintenanceAdmin(admin);
  registerJobsAdmin(admin);
  registerTlsAdmin(admin);
  registerVulnDbAdmin(admin);
  registerAuditAdmin(admin);
  registerUsageAdmin(admin);
}
