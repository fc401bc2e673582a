// The generated client, same origin, with the session's CSRF token on every
// request that changes anything, and a 401 anywhere sending the page back to
// the login view.
import type { Middleware } from "openapi-fetch";
import {
  createHerdClient,
  type paths,
  type Problem,
  type Schema,
} from "../../clients/typescript/src/index.js";

export type { Schema, Problem, paths };
export type Guest = Schema<"Guest">;
export type Me = Schema<"Me">;
export type Role = Schema<"Role">;
export type Lease = Schema<"Lease">;
export type Policy = Schema<"Policy">;
export type JobView = Schema<"JobView">;
export type CommandView = Schema<"CommandView">;

export const api = createHerdClient("");

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** What to do when any answer says the session is gone. */
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

/** Called by the session calls too: a 401 once signed in means signed out. */
export function unauthorized(): void {
  onUnauthorized();
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

const session: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method.toUpperCase()) && csrfToken) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) unauthorized();
    return response;
  },
};
api.use(session);

/** Thrown for an answer that is not a success: carries the problem's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

/** The text to show for a failed answer: the problem's `detail` first. */
export function problemText(error: unknown, response?: Response): string {
  if (error && typeof error === "object") {
    const p = error as Partial<Problem>;
    if (typeof p.detail === "string" && p.detail) return p.detail;
    if (typeof p.title === "string" && p.title) return p.title;
  }
  if (typeof error === "string" && error.trim()) return error.trim().slice(0, 500);
  if (response) return `The server answered ${response.status} ${response.statusText}`.trim();
  return "The server could not be reached.";
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, or an ApiError with the problem's detail. */
export async function ok<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "The server could not be reached.");
  }
  if (!answer.response.ok) {
    throw new ApiError(answer.response.status, problemText(answer.error, answer.response));
  }
  return answer.data as T;
}

/** Like `ok`, with the answer's status (201 and 202 mean different things). */
export async function okWithStatus<T>(call: Promise<Answer<T>>): Promise<{ data: T; status: number }> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch {
    throw new ApiError(0, "The server could not be reached.");
  }
  if (!answer.response.ok) {
    throw new ApiError(answer.response.status, problemText(answer.error, answer.response));
  }
  return { data: answer.data as T, status: answer.response.status };
}

const ROLE_RANK: Record<Role, number> = { student: 0, staff: 1, admin: 2 };

/** Whether `role` may do what `least` may. */
export function atLeast(role: Role, least: Role): boolean {
  return (ROLE_RANK[role] ?? 0) >= ROLE_RANK[least];
}

/** States a guest passes through on its way somewhere else. */
const PASSING = new Set<string>(["provisioning", "starting", "stopping", "decommissioning"]);

export function isPassing(state: string): boolean {
  return PASSING.has(state);
}

const JOB_DONE = new Set<string>(["succeeded", "failed", "cancelled"]);

export function jobFinished(status: string): boolean {
  return JOB_DONE.has(status);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

/**
 * Polls a command every 100 ms until it has `succeeded` or `failed`
 * (or `alive()` says to stop: then it answers what it saw last).
 */
export async function waitForCommand(id: number, alive: () => boolean): Promise<CommandView | null> {
  const until = performance.now() + 10 * 60 * 1000;
  let last: CommandView | null = null;
  while (alive() && performance.now() < until) {
    last = await ok(api.GET("/api/v1/commands/{id}", { params: { path: { id } } }));
    if (last.status === "succeeded" || last.status === "failed") return last;
    await pause(100);
  }
  return last;
}

/** Polls a job every 500 ms until it has finished; `each` sees every answer. */
export async function waitForJob(
  id: number,
  alive: () => boolean,
  each?: (job: JobView) => void,
): Promise<JobView | null> {
  const until = performance.now() + 60 * 60 * 1000;
  let last: JobView | null = null;
  while (alive() && performance.now() < until) {
    last = await ok(api.GET("/api/v1/jobs/{id}", { params: { path: { id } } }));
    each?.(last);
    if (jobFinished(last.status)) return last;
    await pause(500);
  }
  return last;
}
