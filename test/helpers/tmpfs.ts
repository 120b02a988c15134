// A small tmpfs for tests that need a disk that really fills up; false where mounting is not allowed.
import { execFileSync } from 'node:child_process';

export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir]);
}
