import type { ChildProcessWithoutNullStreams, ChildProcess } from 'node:child_process';

/** A started demo process: its chat URL (on 127.0.0.1) and what it printed so far. */
export interface StartedDemo {
  url: string;
  output: () => string;
}

/**
 * Waits, bounded, for a spawned demo to log its chat endpoint; rejects with what it printed if it
 * exits or takes longer than `timeoutMs`.
 */
export function demoStarted(child: ChildProcess | ChildProcessWithoutNullStreams, timeoutMs: number): Promise<StartedDemo> {
  let output = '';
  return new Promise<StartedDemo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), timeoutMs);
    const read = (data: Buffer) => {
      output += data.toString();
      const match = /Chat endpoint: POST (\S+)\/chat/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1].replace('localhost', '127.0.0.1'), output: () => output });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code}:\n${output}`));
    });
  });
}
