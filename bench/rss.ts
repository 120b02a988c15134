// Peak resident memory of a process tree, sampled from /proc.
import { readFileSync, readdirSync } from 'node:fs';

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process is gone
  }
}

/** The pid and all its descendants (threads' children included). */
export function processTree(root: number): number[] {
  const seen = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(/\s+/).filter(Boolean).map(Number)) {
        if (!seen.has(child)) {
          seen.add(child);
          queue.push(child);
        }
      }
    }
  }
  return [...seen];
}

export class RssSampler {
  private peakTreeKiB = 0;
  private peakRootHwmKiB = 0;
  private maxProcesses = 1;
  private window: { startKiB: number; peakKiB: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number, private readonly intervalMs = 100) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  sample(): number {
    const tree = processTree(this.pid);
    const total = tree.reduce((sum, pid) => sum + statusKiB(pid, 'VmRSS'), 0);
    this.peakTreeKiB = Math.max(this.peakTreeKiB, total);
    this.peakRootHwmKiB = Math.max(this.peakRootHwmKiB, statusKiB(this.pid, 'VmHWM'));
    this.maxProcesses = Math.max(this.maxProcesses, tree.length);
    if (this.window) this.window.peakKiB = Math.max(this.window.peakKiB, total);
    return total;
  }

  /** Starts watching how far RSS rises above its current value (e.g. over one large push). */
  beginWindow(): void {
    const now = this.sample();
    this.window = { startKiB: now, peakKiB: now };
  }

  /** MiB the RSS rose above its value at `beginWindow`, at its peak since. */
  endWindow(): number {
    this.sample();
    const w = this.window;
    this.window = undefined;
    return w ? Math.max(0, w.peakKiB - w.startKiB) / 1024 : 0;
  }

  /** Stop sampling (take one last sample first; call before the process exits). */
  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Peak RSS in MiB: the root's kernel-tracked high-water mark, or the sampled sum over the
   * process tree if that is larger (only possible when the server forks workers).
   */
  peakMiB(): number {
    return Math.max(this.peakTreeKiB, this.peakRootHwmKiB) / 1024;
  }

  processes(): number {
    return this.maxProcesses;
  }
}
