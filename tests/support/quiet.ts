/**
 * The local notification channel prints a line per buyer message ("🔔 …"); a test
 * that makes hundreds would bury its report. Returns the function that restores stdout.
 */
export const silenceBuyerNotifications = (seen?: (line: string) => void): (() => void) => {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.includes('🔔')) {
      seen?.(chunk);
      return true;
    }
    return write(chunk as never, ...(rest as []));
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
};
