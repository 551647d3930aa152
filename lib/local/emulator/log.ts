/** One JSON line on stderr, the format the runtime's other logs use, so failures are greppable and never crash the process. */
export const logLine = (level: 'ERROR' | 'WARN', fields: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ level, source: 'aws-emulator', timestamp: new Date().toISOString(), ...fields })}\n`);
};
