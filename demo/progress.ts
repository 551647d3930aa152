import { performance } from 'node:perf_hooks';

/**
 * Progress bars without a dependency. On a terminal the live bars are redrawn
 * in place (plain ANSI: cursor up, clear line) and finished ones stay above
 * them; anywhere else (CI logs, a pipe) each bar prints a line when it starts,
 * at each quarter and when it ends, so a log reads as a short story instead of
 * thousands of carriage returns.
 */
export interface Bar {
  /** Moves the bar forward by n (default 1). */
  tick(n?: number): void;
  /** Sets the value outright (for things counted elsewhere, like polled states). */
  set(value: number): void;
  setTotal(total: number): void;
  /** Free text after the numbers: what else is going on in this phase. */
  info(text: string): void;
  /** Ends the bar; it is printed once more, finished, with the time it took. */
  done(info?: string): void;
}

export interface Progress {
  bar(label: string, total: number, unit: string): Bar;
  /** A line above the bars (a runtime's stray output, a warning). */
  log(line: string): void;
  /** Ends drawing; on a terminal the cursor comes back. Safe to call twice. */
  close(): void;
}

interface State {
  label: string;
  unit: string;
  total: number;
  value: number;
  info: string;
  started: number;
  ended?: number;
  /** Quarters already printed (non-terminal mode). */
  quarter: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmt = (n: number) => n.toLocaleString('en-US');

const line = (s: State, width: number, tty: boolean, cut = tty): string => {
  const ratio = s.total > 0 ? Math.min(1, s.value / s.total) : s.ended ? 1 : 0;
  const slots = 24;
  const filled = Math.round(ratio * slots);
  const bar = tty ? `[${'█'.repeat(filled)}${'░'.repeat(slots - filled)}]` : '';
  const mark = s.ended ? '✓' : ' ';
  const numbers = `${fmt(s.value)}/${fmt(s.total)} ${s.unit}`;
  const pct = `${Math.round(ratio * 100)}%`.padStart(4);
  const time = seconds((s.ended ?? performance.now()) - s.started);
  const text = [`${mark} ${s.label.padEnd(12)}`, bar, numbers, pct, time, s.info].filter(Boolean).join('  ');
  // A live line that wrapped would throw the cursor arithmetic off: cut to the terminal's width.
  // Finished lines are never redrawn, so they keep all their text.
  return cut ? [...text].slice(0, Math.max(20, width - 1)).join('') : text;
};

export const createProgress = (stream: NodeJS.WriteStream, tty = stream.isTTY === true): Progress => {
  const active: State[] = [];
  let drawn = 0;
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const draw = () => {
    if (!tty || closed) return;
    let out = drawn > 0 ? `\r\x1b[${drawn}A` : '\r';
    for (const l of pending) out += `\x1b[2K${l}\n`;
    pending = [];
    const width = stream.columns || 100;
    for (const s of active) out += `\x1b[2K${line(s, width, true)}\n`;
    out += '\x1b[0J';
    drawn = active.length;
    stream.write(out);
  };
  const schedule = () => {
    if (!tty || timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      draw();
    }, 80);
    timer.unref();
  };
  const print = (l: string) => {
    if (closed) return;
    if (tty) {
      pending.push(l);
      draw();
    } else stream.write(`${l}\n`);
  };
  let hidden = false;

  return {
    bar(label, total, unit) {
      const s: State = { label, unit, total, value: 0, info: '', started: performance.now(), quarter: 0 };
      active.push(s);
      // The cursor is hidden while bars redraw (it would flicker over them), and only then.
      if (tty && !hidden && !closed) {
        hidden = true;
        stream.write('\x1b[?25l');
      }
      if (tty) draw();
      else stream.write(`  ${label.padEnd(12)} started: ${fmt(total)} ${unit}\n`);
      const changed = () => {
        if (s.ended) return;
        if (tty) return schedule();
        const q = s.total > 0 ? Math.floor((Math.min(s.value, s.total) / s.total) * 4) : 0;
        if (q > s.quarter && q < 4) {
          s.quarter = q;
          stream.write(`${line(s, 0, false)}\n`);
        }
      };
      return {
        tick: (n = 1) => {
          s.value += n;
          changed();
        },
        set: (value) => {
          s.value = value;
          changed();
        },
        setTotal: (t) => {
          s.total = t;
          changed();
        },
        info: (text) => {
          s.info = text;
          changed();
        },
        done: (info) => {
          if (s.ended) return;
          if (info !== undefined) s.info = info;
          s.ended = performance.now();
          active.splice(active.indexOf(s), 1);
          print(line(s, 0, tty, false));
        },
      };
    },
    log: (l) => print(l),
    close() {
      if (closed) return;
      if (timer) clearTimeout(timer);
      draw();
      closed = true;
      if (hidden) stream.write('\x1b[?25h');
    },
  };
};

/** For tests and library use: counts nothing, prints nothing. */
export const silentProgress: Progress = {
  bar: () => ({ tick: () => undefined, set: () => undefined, setTotal: () => undefined, info: () => undefined, done: () => undefined }),
  log: () => undefined,
  close: () => undefined,
};
