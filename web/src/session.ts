// The three session calls (docs/web.md "Sessions"), through the generated
// client like every other call. The CSRF header and the 401 handling come
// from its middleware (api.ts).
import { api, problemText, type Schema } from "./api.js";

/** The body of `POST` and `GET /api/v1/auth/session`. */
export type Session = Schema<"Session">;

export type SessionAnswer =
  | { ok: true; session: Session }
  | { ok: false; status: number; detail: string };

interface Answer {
  data?: Session;
  error?: unknown;
  response: Response;
}

async function answer(call: Promise<Answer>): Promise<SessionAnswer> {
  try {
    const { data, error, response } = await call;
    if (response.ok && data) return { ok: true, session: data };
    return { ok: false, status: response.status, detail: problemText(error, response) };
  } catch {
    return { ok: false, status: 0, detail: "The server could not be reached." };
  }
}

/** Logs in: `201` with the session, `401` bad credentials, `429` throttled. */
export function login(username: string, password: string): Promise<SessionAnswer> {
  return answer(api.POST("/api/v1/auth/session", { body: { username, password } }));
}

/** The session of the cookie, for a page that was reloaded (`401` without one). */
export function resume(): Promise<SessionAnswer> {
  return answer(api.GET("/api/v1/auth/session", { cache: "no-store" }));
}

/** Ends the session on the server (`204`). */
export async function logout(): Promise<{ ok: boolean; detail: string }> {
  try {
    const { error, response } = await api.DELETE("/api/v1/auth/session");
    if (response.ok || response.status === 401) return { ok: true, detail: "" };
    return { ok: false, detail: problemText(error, response) };
  } catch {
    return { ok: false, detail: "The server could not be reached." };
  }
}
