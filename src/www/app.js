/*
 * app.js — the realmgate web GUI (no framework, no external resources).
 *
 * What it does (shared spec proxmox-access.md §3.9, §4, §5.9, §5.10):
 *  - login window: realms from GET /access/domains; password realms POST /access/ticket;
 *    an `openid` realm hides user/password and redirects to the IdP via POST /access/openid/auth-url;
 *  - OpenID callback: ?state=&code= on load → POST /access/openid/login, then the query is removed
 *    from the address bar with history.replaceState and the saved deep link (URL hash) restored;
 *  - session: the ticket lives in the cookie PVEAuthCookie (set here, path=/, secure, SameSite=Lax),
 *    the CSRF token only in memory; the ticket is renewed every 15 minutes;
 *  - main view: "Logged in as <userid>", the caller's privileges (GET /access/permissions), `cap`.
 *
 * Why it looks like this: the server sends "Content-Security-Policy: default-src 'self'", so there is
 * no inline code anywhere, and every server- or IdP-supplied string reaches the page through
 * textContent, never innerHTML. Requests carry a timeout so a dead server cannot hang the page.
 */
'use strict';

(function () {
    var API = '/api2/json';
    var COOKIE = 'PVEAuthCookie';
    var DEEPLINK_KEY = 'openid-deeplink';
    var RENEW_MS = 15 * 60 * 1000;
    var REQUEST_TIMEOUT_MS = 30000;
    var MAX_DEEPLINK = 1024;    /* a saved hash longer than this is dropped, not restored */
    var MAX_ERROR_TEXT = 1000;  /* IdP error texts are cut to this length for display */

    /* Session state. The ticket itself is read from the cookie whenever it is needed. */
    var state = {
        realms: [],          /* [{realm, type, comment, default}] as listed by the server */
        username: null,      /* user id of the logged-in user */
        csrf: null,          /* CSRFPreventionToken, memory only */
        cap: null,           /* capability map from the last ticket response */
        renewTimer: null
    };

    function $(id) { return document.getElementById(id); }

    /* ---------------------------------------------------------------- cookie */

    function getTicket() {
        var parts = document.cookie ? document.cookie.split(';') : [];
        for (var i = 0; i < parts.length; i++) {
            var p = parts[i].replace(/^\s+/, '');
            if (p.indexOf(COOKIE + '=') === 0) {
                var raw = p.substring(COOKIE.length + 1);
                if (raw === '') return null;
                try { return decodeURIComponent(raw); } catch (e) { return null; }
            }
        }
        return null;
    }

    function setTicket(ticket) {
        document.cookie = COOKIE + '=' + encodeURIComponent(ticket) + '; path=/; secure; SameSite=Lax';
    }

    function clearTicket() {
        document.cookie = COOKIE + '=; path=/; secure; SameSite=Lax; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    }

    /* User id carried in a login ticket "PVE:<userid with ':' as %3A>:<8 hex>::<sig>" (§4.2).
     * Used after a page reload, when only the cookie survives. Returns null for anything else. */
    function ticketUser(ticket) {
        var m = /^PVE:([^\s:]+):[0-9A-F]{8}::\S+$/.exec(ticket || '');
        if (!m || m[1].indexOf('!tfa!') === 0) return null;
        return m[1].replace(/%3A/g, ':');
    }

    /* ---------------------------------------------------------------- API */

    function ApiError(status, message) {
        this.status = status;
        this.message = message;
    }

    /* One API call. `params` (object) is sent form-encoded for POST, as a query for GET.
     * Resolves with the envelope's `data`; rejects with ApiError (status 0 = no HTTP answer). */
    function api(method, path, params, timeoutMs) {
        var url = API + path;
        var opts = { method: method, credentials: 'same-origin', headers: {}, cache: 'no-store' };
        var body = params ? new URLSearchParams(params).toString() : '';
        if (method === 'GET') {
            if (body) url += '?' + body;
        } else {
            opts.headers['Content-Type'] = 'application/x-www-form-urlencoded';
            opts.body = body;
            if (state.csrf) opts.headers.CSRFPreventionToken = state.csrf;
        }
        var ctl = typeof AbortController === 'function' ? new AbortController() : null;
        var timer = null;
        if (ctl) {
            opts.signal = ctl.signal;
            timer = setTimeout(function () { ctl.abort(); }, timeoutMs || REQUEST_TIMEOUT_MS);
        }
        return fetch(url, opts).then(function (resp) {
            return resp.text().then(function (text) {
                var json = null;
                try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
                if (!resp.ok) {
                    var msg = json && typeof json.message === 'string' ? json.message : (resp.statusText || 'error');
                    throw new ApiError(resp.status, msg);
                }
                if (!json || typeof json !== 'object' || !('data' in json)) {
                    throw new ApiError(resp.status, 'malformed response');
                }
                return json.data;
            });
        }, function (err) {
            var aborted = err && err.name === 'AbortError';
            throw new ApiError(0, aborted ? 'request timed out' : 'connection error');
        }).finally(function () {
            if (timer) clearTimeout(timer);
        });
    }

    /* ---------------------------------------------------------------- small DOM helpers */

    function show(el, on) { el.hidden = !on; }

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
    }

    function clear(node) {
        while (node.firstChild) node.removeChild(node.firstChild);
    }

    function showError(box, text) {
        var t = String(text);
        if (t.length > MAX_ERROR_TEXT) t = t.substring(0, MAX_ERROR_TEXT) + '…';
        box.textContent = t;
        show(box, true);
    }

    function hideError(box) {
        box.textContent = '';
        show(box, false);
    }

    function setMask(text) {
        if (text) {
            $('login-mask-text').textContent = text;
            show($('login-mask'), true);
        } else {
            show($('login-mask'), false);
            $('login-mask-text').textContent = '';
        }
    }

    function setBusy(busy) {
        var f = $('login-form').elements;
        for (var i = 0; i < f.length; i++) f[i].disabled = busy;
    }

    /* The address without query and hash; deep link (a saved "#..." hash) appended if given. */
    function cleanUrl(hash) {
        return window.location.origin + '/' + (hash || '');
    }

    /* ---------------------------------------------------------------- login window */

    function selectedRealm() {
        var id = $('realm').value;
        for (var i = 0; i < state.realms.length; i++) {
            if (state.realms[i].realm === id) return state.realms[i];
        }
        return null;
    }

    function isOpenid() {
        var r = selectedRealm();
        return !!r && r.type === 'openid';
    }

    /* Switch the form between password mode and OpenID redirect mode (§3.9). */
    function updateLoginMode() {
        var oidc = isOpenid();
        show($('username-field'), !oidc);
        show($('password-field'), !oidc);
        $('login-button').textContent = oidc ? 'Login (OpenID redirect)' : 'Login';
    }

    function fillRealms(list) {
        var sel = $('realm');
        clear(sel);
        state.realms = [];
        var def = null;
        for (var i = 0; i < list.length; i++) {
            var r = list[i];
            if (!r || typeof r.realm !== 'string') continue;
            var entry = {
                realm: r.realm,
                type: typeof r.type === 'string' ? r.type : '',
                comment: typeof r.comment === 'string' && r.comment !== '' ? r.comment : r.realm,
                isDefault: r['default'] === 1 || r['default'] === true || r['default'] === '1'
            };
            state.realms.push(entry);
            var opt = el('option', null, entry.comment);
            opt.value = entry.realm;
            sel.appendChild(opt);
            if (entry.isDefault && def === null) def = entry.realm;
        }
        if (def !== null) sel.value = def;
        updateLoginMode();
    }

    function loadRealms() {
        return api('GET', '/access/domains').then(function (data) {
            fillRealms(Array.isArray(data) ? data : []);
        }, function (err) {
            fillRealms([]);
            showError($('error'), 'Could not load the list of realms: ' + err.message);
        });
    }

    function showLogin(errorText) {
        stopRenewal();
        state.username = null;
        state.csrf = null;
        state.cap = null;
        clear($('perm-body'));
        clear($('cap-list'));
        $('status').textContent = '';
        show($('main-view'), false);
        show($('login-view'), true);
        setMask(null);
        setBusy(false);
        if (errorText) showError($('error'), errorText); else hideError($('error'));
        updateLoginMode();
        if (!isOpenid()) ($('username').value ? $('password') : $('username')).focus();
    }

    function onSubmit(ev) {
        ev.preventDefault();
        hideError($('error'));
        var realm = selectedRealm();
        if (!realm) {
            showError($('error'), 'No realm selected.');
            return;
        }
        if (realm.type === 'openid') {
            startOpenid(realm.realm);
        } else {
            passwordLogin(realm.realm);
        }
    }

    function passwordLogin(realm) {
        var user = $('username').value.trim();
        var pass = $('password').value;
        if (!user || !pass) {
            showError($('error'), 'Please enter user name and password.');
            return;
        }
        setBusy(true);
        setMask('Login - please wait...');
        api('POST', '/access/ticket', { username: user, password: pass, realm: realm }).then(function (data) {
            $('password').value = '';
            if (data && data.NeedTFA) {
                /* Second factors are not offered by this GUI. */
                throw new ApiError(401, 'second factor required');
            }
            loginSuccess(data);
        }).catch(function (err) {
            $('password').value = '';
            setMask(null);
            setBusy(false);
            showError($('error'), err.status === 401 ? 'Login failed. Please try again'
                                                      : 'Login failed: ' + err.message);
            $('password').focus();
        });
    }

    /* OpenID step 1: remember where the user was, ask the server for the IdP URL, go there. */
    function startOpenid(realm) {
        try {
            sessionStorage.setItem(DEEPLINK_KEY, window.location.hash || '');
        } catch (e) { /* storage disabled: the deep link is simply not restored */ }
        setBusy(true);
        setMask('Redirecting to the identity provider...');
        api('POST', '/access/openid/auth-url', { realm: realm, 'redirect-url': window.location.origin })
            .then(function (url) {
                if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
                    throw new ApiError(0, 'bad authorization URL');
                }
                window.location.href = url;
            }).catch(function () {
                setMask(null);
                setBusy(false);
                showError($('error'), 'OpenID redirect failed.');
            });
    }

    function takeDeepLink() {
        var h = '';
        try {
            h = sessionStorage.getItem(DEEPLINK_KEY) || '';
            sessionStorage.removeItem(DEEPLINK_KEY);
        } catch (e) { h = ''; }
        if (h.charAt(0) !== '#' || h.length > MAX_DEEPLINK) return '';
        return h;
    }

    /* OpenID step 2 (callback). Returns true when the query was a callback and was handled. */
    function handleCallback() {
        var q = new URLSearchParams(window.location.search);
        var code = q.get('code');
        var st = q.get('state');
        if (code !== null && st !== null) {
            clearTicket();
            show($('login-view'), true);
            setBusy(true);
            setMask('OpenID login - please wait...');
            var params = { state: st, code: code, 'redirect-url': window.location.origin };
            if (q.get('iss') !== null) {
                params.iss = q.get('iss'); /* RFC 9207: the server checks it against the realm */
            }
            api('POST', '/access/openid/login', params)
                .then(function (data) {
                    window.history.replaceState(null, '', cleanUrl(takeDeepLink()));
                    loginSuccess(data);
                }).catch(function () {
                    takeDeepLink();
                    window.history.replaceState(null, '', cleanUrl(''));
                    showLogin('OpenID login failed, please try again');
                });
            return true;
        }
        if (q.get('error') !== null) {
            /* An IdP error response (RFC 6749 §4.1.2.1). Anyone can craft such a link, so its
             * free text (error_description) is never shown: only an error code of the RFC's
             * form, else nothing (oidc-rp-tests CB-10). Then it is dropped from the address. */
            var code = q.get('error');
            takeDeepLink();
            window.history.replaceState(null, '', cleanUrl(''));
            showLogin(/^[a-z_]{1,40}$/.test(code) ?
                'OpenID login failed (' + code + '), please try again' :
                'OpenID login failed, please try again');
            return true;
        }
        return false;
    }

    /* ---------------------------------------------------------------- session */

    function acceptTicketResponse(data) {
        if (!data || typeof data.ticket !== 'string' || typeof data.username !== 'string') {
            throw new ApiError(0, 'malformed ticket response');
        }
        setTicket(data.ticket);
        state.username = data.username;
        state.csrf = typeof data.CSRFPreventionToken === 'string' ? data.CSRFPreventionToken : null;
        if (data.cap && typeof data.cap === 'object') state.cap = data.cap;
    }

    function loginSuccess(data) {
        try {
            acceptTicketResponse(data);
        } catch (e) {
            showLogin('Login failed: ' + e.message);
            return;
        }
        startRenewal();
        showMain();
        noteRenewal('Signed in');
    }

    function startRenewal() {
        stopRenewal();
        state.renewTimer = setInterval(renewTicket, RENEW_MS);
    }

    function stopRenewal() {
        if (state.renewTimer !== null) clearInterval(state.renewTimer);
        state.renewTimer = null;
    }

    function noteRenewal(what) {
        var t = new Date();
        var hh = String(t.getHours()).padStart(2, '0');
        var mm = String(t.getMinutes()).padStart(2, '0');
        $('session-info').textContent = what + ' at ' + hh + ':' + mm +
            '. The ticket is renewed every 15 minutes while this page is open.';
    }

    /* Renewal (§4.1 step 4): the current ticket is the password. 401 means the session is over. */
    function renewTicket() {
        var ticket = getTicket();
        if (!ticket || !state.username) {
            showLogin('Your session has ended, please log in again.');
            return Promise.resolve(false);
        }
        return api('POST', '/access/ticket', { username: state.username, password: ticket }).then(function (data) {
            acceptTicketResponse(data);
            $('status').textContent = 'Logged in as ' + state.username;
            renderCap();
            noteRenewal('Ticket renewed');
            return true;
        }, function (err) {
            if (err.status === 401) {
                clearTicket();
                showLogin('Your session has expired, please log in again.');
            }
            /* Other failures (network, 5xx): keep the session, try again at the next interval. */
            return false;
        });
    }

    function logout() {
        var btn = $('logout-button');
        btn.disabled = true;
        /* The server ends the session (all its tickets); for an OpenID login it may answer with
         * the provider's end-session URL, which signs out there too and comes back here. The
         * cookie is cleared regardless of the answer. */
        api('POST', '/access/logout', { 'redirect-url': window.location.origin }, 5000)
            .catch(function () { return null; }).then(function (data) {
            clearTicket();
            if (typeof data === 'string' && /^https?:\/\//i.test(data)) {
                window.location.assign(data);
                return;
            }
            btn.disabled = false;
            var q = window.location.search;
            if (q) window.history.replaceState(null, '', cleanUrl(window.location.hash));
            showLogin(null);
        });
    }

    /* ---------------------------------------------------------------- main view */

    function showMain() {
        show($('login-view'), false);
        setMask(null);
        setBusy(false);
        hideError($('error'));
        hideError($('main-error'));
        $('status').textContent = 'Logged in as ' + state.username;
        show($('main-view'), true);
        renderCap();
        loadPermissions();
    }

    function loadPermissions() {
        return api('GET', '/access/permissions').then(function (data) {
            renderPermissions(data);
        }, function (err) {
            if (err.status === 401) {
                clearTicket();
                showLogin('Your session has expired, please log in again.');
                return;
            }
            showError($('main-error'), 'Could not load permissions: ' + err.message);
        });
    }

    function renderPermissions(data) {
        var body = $('perm-body');
        clear(body);
        var paths = data && typeof data === 'object' ? Object.keys(data) : [];
        paths = paths.filter(function (p) {
            return data[p] && typeof data[p] === 'object' && Object.keys(data[p]).length > 0;
        }).sort();
        if (paths.length === 0) {
            var tr0 = el('tr', 'empty');
            var td0 = el('td', null, 'No permissions');
            td0.colSpan = 2;
            tr0.appendChild(td0);
            body.appendChild(tr0);
            return;
        }
        paths.forEach(function (path) {
            var tr = el('tr');
            tr.appendChild(el('td', 'col-path', path));
            var td = el('td', 'privs');
            Object.keys(data[path]).sort().forEach(function (priv, i) {
                /* A space between chips keeps the row's text readable ("Sys.Audit Sys.Console"). */
                if (i > 0) td.appendChild(document.createTextNode(' '));
                var propagate = data[path][priv];
                var chip = el('span', propagate ? 'chip' : 'chip chip-noprop', priv);
                chip.title = propagate ? priv + ' (propagates to sub-paths)' : priv + ' (this path only)';
                td.appendChild(chip);
            });
            tr.appendChild(td);
            body.appendChild(tr);
        });
    }

    var CAP_LABELS = [
        ['dc', 'Datacenter'], ['nodes', 'Nodes'], ['vms', 'Virtual machines'], ['storage', 'Storage'],
        ['access', 'Users and groups'], ['sdn', 'SDN'], ['mapping', 'Resource mappings']
    ];

    function renderCap() {
        var box = $('cap-list');
        clear(box);
        var cap = state.cap;
        if (!cap || typeof cap !== 'object') {
            box.appendChild(el('p', 'muted', 'Not available yet.'));
            return;
        }
        var known = {};
        var rows = CAP_LABELS.map(function (l) { known[l[0]] = true; return l; });
        Object.keys(cap).sort().forEach(function (k) { if (!known[k]) rows.push([k, k]); });
        rows.forEach(function (l) {
            var privs = cap[l[0]] && typeof cap[l[0]] === 'object' ? Object.keys(cap[l[0]]).sort() : [];
            var card = el('div', privs.length ? 'cap' : 'cap cap-none');
            var head = el('div', 'cap-head');
            head.appendChild(el('span', 'cap-name', l[1]));
            head.appendChild(el('span', 'cap-count', privs.length ? String(privs.length) : '—'));
            card.appendChild(head);
            card.appendChild(el('div', 'cap-privs', privs.length ? privs.join(', ') : 'no access'));
            box.appendChild(card);
        });
    }

    /* ---------------------------------------------------------------- start-up */

    /* A ticket cookie from an earlier visit: valid if the server answers /access/permissions.
     * A renewal right after fetches the CSRF token and `cap`, which only lived in memory. */
    function resumeSession() {
        var ticket = getTicket();
        var user = ticketUser(ticket);
        if (!ticket || !user) {
            if (ticket) clearTicket();
            return Promise.resolve(false);
        }
        return api('GET', '/access/permissions').then(function (data) {
            state.username = user;
            show($('login-view'), false);
            $('status').textContent = 'Logged in as ' + user;
            show($('main-view'), true);
            renderPermissions(data);
            renderCap();
            startRenewal();
            renewTicket();
            noteRenewal('Session resumed');
            return true;
        }, function (err) {
            if (err.status === 401) clearTicket();
            return false;
        });
    }

    function init() {
        $('login-form').addEventListener('submit', onSubmit);
        $('realm').addEventListener('change', function () { hideError($('error')); updateLoginMode(); });
        $('logout-button').addEventListener('click', logout);
        /* Back from the IdP may restore this page from the back/forward cache with the
         * "Redirecting..." mask still up; give the user a usable form again. */
        window.addEventListener('pageshow', function (ev) {
            if (ev.persisted && !$('login-view').hidden) {
                setMask(null);
                setBusy(false);
            }
        });

        loadRealms().then(function () {
            if (handleCallback()) return;
            resumeSession().then(function (ok) {
                if (!ok) {
                    var keepError = !$('error').hidden ? $('error').textContent : null;
                    showLogin(keepError);
                }
            });
        });
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', init);
    } else {
        init();
    }
})();
