// "closes in 1 h 29 min 58 s": computed from the `remaining_seconds` the
// server answered and the browser's monotonic clock since that answer, all
// updated by one timer every second.
import { setText } from "./dom.js";

/** "1 h 29 min 58 s", "1 h 0 min 5 s", "29 min 58 s", "58 s". */
export function formatRemaining(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${m} min ${rest} s`;
  if (m > 0) return `${m} min ${rest} s`;
  return `${rest} s`;
}

interface Entry {
  remaining: number;
  since: number;
  onZero?: () => void;
  fired: boolean;
}

const entries = new Map<HTMLElement, Entry>();
let timer: number | undefined;

function left(e: Entry, now: number): number {
  return Math.max(0, e.remaining - Math.floor((now - e.since) / 1000));
}

function show(node: HTMLElement, e: Entry, now: number): void {
  const s = left(e, now);
  setText(node, `closes in ${formatRemaining(s)}`);
  if (s === 0 && !e.fired) {
    e.fired = true;
    e.onZero?.();
  }
}

function tick(): void {
  const now = performance.now();
  for (const [node, e] of entries) {
    if (!node.isConnected) {
      entries.delete(node);
      continue;
    }
    show(node, e, now);
  }
  if (entries.size === 0 && timer !== undefined) {
    window.clearInterval(timer);
    timer = undefined;
  }
}

/**
 * Makes `node` count down from `remaining` seconds as of `since` (a
 * `performance.now()` taken when the answer came); `onZero` runs once when
 * it reaches 0.
 */
export function countdown(node: HTMLElement, remaining: number, since: number, onZero?: () => void): void {
  const old = entries.get(node);
  const e: Entry = { remaining, since, onZero, fired: false };
  // The same answer again must not fire twice.
  if (old && old.remaining === remaining && old.since === since) e.fired = old.fired;
  entries.set(node, e);
  show(node, e, performance.now());
  if (timer === undefined) timer = window.setInterval(tick, 1000);
}

/** Stops every countdown (logging out). */
export function stopCountdowns(): void {
  entries.clear();
  if (timer !== undefined) window.clearInterval(timer);
  timer = undefined;
}
