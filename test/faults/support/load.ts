/**
 * A bounded load: `workers` loops sending requests made by `next` until stop() is called (or
 * `maxMs` passes), recording when each request started and ended and how it was answered.
 */
export type Outcome = { startedAt: number; endedAt: number; status: number; body: string; label: string };

export type RequestSpec = { label: string; url: string; init?: RequestInit };

export type Load = { stop(): Promise<Outcome[]>; outcomes: Outcome[] };

export function startLoad(options: { workers: number; next: (n: number) => RequestSpec; maxMs: number; timeoutMs?: number }): Load {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const deadline = Date.now() + options.maxMs;
  let n = 0;
  const worker = async () => {
    while (!stopped && Date.now() < deadline) {
      const spec = options.next(n++);
      const startedAt = Date.now();
      let status = 0;
      let body = '';
      try {
        const res = await fetch(spec.url, { ...spec.init, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
        status = res.status;
        body = await res.text();
      } catch (error) {
        body = (error as Error).message;
      }
      outcomes.push({ startedAt, endedAt: Date.now(), status, body, label: spec.label });
    }
  };
  const running = Promise.all(Array.from({ length: options.workers }, worker));
  return {
    outcomes,
    async stop() {
      stopped = true;
      await running;
      return outcomes;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function countBy<T>(items: T[], key: (item: T) => string | number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[String(key(item))] = (counts[String(key(item))] ?? 0) + 1;
  return counts;
}
