/** The linking web form: static HTML + JS, no build step, talking to the public REST API. */
export const LINK_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mailpush · link a mailbox</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<main>
  <h1>mailpush</h1>
  <p class="lead">Link a mailbox: every new message becomes a notification on your phones.</p>

  <section id="key-section">
    <h2>1 · Your API key</h2>
    <label>API key <input id="api-key" type="password" autocomplete="off" placeholder="mpk_…" required></label>
    <p class="hint">Your operator gives you this key. It stays in this browser tab only.</p>
  </section>

  <form id="link-form" novalidate>
    <h2>2 · Your mailbox</h2>
    <label>Provider
      <select id="provider">
        <option value="gmail">Gmail</option>
        <option value="outlook">Outlook / Microsoft 365</option>
        <option value="yahoo">Yahoo</option>
        <option value="icloud">iCloud</option>
        <option value="fastmail">Fastmail</option>
        <option value="other" selected>Other IMAP server</option>
      </select>
    </label>
    <p id="provider-hint" class="hint"></p>
    <label>Email address <input id="email" type="email" autocomplete="email" required></label>
    <label>Username <input id="username" type="text" autocomplete="username" placeholder="usually your email address"></label>
    <label>Password <input id="password" type="password" autocomplete="current-password" required></label>
    <fieldset>
      <legend>Server</legend>
      <label>IMAP host <input id="host" type="text" required></label>
      <label>Port <input id="port" type="number" min="1" max="65535" value="993" required></label>
      <label class="inline"><input id="tls" type="checkbox" checked> TLS (recommended)</label>
    </fieldset>
    <button id="submit" type="submit">Link mailbox</button>
    <p id="result" role="status" aria-live="polite"></p>
  </form>

  <section id="accounts-section">
    <h2>Linked mailboxes</h2>
    <table id="accounts"><thead><tr><th>Mailbox</th><th>Status</th><th>Last event</th><th></th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

export const LINK_PAGE_CSS = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0; } .lead { margin-top: .25rem; color: #4a5365; }
section, form { background: #fff; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; box-shadow: 0 1px 2px #0001; }
label { display: block; margin: .5rem 0; } label.inline { display: flex; gap: .5rem; align-items: center; }
input[type=text], input[type=email], input[type=password], input[type=number], select { display: block; width: 100%; box-sizing: border-box; padding: .45rem; font: inherit; margin-top: .2rem; }
fieldset { border: 1px solid #d8dce3; border-radius: 6px; margin: .75rem 0; }
button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 6px; background: #2457d6; color: #fff; cursor: pointer; }
button:disabled { opacity: .6; cursor: wait; } button.link { background: none; color: #b3261e; padding: 0; }
.hint { color: #5b6475; font-size: .9rem; } .ok { color: #1b7a3d; } .err { color: #b3261e; }
table { width: 100%; border-collapse: collapse; } td, th { text-align: left; padding: .3rem; border-bottom: 1px solid #eceef2; font-size: .95rem; }
`;

export const LINK_PAGE_JS = `'use strict';
(function () {
  var PRESETS = {
    gmail: { host: 'imap.gmail.com', hint: 'Gmail needs 2-step verification and an app password (Google Account → Security → App passwords).' },
    outlook: { host: 'outlook.office365.com', hint: 'Microsoft 365 accounts usually require OAuth; a password works only where IMAP basic auth is still enabled.' },
    yahoo: { host: 'imap.mail.yahoo.com', hint: 'Yahoo needs an app password (Account security → Generate app password).' },
    icloud: { host: 'imap.mail.me.com', hint: 'iCloud needs an app-specific password (appleid.apple.com → Sign-In and Security).' },
    fastmail: { host: 'imap.fastmail.com', hint: 'Fastmail needs an app password (Settings → Privacy & Security → App passwords).' },
    other: { host: '', hint: 'Your provider documents its IMAP server name; port 993 with TLS is the usual setting.' }
  };
  var HELP = {
    auth_failed: 'The server rejected the username or password. Many providers need an app password instead of your normal one.',
    connect_failed: 'Could not reach the mail server. Check the host name and port.',
    tls_failed: 'The secure connection to the mail server failed. Check the port (993 for TLS) and the TLS setting.',
    timeout: 'The mail server did not answer in time. Try again in a moment.',
    host_not_found: 'That host name does not exist. Check the IMAP host.',
    host_not_allowed: 'That server is on a private network, which this relay does not allow.',
    rate_limited: 'The mail server asked us to slow down. Try again in a few minutes.',
    unauthorized: 'The API key is missing or wrong.',
    link_expired: 'This link is unknown, already used or expired. Ask the app for a new one.'
  };
  var $ = function (id) { return document.getElementById(id); };
  var keyInput = $('api-key');
  // Opened from an app's one-time link (/link#mpl_…): no API key, just this mailbox.
  var onLinkPage = location.pathname === '/link';
  var linkToken = onLinkPage && /^#mpl_[A-Za-z0-9_-]{20,200}$/.test(location.hash) ? location.hash.slice(1) : null;
  if (onLinkPage) {
    $('key-section').hidden = true;
    $('accounts-section').hidden = true;
    var expired = function () {
      show('This link is unknown, already used or expired. Ask the app for a new one.', 'err');
      $('submit').disabled = true;
    };
    if (!linkToken) expired();
    else fetch('/v1/link-session', { headers: { authorization: 'Bearer ' + linkToken } }).then(function (res) { if (res.status !== 200) expired(); });
  }
  keyInput.value = sessionStorage.getItem('mailpush.apiKey') || '';
  keyInput.addEventListener('change', function () { sessionStorage.setItem('mailpush.apiKey', keyInput.value.trim()); refresh(); });
  function credential() { return linkToken || keyInput.value.trim(); }

  function applyPreset() {
    var p = PRESETS[$('provider').value];
    $('provider-hint').textContent = p.hint;
    if (p.host) { $('host').value = p.host; $('port').value = 993; $('tls').checked = true; }
  }
  $('provider').addEventListener('change', applyPreset);
  applyPreset();

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: Object.assign({ authorization: 'Bearer ' + credential() }, body ? { 'content-type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined
    }).then(function (res) {
      return res.text().then(function (text) { return { status: res.status, body: text ? JSON.parse(text) : {} }; });
    });
  }

  function show(text, cls) { var r = $('result'); r.textContent = text; r.className = cls; }

  $('link-form').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!credential()) { show('Enter your API key first.', 'err'); keyInput.focus(); return; }
    var email = $('email').value.trim();
    var body = {
      email: email,
      provider: 'imap',
      imap: { host: $('host').value.trim(), port: Number($('port').value), tls: $('tls').checked },
      auth: { type: 'password', username: $('username').value.trim() || email, password: $('password').value }
    };
    $('submit').disabled = true;
    show('Checking your login with the mail server…', '');
    api('POST', linkToken ? '/v1/link-session/accounts' : '/v1/accounts', body).then(function (res) {
      if (res.status === 201) {
        $('password').value = '';
        if (linkToken) {
          show('Linked ' + res.body.email + '. You can close this page and go back to the app.', 'ok');
          linkToken = null;
          history.replaceState(null, '', '/link');
          $('submit').hidden = true;
          return;
        }
        show('Linked ' + res.body.email + '. New mail will now reach your devices.', 'ok');
        refresh();
      } else {
        var e = res.body.error || {};
        show((HELP[e.code] || e.message || 'Linking failed.') + (e.code ? ' (' + e.code + ')' : ''), 'err');
      }
    }).catch(function () { show('Could not reach mailpush. Is it running?', 'err'); })
      .finally(function () { $('submit').disabled = false; });
  });

  function refresh() {
    if (onLinkPage || !keyInput.value.trim()) return;
    api('GET', '/v1/accounts').then(function (res) {
      var tbody = document.querySelector('#accounts tbody');
      tbody.textContent = '';
      (res.body.accounts || []).forEach(function (a) {
        var tr = document.createElement('tr');
        tr.dataset.id = a.id;
        [a.email, a.status + (a.lastError ? ' — ' + a.lastError : ''), a.lastEventAt ? new Date(a.lastEventAt).toLocaleString() : '—'].forEach(function (text) {
          var td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
        });
        var td = document.createElement('td');
        var del = document.createElement('button');
        del.className = 'link'; del.type = 'button'; del.textContent = 'Remove';
        del.addEventListener('click', function () {
          if (confirm('Stop notifications for ' + a.email + ' and erase its password?')) api('DELETE', '/v1/accounts/' + a.id).then(refresh);
        });
        td.appendChild(del); tr.appendChild(td);
        tbody.appendChild(tr);
      });
    });
  }
  refresh();
  setInterval(refresh, 5000);
})();
`;
