/**
 * The demo's one way to make days pass: when it owns its runtime (in this
 * process), it shifts this process's `Date` forward by a fixed offset, so the
 * runtime (which reads time only through `new Date()` and `Date.now()`) sees
 * the switch window end and a lot ship after the promised date, without
 * anyone waiting. Timers, `performance.now()` and the event loop are left
 * alone: only the calendar moves.
 *
 * Only forward: the local gateway's throttle refills from the time since its
 * last request, queues hide messages until a time, and a clock going back
 * would starve the one and hold the other. `restore()` puts the real clock
 * back, and belongs after the runtime that saw the moved clock has stopped.
 *
 * A runtime in another process keeps its own clock: there is no such clock
 * for it, and the demo says so rather than pretend.
 */
export interface DemoClock {
  /** Moves the calendar forward to `at` (epoch ms); a time not ahead of now is refused. */
  advanceTo(at: number): void;
  /** How far the calendar is ahead of the real one, in ms (0 until moved). */
  readonly offsetMs: number;
  /** The real clock again, for the whole process. */
  restore(): void;
}

const RealDate = Date;

export const shiftableClock = (): DemoClock => {
  let offset = 0;
  let installed = false;
  const now = () => RealDate.now() + offset;
  const shifted = new Proxy(RealDate, {
    construct: (target, args, newTarget) => (args.length === 0 ? new target(now()) : Reflect.construct(target, args, newTarget)),
    // `Date()` called as a function is a string of the current time.
    apply: () => new RealDate(now()).toString(),
    get: (target, prop, receiver) => (prop === 'now' ? now : Reflect.get(target, prop, receiver)),
  });
  return {
    advanceTo(at) {
      const by = at - now();
      if (!(by > 0)) throw new Error(`the demo's clock only moves forward (asked to go to ${new RealDate(at).toISOString()}, it is ${new RealDate(now()).toISOString()})`);
      offset += by;
      if (!installed) {
        globalThis.Date = shifted;
        installed = true;
      }
    },
    get offsetMs() {
      return offset;
    },
    restore() {
      if (installed) globalThis.Date = RealDate;
      installed = false;
      offset = 0;
    },
  };
};
