import type { Command } from 'commander';

/** `berth admin` commands for lifecycle runs and garbage collection. */
export function registerMaintenanceAdmin(_admin: Command): void {}
