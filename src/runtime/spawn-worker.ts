import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `name` beside the module at `here` (its import.meta.url): its
 * .js when built; its .ts when run from source, where the worker must first load tsx (workers do not
 * inherit the `--import` hooks on this Node).
 */
export function spawnBeside(here: string, name: string, options: Pick<WorkerOptions, 'workerData'> = {}): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options);
  const entry = new URL(`./${name}.ts`, here).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, { ...options, eval: true });
}
