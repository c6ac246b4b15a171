import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// What is still alive or on disk: a test run that ends early (a failed assertion before `stop()`, an uncaught
// error, `process.exit`, or vitest ending its worker) must not leave redis-server processes running behind it.
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

// vitest ends each forks-pool worker with SIGTERM, and Node emits no 'exit' event when a signal ends the
// process, so the signals that end a test run are watched as well — but only while there is something to clean.
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
let exitHandlerInstalled = false;
let signalHandlersInstalled = false;

/** Registers a started redis-server so that it is SIGKILLed if this process ends first. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => {
    children.delete(child);
    updateHandlers();
  });
  updateHandlers();
}

/** Registers a temporary directory to remove if this process ends before the server is stopped. */
export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
  updateHandlers();
}

export function untrackTempDir(dir: string): void {
  tempDirs.delete(dir);
  updateHandlers();
}

function updateHandlers(): void {
  const needed = children.size > 0 || tempDirs.size > 0;
  if (needed && !exitHandlerInstalled) {
    // Kept once installed: an 'exit' listener changes nothing about how the process ends.
    process.on('exit', cleanUp);
    exitHandlerInstalled = true;
  }
  if (needed && !signalHandlersInstalled) {
    for (const signal of ENDING_SIGNALS) process.on(signal, onEndingSignal);
    signalHandlersInstalled = true;
  } else if (!needed && signalHandlersInstalled) {
    for (const signal of ENDING_SIGNALS) process.off(signal, onEndingSignal);
    signalHandlersInstalled = false;
  }
}

function onEndingSignal(signal: NodeJS.Signals): void {
  cleanUp();
  for (const each of ENDING_SIGNALS) process.off(each, onEndingSignal);
  signalHandlersInstalled = false;
  // Listening to a signal cancels its default action. When no one else listens, end the process as the signal
  // would have; otherwise whoever listens has decided what happens next.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Synchronous, as an 'exit' listener must be: signals and rmSync are. */
function cleanUp(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  children.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A process killed a moment ago may still be writing into it; a stray temp dir is harmless.
    }
  }
  tempDirs.clear();
}
