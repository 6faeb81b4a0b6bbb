import type { Clock } from '../../server/calendar/charity-calendar';

/** A clock that stands still at an instant until a test moves it. */
export function fixedClock(iso: string): Clock & { set(iso: string): void; advance(ms: number): void } {
  let at = new Date(iso).getTime();
  return {
    now: () => new Date(at),
    set: (next) => void (at = new Date(next).getTime()),
    advance: (ms) => void (at += ms),
  };
}
