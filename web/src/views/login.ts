// The login view: "User name", "Password", "Log in"; a failure in the alert.
import { el, field, form } from "../dom.js";
import { login, type Session } from "../session.js";
import { announce, clearError, showError } from "../ui.js";

export class LoginView {
  readonly heading = el("h2", { id: "view-heading", tabindex: -1 }, "Log in");
  readonly root: HTMLElement;
  readonly username = el("input", {
    type: "text",
    id: "login-user",
    name: "username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    required: true,
  });
  private readonly password = el("input", {
    type: "password",
    id: "login-password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  private busy = false;

  constructor(private readonly onLogin: (s: Session) => void) {
    this.root = el(
      "div",
      { class: "view login" },
      this.heading,
      form(
        { class: "stacked" },
        () => void this.submit(),
        field("User name", this.username),
        field("Password", this.password),
        el("div", { class: "field submit" }, el("button", { type: "submit", class: "primary" }, "Log in")),
      ),
    );
  }

  private async submit(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    clearError();
    announce("Logging in…");
    try {
      const a = await login(this.username.value.trim(), this.password.value);
      if (a.ok) {
        this.password.value = "";
        announce("");
        this.onLogin(a.session);
        return;
      }
      announce("");
      showError(a.detail);
    } finally {
      this.busy = false;
    }
  }
}
