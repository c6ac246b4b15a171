import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Metrics, ProfileName } from './scenario.js';
import type { TurnMessage, TurnRotation } from './turns.js';

const RUNNER = fileURLToPath(new URL('./run-subject.ts', import.meta.url));
// Resolved here rather than by the child, so the child finds tsx whatever directory it starts in.
const TSX = import.meta.resolve('tsx');

/**
 * Measures one subject in a fresh Node process and resolves to its metrics. A fresh process per subject means
 * no subject runs on a heap, JIT feedback or GC state left by another, and each loop is optimised for the
 * one library it calls. Callers run these one at a time (except in a smoke run, whose figures mean nothing):
 * two at once would share the machine's cores. `env` adds to this process's environment. With `rotation`, the
 * child runs beside the pass's other children and works only in the turns the rotation gives it (see turns.ts).
 */
export function runInChild(
  scenario: string,
  subject: string,
  profile: ProfileName,
  env: Readonly<Record<string, string>> = {},
  rotation?: TurnRotation,
): Promise<Metrics> {
  const args = [
    '--import',
    TSX,
    '--conditions=@tiercache/source',
    '--expose-gc',
    RUNNER,
    scenario,
    subject,
    profile,
    ...(rotation ? ['interleaved'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: rotation ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    if (rotation) {
      child.on('message', (message: TurnMessage) => {
        if (message.turn === 'want') {
          void rotation.request(subject).then(() => {
            if (child.connected) child.send({ turn: 'go' } satisfies TurnMessage);
          });
        } else if (message.turn === 'done') {
          rotation.release(subject);
        }
      });
    }
    let stdout = '';
    // Always a pipe (stdio above); typed as possibly absent because the stdio array is chosen at run time.
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      rotation?.leave(subject);
      if (code !== 0) {
        reject(new Error(`${scenario} / ${subject}: child exited with ${signal ?? `code ${code}`}`));
        return;
      }
      try {
        resolve(parseMetrics(stdout));
      } catch (error) {
        reject(new Error(`${scenario} / ${subject}: ${(error as Error).message}`));
      }
    });
  });
}

/** The last line of the child's output: a library may print before it, never after. */
function parseMetrics(stdout: string): Metrics {
  const line = stdout.trimEnd().split('\n').at(-1) ?? '';
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`expected a JSON object, got ${line}`);
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`metric ${name} is not a finite number: ${JSON.stringify(value)}`);
    }
  }
  return parsed as Metrics;
}
