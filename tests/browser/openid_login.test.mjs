// openid_login.test.mjs — drives the realmgate web GUI through an OpenID Connect login in a real
// Chromium (Debian's /usr/bin/chromium via playwright-core; no bundled browser is downloaded).
//
// Run (the servers must already be running; this script starts nothing):
//   cd tests/browser && npm ci && RG_GUI_URL=https://127.0.0.1:8006 node openid_login.test.mjs
//
// Environment:
//   RG_GUI_URL          GUI origin, e.g. https://127.0.0.1:8006 (required)
//   RG_SCREENSHOT_DIR   folder for screenshots (default: <tmpdir>/realmgate-screenshots)
//   RG_USER             IdP sign-in name       (default alice@demo.example)
//   RG_PASSWORD         IdP password           (default Demo-Alice-2026)
//   RG_REALM_COMMENT    realm list entry of the OpenID realm (default "Microsoft Entra ID (demo tenant)")
//   RG_EXPECTED_USERID  user id the GUI must show (default <RG_USER>@entra)
//
// What it checks (exact texts; spec proxmox-access.md §3.9): the realm list preselects the default
// OpenID realm; OpenID mode hides user/password and labels the button "Login (OpenID redirect)";
// the IdP round trip ends logged in with "Logged in as <userid>", no code= left in the address bar,
// the ticket cookie set, "/" with Sys.Audit in the permission table; a screenshot is saved; a reload
// keeps the session; 15 minutes later (fake clock) the ticket is renewed with itself as password; logout returns to the login form and drops the cookie; no script error or CSP
// violation occurs on the GUI; a wrong IdP password shows AADSTS50126 and never redirects back.
// Each step is bounded by STEP_TIMEOUT_MS, so a hung server fails the step instead of the run.
// Prints "N passed, M failed" last; exit status 1 on any failure, 2 on a usage error.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 30000;
const ACTION_TIMEOUT_MS = 15000;
const NO_REDIRECT_WAIT_MS = 2000;

const guiUrlRaw = process.env.RG_GUI_URL;
if (!guiUrlRaw) {
    console.error('openid_login.test.mjs: RG_GUI_URL is not set (e.g. RG_GUI_URL=https://127.0.0.1:8006); ' +
                  'start realmgate and realmgate-idp first, then run this test.');
    process.exit(2);
}
let guiOrigin;
try {
    guiOrigin = new URL(guiUrlRaw).origin;
} catch (e) {
    console.error(`openid_login.test.mjs: RG_GUI_URL is not a URL: ${guiUrlRaw}`);
    process.exit(2);
}
const guiUrl = guiOrigin + '/';
const user = process.env.RG_USER || 'alice@demo.example';
const password = process.env.RG_PASSWORD || 'Demo-Alice-2026';
const realmComment = process.env.RG_REALM_COMMENT || 'Microsoft Entra ID (demo tenant)';
const expectedUserid = process.env.RG_EXPECTED_USERID || `${user}@entra`;
const shotDir = process.env.RG_SCREENSHOT_DIR || path.join(os.tmpdir(), 'realmgate-screenshots');

const launchOptions = {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

/* ------------------------------------------------------------------ tiny runner */

let passed = 0;
let failed = 0;

function check(cond, message) {
    if (!cond) throw new Error(message);
}

function eq(actual, expected, what) {
    if (actual !== expected) {
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
}

function withTimeout(promise, ms, what) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
    });
    return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function safeName(s) {
    return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

/* Runs the steps of one scenario in order. After the first failure the rest cannot be meaningful
 * and are counted as failed without running. */
async function scenario(name, page, steps) {
    let broken = null;
    for (const [title, fn] of steps) {
        const label = `${name}: ${title}`;
        if (broken) {
            failed++;
            console.log(`FAIL ${label} (not run: "${broken}" failed)`);
            continue;
        }
        try {
            await withTimeout(Promise.resolve().then(fn), STEP_TIMEOUT_MS, title);
            passed++;
            console.log(`ok   ${label}`);
        } catch (err) {
            failed++;
            broken = title;
            const extra = page ? await pageDiagnostics(page) : '';
            console.log(`FAIL ${label}\n     ${String(err && err.message || err).split('\n')[0]}${extra}`);
            if (page) {
                const file = path.join(shotDir, `failure-${safeName(label)}.png`);
                await withTimeout(page.screenshot({ path: file }), 10000, 'failure screenshot')
                    .then(() => console.log(`     screenshot: ${file}`), () => {});
            }
        }
    }
}

/* Where the page is and what error it shows, for failure messages. */
async function pageDiagnostics(page) {
    try {
        const url = page.url();
        const err = await withTimeout(page.evaluate(() => {
            const e = document.getElementById('error');
            return e && !e.hidden ? e.textContent : '';
        }), 3000, 'diagnostics');
        return `\n     at ${url}` + (err ? `\n     GUI error box: ${JSON.stringify(err)}` : '');
    } catch (e) {
        return '';
    }
}

/* ------------------------------------------------------------------ page helpers */

async function openGui(page) {
    const resp = await page.goto(guiUrl, { waitUntil: 'load' });
    check(resp && resp.status() === 200, `GET ${guiUrl} answered ${resp ? resp.status() : 'nothing'}`);
    await page.locator('#login-button').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.getElementById('realm').options.length > 0);
}

async function selectedRealmText(page) {
    return page.evaluate(() => {
        const s = document.getElementById('realm');
        return s.selectedIndex >= 0 ? s.options[s.selectedIndex].textContent : null;
    });
}

/* The IdP sign-in form: fill loginfmt and passwd, submit. A page that asks for the password in a
 * second step (as Entra's does) gets the name submitted first. */
async function idpSignIn(page, name, pass) {
    const login = page.locator('input[name=loginfmt]');
    await login.waitFor({ state: 'visible' });
    await login.fill(name);
    const pw = page.locator('input[name=passwd]');
    if (!(await pw.isVisible())) {
        await submitFormOf(login);
        await pw.waitFor({ state: 'visible' });
    }
    await pw.fill(pass);
    await submitFormOf(pw);
}

async function submitFormOf(field) {
    const submit = field.locator('xpath=ancestor::form[1]').locator('[type=submit]:visible');
    if (await submit.count() > 0) {
        await submit.first().click();
    } else {
        await field.press('Enter');
    }
}

async function authCookie(context) {
    const all = await context.cookies(guiUrl);
    return all.find((c) => c.name === 'PVEAuthCookie' && c.value !== '') || null;
}

function isTicketPost(r) {
    return r.request ? isTicketPost(r.request()) :
        r.method() === 'POST' && new URL(r.url()).pathname === '/api2/json/access/ticket';
}

async function statusText(page) {
    return (await page.locator('#status').textContent()) ?? '';
}

/* ------------------------------------------------------------------ scenarios */

async function loginScenario(browser) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    // Controllable timers (time still runs normally) so the 15-minute renewal can be triggered.
    await page.clock.install();

    // Script errors and CSP violations on the GUI's own pages. HTTP error statuses ("Failed to load
    // resource", e.g. a 404 from an unimplemented logout) are expected and not counted.
    const guiErrors = [];
    page.on('pageerror', (err) => {
        if (page.url().startsWith(guiOrigin)) guiErrors.push(`page error: ${err.message}`);
    });
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const where = msg.location() && msg.location().url ? msg.location().url : page.url();
        if (!where.startsWith(guiOrigin)) return;
        if (/Failed to load resource/.test(msg.text())) return;
        guiErrors.push(msg.text());
    });

    const steps = [
        ['login window lists the OpenID realm and preselects it', async () => {
            await openGui(page);
            const options = await page.locator('#realm option').allTextContents();
            check(options.includes(realmComment),
                  `realm list ${JSON.stringify(options)} lacks ${JSON.stringify(realmComment)}`);
            eq(await selectedRealmText(page), realmComment, 'selected realm');
        }],
        ['OpenID mode hides user name and password', async () => {
            check(await page.locator('#username').isHidden(), '#username is visible');
            check(await page.locator('#password').isHidden(), '#password is visible');
            eq((await page.locator('#login-button').textContent()).trim(), 'Login (OpenID redirect)',
               'login button');
        }],
        ['Login goes to the IdP sign-in page', async () => {
            await page.locator('#login-button').click();
            await page.locator('input[name=loginfmt]').waitFor({ state: 'visible' });
            check(new URL(page.url()).origin !== guiOrigin, `still on the GUI: ${page.url()}`);
        }],
        ['IdP sign-in returns to the GUI logged in', async () => {
            await idpSignIn(page, user, password);
            await page.waitForURL((u) => u.origin === guiOrigin);
            await page.locator('#status').waitFor({ state: 'visible' });
            eq(await statusText(page), `Logged in as ${expectedUserid}`, '#status');
            check(await page.locator('#login-view').isHidden(), 'login window still shown');
        }],
        ['address bar has no code= (nor state=)', async () => {
            const u = new URL(page.url());
            check(!page.url().includes('code='), `address still has code=: ${page.url()}`);
            check(!page.url().includes('state='), `address still has state=: ${page.url()}`);
            eq(u.pathname, '/', 'path after login');
        }],
        ['ticket cookie PVEAuthCookie is set', async () => {
            const c = await authCookie(context);
            check(c, 'no PVEAuthCookie cookie');
            const ticket = decodeURIComponent(c.value);
            check(ticket.startsWith(`PVE:${expectedUserid.replace(/:/g, '%3A')}:`),
                  `cookie does not hold a ticket of ${expectedUserid}: ${ticket.slice(0, 60)}...`);
            eq(c.path, '/', 'cookie path');
            eq(c.secure, true, 'cookie secure flag');
            eq(c.sameSite, 'Lax', 'cookie SameSite');
        }],
        ['permission table has a "/" row with Sys.Audit', async () => {
            const row = page.locator('#perm-table tbody tr').filter({
                has: page.locator('td:first-child', { hasText: /^\/$/ }),
            });
            await row.first().waitFor({ state: 'visible' });
            eq(await row.count(), 1, 'rows for "/"');
            const privs = (await row.locator('td').nth(1).textContent()).split(/\s+/).filter(Boolean);
            check(privs.includes('Sys.Audit'), `"/" privileges ${JSON.stringify(privs)} lack Sys.Audit`);
        }],
        ['screenshot of the logged-in view is saved', async () => {
            const file = path.join(shotDir, 'openid-login.png');
            await page.screenshot({ path: file });
            const st = fs.statSync(file);
            check(st.size > 1000, `${file} is only ${st.size} bytes`);
            console.log(`     screenshot: ${file}`);
        }],
        ['reload keeps the user logged in', async () => {
            // After a reload only the cookie is left; the GUI renews the ticket at once to get a
            // CSRF token again. Waiting for that renewal also keeps it out of the next step.
            const renewed = page.waitForResponse(isTicketPost);
            await page.reload({ waitUntil: 'load' });
            await page.locator('#status').waitFor({ state: 'visible' });
            eq(await statusText(page), `Logged in as ${expectedUserid}`, '#status after reload');
            check(await page.locator('#login-view').isHidden(), 'login window shown after reload');
            await page.locator('#perm-table tbody tr td:first-child', { hasText: /^\/$/ }).waitFor({ state: 'visible' });
            eq((await renewed).status(), 200, 'status of the renewal after reload');
        }],
        ['ticket is renewed after 15 minutes', async () => {
            const before = decodeURIComponent((await authCookie(context)).value);
            const reqP = page.waitForRequest(isTicketPost);
            await page.clock.fastForward('15:00');
            const req = await reqP;
            const form = new URLSearchParams(req.postData() || '');
            eq(form.get('username'), expectedUserid, 'renewal username');
            check(form.get('password') === before, 'renewal did not send the current ticket as password');
            const resp = await req.response();
            eq(resp.status(), 200, 'renewal status');
            const fresh = (await resp.json()).data.ticket;
            await page.waitForFunction((t) => document.cookie.includes('PVEAuthCookie=' + encodeURIComponent(t)), fresh);
            eq(await statusText(page), `Logged in as ${expectedUserid}`, '#status after renewal');
        }],
        ['logout shows the login form again and drops the cookie', async () => {
            await page.locator('#logout-button').click();
            await page.locator('#login-button').waitFor({ state: 'visible' });
            check(await page.locator('#main-view').isHidden(), 'main view still shown after logout');
            eq((await page.locator('#login-button').textContent()).trim(), 'Login (OpenID redirect)',
               'login button after logout');
            eq(await authCookie(context), null, 'PVEAuthCookie after logout');
            await page.reload({ waitUntil: 'load' });
            await page.locator('#login-button').waitFor({ state: 'visible' });
            check(await page.locator('#main-view').isHidden(), 'logged in again after reload');
        }],
        ['no script errors or CSP violations on the GUI', async () => {
            eq(guiErrors.length, 0, `console errors ${JSON.stringify(guiErrors)}`);
        }],
    ];
    try {
        await scenario('OpenID login', page, steps);
    } finally {
        await context.close().catch(() => {});
    }
}

async function wrongPasswordScenario(browser) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    let idpOrigin = null;
    const steps = [
        ['IdP rejects a wrong password with AADSTS50126', async () => {
            await openGui(page);
            eq(await selectedRealmText(page), realmComment, 'selected realm');
            await page.locator('#login-button').click();
            await page.locator('input[name=loginfmt]').waitFor({ state: 'visible' });
            idpOrigin = new URL(page.url()).origin;
            check(idpOrigin !== guiOrigin, `still on the GUI: ${page.url()}`);
            await idpSignIn(page, user, `${password}-wrong`);
            await page.waitForFunction(() => document.body && document.body.innerText.includes('AADSTS50126'));
        }],
        ['no redirect back to the GUI after the failure', async () => {
            await page.waitForTimeout(NO_REDIRECT_WAIT_MS);
            eq(new URL(page.url()).origin, idpOrigin, 'page origin');
            check(!page.url().includes('code='), `address has code=: ${page.url()}`);
            eq(await authCookie(context), null, 'PVEAuthCookie');
            check(await page.evaluate(() => document.body.innerText.includes('AADSTS50126')),
                  'AADSTS50126 no longer shown');
        }],
    ];
    try {
        await scenario('wrong password', page, steps);
    } finally {
        await context.close().catch(() => {});
    }
}

/* A crafted link with an IdP error response must not put the attacker's text on the page. */
async function idpErrorScenario(browser) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    const errorText = () => page.evaluate(() => {
        const e = document.getElementById('error');
        return e && !e.hidden ? e.textContent : null;
    });
    const steps = [
        ['error code shown, error_description never', async () => {
            const evil = encodeURIComponent('Call +1 555 0100 to unlock <img src=x onerror=alert(3)>');
            await page.goto(`${guiOrigin}/?error=access_denied&error_description=${evil}&state=x`);
            await page.locator('#login-button').waitFor({ state: 'visible' });
            eq(await errorText(page), 'OpenID login failed (access_denied), please try again', 'error box');
            check(!page.url().includes('error'), `error parameters left in the address: ${page.url()}`);
        }],
        ['an error value that is not a code is not shown either', async () => {
            await page.goto(`${guiOrigin}/?error=${encodeURIComponent('<b>Your account is locked</b>')}`);
            await page.locator('#login-button').waitFor({ state: 'visible' });
            eq(await errorText(page), 'OpenID login failed, please try again', 'error box');
        }],
    ];
    try {
        await scenario('IdP error response', page, steps);
    } finally {
        await context.close().catch(() => {});
    }
}

/* ------------------------------------------------------------------ main */

async function main() {
    fs.mkdirSync(shotDir, { recursive: true });
    let browser;
    try {
        browser = await chromium.launch(launchOptions);
    } catch (err) {
        console.log(`FAIL launching ${launchOptions.executablePath}: ${err.message.split('\n')[0]}`);
        failed++;
        return;
    }
    try {
        await loginScenario(browser);
        await wrongPasswordScenario(browser);
        await idpErrorScenario(browser);
    } finally {
        await withTimeout(browser.close(), 10000, 'closing the browser').catch(() => {});
    }
}

try {
    await main();
} catch (err) {
    failed++;
    console.log(`FAIL unexpected error: ${err && err.stack || err}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
