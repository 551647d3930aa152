import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time, so a run can say where its cycles went: the Node process (gateway,
 * handlers, emulator; the load clients run in a process of their own) apart
 * from DynamoDB Local (Java, under its shell watchdog). Linux /proc; elsewhere
 * DynamoDB Local's figure is unknown.
 */

/** CPU seconds of this process, user + system. */
export const nodeCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Clock ticks per second of /proc/<pid>/stat's utime and stime: 100 on every Linux the bench meets (USER_HZ). */
const ticksPerSecond = 100;

/** CPU seconds used so far by `rootPid` and every process under it; undefined without /proc. */
export const treeCpuSeconds = (rootPid: number | undefined): number | undefined => {
  if (rootPid === undefined) return undefined;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const procs: { pid: number; ppid: number; ticks: number }[] = [];
  for (const pid of entries) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the command name in parentheses: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(pid), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  if (!procs.some((p) => p.pid === rootPid)) return undefined;
  return procs.filter((p) => tree.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) / ticksPerSecond;
};
