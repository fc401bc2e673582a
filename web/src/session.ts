// The three session calls (docs/web.md "Sessions"). They are not in the
// generated types yet, so they go through this small typed wrapper; every
// other call goes through the generated client (api.ts).
import { csrfHeader, problemText, type Me } from "./api.js";

const PATH = "/api/v1/auth/session";

/** The body of `POST` and `GET /api/v1/auth/session`. */
export interface Session {
  csrf_token: string;
  expires_at: string;
  user: Me;
}

export type SessionAnswer =
  | { ok: true; session: Session }
  | { ok: false; status: number; detail: string };

async function call(method: "GET" | "POST" | "DELETE", body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") Object.assign(headers, csrfHeader());
  return fetch(PATH, {
    method,
    headers,
    credentials: "same-origin",
    cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function answer(res: Response): Promise<SessionAnswer> {
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  if (res.ok && json && typeof json === "object" && "csrf_token" in json && "user" in json) {
    return { ok: true, session: json as Session };
  }
  if (res.ok) return { ok: false, status: res.status, detail: "The server's answer was not understood." };
  return { ok: false, status: res.status, detail: problemText(json, res) };
}

function unreachable(): SessionAnswer {
  return { ok: false, status: 0, detail: "The server could not be reached." };
}

/** Logs in: `201` with the session, `401` bad credentials, `429` throttled. */
export async function login(username: string, password: string): Promise<SessionAnswer> {
  try {
    return await answer(await call("POST", { username, password }));
  } catch {
    return unreachable();
  }
}

/** The session of the cookie, for a page that was reloaded (`401` without one). */
export async function resume(): Promise<SessionAnswer> {
  try {
    return await answer(await call("GET"));
  } catch {
    return unreachable();
  }
}

/** Ends the session on the server (`204`). */
export async function logout(): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await call("DELETE");
    if (res.ok || res.status === 401) return { ok: true, detail: "" };
    const a = await answer(res);
    return { ok: false, detail: a.ok ? "" : a.detail };
  } catch {
    return { ok: false, detail: "The server could not be reached." };
  }
}
