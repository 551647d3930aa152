import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ZodType } from 'zod';

/** Below this the journal is never rewritten while running; startup always compacts. */
const minCompactBytes = 32 * 1024 * 1024;

/**
 * An append-only JSON-lines file. Every append is a synchronous write on an
 * O_APPEND descriptor, so once a call returns the bytes are in the kernel's
 * page cache and survive `kill -9` of this process (not a power cut: no fsync
 * per write, which would cap a burst at a few hundred sends per second).
 */
export class Journal<R> {
  private fd: number;
  private bytes = 0;
  private compactAt = minCompactBytes;

  private constructor(
    private readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Reads what an earlier process left. Lines that do not parse are skipped and
   * counted: a `kill -9` in the middle of a write leaves a torn last line.
   */
  static open<R>(path: string, schema: ZodType<R>): { journal: Journal<R>; records: R[]; skipped: number } {
    mkdirSync(dirname(path), { recursive: true });
    const records: R[] = [];
    let skipped = 0;
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          skipped++;
          continue;
        }
        const parsed = schema.safeParse(raw);
        if (parsed.success) records.push(parsed.data);
        else skipped++;
      }
    }
    const journal = new Journal<R>(path, openSync(path, 'a'));
    return { journal, records, skipped };
  }

  append(records: readonly R[]): void {
    if (records.length === 0) return;
    let text = '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    this.bytes += writeSync(this.fd, text);
  }

  /** True when enough has been appended since the last rewrite that rewriting pays off. */
  get wantsCompaction(): boolean {
    return this.bytes >= this.compactAt;
  }

  /**
   * Replaces the file with `records` (the live state). Written to a temporary
   * file, flushed and renamed, so a crash leaves either the old or the new file.
   */
  compact(records: Iterable<R>): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    let size = 0;
    try {
      let chunk = '';
      for (const r of records) {
        chunk += `${JSON.stringify(r)}\n`;
        if (chunk.length > 1 << 20) {
          size += writeSync(fd, chunk);
          chunk = '';
        }
      }
      if (chunk) size += writeSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    closeSync(this.fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
    this.bytes = 0;
    this.compactAt = Math.max(minCompactBytes, size * 4);
  }

  close(): void {
    closeSync(this.fd);
  }
}
