import type { Command } from 'commander';

/** `berth admin` commands for accounts, users and access keys. */
export function registerIdentityAdmin(_admin: Command): void {}
