// One real call against a running herd-server (run by tests/tests/clients.rs):
// HERD_URL, HERD_USERNAME, HERD_PASSWORD from the environment. Logs in, lists
// guests and prints the JSON summary on stdout.
import { login, type Schema } from "../src/index.js";

const url = process.env.HERD_URL;
const username = process.env.HERD_USERNAME ?? "admin";
const password = process.env.HERD_PASSWORD;
if (!url || !password) {
  console.error("set HERD_URL and HERD_PASSWORD");
  process.exit(2);
}

const { client, token } = await login(url, username, password);
const { data, error, response } = await client.GET("/api/v1/guests", {
  params: { query: { limit: 100 } },
});
if (error || !data) {
  console.error(`list guests failed (${response.status}):`, error);
  process.exit(1);
}
const names: string[] = data.items.map((g) => g.name);
// The document's enums are unions here: "sprinting" would not compile.
const wanted: Schema<"GuestState"> = "pooled";
const pooled = await client.GET("/api/v1/guests", {
  params: { query: { state: wanted, limit: 100 } },
});
const pooledStates: Schema<"GuestState">[] = (pooled.data?.items ?? []).map((g) => g.state);
const me = await client.GET("/api/v1/me");
console.log(
  JSON.stringify({ user: token.user.username, role: me.data?.role, guests: names, pooledStates }),
);
