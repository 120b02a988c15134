// One line describing the machine the numbers came from.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineLine(): string {
  let cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  try {
    const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (model) cpu = model[1]!.trim();
  } catch {
    /* not Linux */
  }
  const ramGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpu}, ${os.availableParallelism()} cores, ${ramGiB} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}`;
}
