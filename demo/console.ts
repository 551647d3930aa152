/**
 * The in-process runtime's local notification channel prints one "🔔 …" line
 * per buyer message on stdout: thousands in a flash sale, which would bury the
 * progress bars. While the demo runs, those lines are counted instead of shown,
 * and anything else the runtime prints (an error log line, say) is handed to
 * `other`, which prints it above the bars.
 */
export interface StdoutCapture {
  /** Buyer notification lines printed by the channel (at least once per message: a redelivery prints again). */
  readonly notificationLines: () => number;
  restore(): void;
}

/** The count of the latest capture in this process, kept after it is restored (the checks read it after the sale). */
let latestCount: (() => number) | undefined;

/**
 * Buyer notification lines the local channel printed in this process since the
 * latest capture began; undefined when nothing captured them (a runtime in
 * another process prints to its own terminal).
 */
export const printedNotificationLines = (): number | undefined => latestCount?.();

export const captureStdout = (other: (line: string) => void = () => undefined): StdoutCapture => {
  const write = process.stdout.write.bind(process.stdout);
  let lines = 0;
  latestCount = () => lines;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const l of text.split('\n')) {
      if (l.startsWith('🔔')) lines++;
      else if (l.trim()) other(l);
    }
    // Honour a callback argument, as the real write would.
    const cb = rest.find((r): r is () => void => typeof r === 'function');
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  return {
    notificationLines: () => lines,
    restore: () => {
      process.stdout.write = write;
    },
  };
};
