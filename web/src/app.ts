// The page: a session (resumed at load, or a login), a header with who is
// signed in and the links their role allows, one view at a time by hash
// route, and the event stream that refreshes it.
import { atLeast, setCsrfToken, whenUnauthorized, type Role } from "./api.js";
import { stopCountdowns } from "./countdown.js";
import { debounce, el, replace } from "./dom.js";
import { logout, resume, type Session } from "./session.js";
import { announce, clearError, newGeneration, showError } from "./ui.js";
import { AdminView } from "./views/admin.js";
import { LoginView } from "./views/login.js";
import { ServersView } from "./views/servers.js";
import { AllServersView, CourseBatchView } from "./views/staff.js";
import type { Context, View } from "./views/view.js";

interface Route {
  hash: string;
  label: string;
  least: Role;
  make: (ctx: Context) => View;
}

const ROUTES: Route[] = [
  { hash: "#/servers", label: "My servers", least: "student", make: (ctx) => new ServersView(ctx) },
  { hash: "#/all", label: "All servers", least: "staff", make: () => new AllServersView() },
  { hash: "#/batch", label: "Course batch", least: "staff", make: () => new CourseBatchView() },
  { hash: "#/admin", label: "Administration", least: "admin", make: () => new AdminView() },
];

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node as T;
}

const viewBox = byId("view");
const who = byId("who");
const whoami = byId("whoami");
const logoutButton = byId<HTMLButtonElement>("logout");
const nav = byId("nav");
const navLinks = byId("nav-links");

let session: Session | null = null;
let view: View | null = null;
let stream: EventSource | null = null;
let streamRetry: number | undefined;

const refreshSoon = debounce(() => view?.refresh(), 100);

function allowed(): Route[] {
  const role = session?.user.role ?? "student";
  return ROUTES.filter((r) => atLeast(role, r.least));
}

function showView(focus: boolean): void {
  if (!session) return;
  const routes = allowed();
  let route = routes.find((r) => r.hash === location.hash);
  if (!route) {
    route = routes[0]!;
    history.replaceState(null, "", route.hash);
  }
  view?.unmount();
  // Messages belong to the view they were said in.
  announce("");
  clearError();
  view = route.make({ user: session.user });
  replace(viewBox, view.root);
  for (const a of Array.from(navLinks.querySelectorAll("a"))) {
    if (a.getAttribute("href") === route.hash) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (focus) view.heading.focus();
}

function openStream(): void {
  closeStream();
  const es = new EventSource("/api/v1/events/stream");
  es.onmessage = () => refreshSoon();
  es.onerror = () => {
    // The browser reconnects by itself unless the answer was not a stream
    // (a 401, say): then look again at the session in a while.
    if (es.readyState !== EventSource.CLOSED || stream !== es) return;
    stream = null;
    streamRetry = window.setTimeout(() => void checkSession(), 5000);
  };
  stream = es;
}

function closeStream(): void {
  if (streamRetry !== undefined) window.clearTimeout(streamRetry);
  streamRetry = undefined;
  stream?.close();
  stream = null;
}

async function checkSession(): Promise<void> {
  if (!session) return;
  const a = await resume();
  if (!session) return;
  if (a.ok) {
    session = a.session;
    setCsrfToken(a.session.csrf_token);
    openStream();
    refreshSoon();
  } else if (a.status === 401) {
    toLogin("Your session has ended; log in again.");
  } else {
    streamRetry = window.setTimeout(() => void checkSession(), 5000);
  }
}

function start(s: Session, focus: boolean): void {
  newGeneration();
  session = s;
  setCsrfToken(s.csrf_token);
  whoami.textContent = `Signed in as ${s.user.username} (${s.user.role})`;
  who.hidden = false;
  replace(
    navLinks,
    allowed().map((r) => el("li", null, el("a", { href: r.hash }, r.label))),
  );
  nav.hidden = false;
  clearError();
  openStream();
  showView(focus);
}

function toLogin(message?: string): void {
  newGeneration();
  closeStream();
  stopCountdowns();
  view?.unmount();
  view = null;
  session = null;
  setCsrfToken(null);
  who.hidden = true;
  whoami.textContent = "";
  nav.hidden = true;
  replace(navLinks);
  const login = new LoginView((s) => start(s, true));
  replace(viewBox, login.root);
  if (message) showError(message);

}

whenUnauthorized(() => {
  if (session) toLogin("Your session has ended; log in again.");
});

window.addEventListener("hashchange", () => {
  if (session) showView(true);
});

logoutButton.addEventListener("click", () => {
  void (async () => {
    const r = await logout();
    if (!r.ok) {
      showError(r.detail);
      return;
    }
    toLogin();
    announce("You are logged out.");
    byId("login-user").focus();
  })();
});

async function boot(): Promise<void> {
  const a = await resume();
  if (a.ok) {
    start(a.session, false);
    return;
  }
  toLogin(a.status === 401 ? undefined : a.detail);
}

void boot();
