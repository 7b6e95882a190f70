// signin.mjs — plays the browser for the interop tests: loads an authorize URL from
// realmgate-idp, submits Entra's sign-in form (loginfmt/passwd) with plain HTTP requests
// and returns the Location the IdP redirects to (where the app would receive the code).
// No JavaScript runs: the pages work without it, as a real sign-in page must.
import assert from "node:assert/strict";

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through tests/e2e/idp_interop_test.py)`);
  return v;
};

const unescape = (s) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

// Every URL this test process asked for, so a test can prove nothing left the machine.
export const requested = [];

export async function signIn(authUrl, upn, password) {
  requested.push(`GET ${authUrl}`);
  const page = await fetch(authUrl, { redirect: "manual" });
  assert.equal(page.status, 200, `authorize answered ${page.status}`);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  const html = await page.text();
  const action = html.match(/<form method="post" action="([^"]+)"/);
  const ctx = html.match(/name="ctx" value="([^"]+)"/);
  assert.ok(action && ctx, "the sign-in page has the form with its ctx field");
  assert.match(html, /name="loginfmt"/);
  assert.match(html, /name="passwd"/);
  const target = new URL(unescape(action[1]), authUrl).toString();
  requested.push(`POST ${target}`);
  const r = await fetch(target, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ctx: unescape(ctx[1]), loginfmt: upn, passwd: password }),
  });
  assert.equal(r.status, 302, `sign-in answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
  return r.headers.get("location");
}

export function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
