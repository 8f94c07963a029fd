/*
 * Depot dashboard: plain JavaScript, no framework, no build step.
 *
 * Everything comes from the hub's API (/api/v1/) with the bearer token the
 * user pasted (kept in sessionStorage: gone when the tab closes). What the
 * page offers follows GET /api/v1/me: a viewer sees, an approver also
 * acknowledges and resolves alerts and approves or rejects the orders at
 * its stages, an admin acts everywhere. The hub checks every action again.
 *
 * Live data is polled: /api/v1/stock?since=<last received_at> every 2 s
 * (changed cells are updated in place and flash), the whole stock every
 * 60 s (staleness changes without a new value) page by page
 * (STOCK_PAGE_ROWS rows, each after the X-Next-After of the page before; the
 * matrix shows the first page at once and grows with the others), alerts and orders every
 * 5 s, the leaderboard every 60 s. A section whose endpoint fails says
 * "unavailable" and keeps trying; the rest of the page goes on.
 *
 * The matrix is built as one HTML string per render (one innerHTML, no
 * per-cell layout), a page of dealers at a time; a value that changes
 * touches only its cell. Every text from the API is escaped.
 */
'use strict';

(function () {
  const STOCK_POLL_MS = 2000;
  const STOCK_PAGE_ROWS = 5000;
  const FULL_STOCK_MS = 60000;
  const LIST_POLL_MS = 5000;
  const RANKING_POLL_MS = 60000;
  const SINCE_OVERLAP_MS = 5000; /* rows committed a little after their received_at */
  const SEP = '|'; /* dealer and SKU ids are [A-Za-z0-9_.-] */
  const KIND_NAMES = {
    low_stock: 'Low stock', stockout_forecast: 'Stock-out forecast', sales_spike: 'Sales spike',
    gateway_offline: 'Gateway offline', node_fault: 'Node fault', shrinkage: 'Shrinkage',
    contract_expiring: 'Contract expiring', outbox_filling: 'Outbox filling',
    task_overdue: 'Task overdue',
    ledger_break: 'Ledger break',
    diversion: 'Diversion',
    double_pick: 'Picked twice',
  };
  const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };
  const KPI_NAMES = [['sales', 'Sales'], ['collection', 'Collection'], ['penetration', 'Penetration'],
    ['accuracy', 'Accuracy'], ['freshness', 'Freshness'], ['tasks', 'Tasks']];

  const $ = (id) => document.getElementById(id);

  const state = {
    token: null, me: null, gen: 0, timers: [],
    catalog: new Map(), /* sku -> catalog item */
    stock: new Map(), /* dealer|sku -> row (+ fetched: ms) */
    dealers: [], skus: [], dealerRegion: new Map(), dealerName: new Map(), regions: [], profilesAsked: false,
    stockLoaded: false, lastReceived: 0, sinceWorks: null, lastFull: 0,
    page: 0, rowOf: new Map(), colOf: new Map(), matrixMarked: false,
    alertsSig: '', ordersSig: '', rankingSig: '', rejecting: null, chartKey: null,
    trainingItem: null, trainingReported: 0, /* the item open in the portal */
  };

  /* ---------- helpers ---------- */

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, (c) => (
      { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  function fmtAgo(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    if (s < 86400 * 2) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }

  function since(iso) {
    const t = typeof iso === 'number' ? iso : Date.parse(iso);
    return isFinite(t) ? fmtAgo(Date.now() - t) + ' ago' : '';
  }

  function fmtMoney(v) {
    const n = Number(v);
    return isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '–';
  }

  function fmtNum(v, digits) {
    const n = Number(v);
    return v == null || !isFinite(n) ? '–' : n.toLocaleString('en', { maximumFractionDigits: digits || 0 });
  }

  function fmtScore(v) {
    const n = Number(v);
    return v == null || !isFinite(n) ? '–' : n.toFixed(2);
  }

  function fmtPct(v) {
    const n = Number(v);
    if (v == null || !isFinite(n)) return '–';
    return (n <= 1.0001 ? n * 100 : n).toLocaleString('en', { maximumFractionDigits: 1 }) + ' %';
  }

  function ms(v) {
    if (typeof v === 'number') return v;
    const t = Date.parse(v);
    return isFinite(t) ? t : 0;
  }

  function toast(text, err) {
    const el = document.createElement('div');
    el.className = 'toast' + (err ? ' err' : '');
    el.textContent = text;
    $('toasts').appendChild(el);
    setTimeout(() => el.remove(), err ? 7000 : 4000);
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  /* The JSON of path, and the X-Next-After header of a page of a list (null if none). */
  async function apiPage(path) {
    const o = { page: true };
    const data = await api(path, o);
    return { rows: data, next: o.next };
  }

  async function api(path, opts) {
    const o = opts || {};
    const headers = { Authorization: 'Bearer ' + state.token };
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch('/api/v1/' + path, {
        method: o.method || 'GET', headers, cache: 'no-store',
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
      });
    } catch (e) {
      throw new ApiError(0, 'the hub cannot be reached');
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && !o.signingIn) {
      signOut('The hub no longer accepts this token. Sign in again.');
      throw new ApiError(401, 'signed out');
    }
    if (!res.ok) throw new ApiError(res.status, (data && data.error) || res.statusText || 'error');
    if (o.page) o.next = res.headers.get('X-Next-After');
    return data;
  }

  function sectionState(id, err) {
    const el = $(id);
    if (!err) {
      el.textContent = '';
      el.classList.remove('bad');
      return;
    }
    el.textContent = err.status === 404 ? 'unavailable' : 'unavailable: ' + err.message;
    el.classList.add('bad');
  }

  function canAct() {
    return state.me && (state.me.role === 'approver' || state.me.role === 'admin');
  }

  /* A loop that runs fn now and then every periodMs until the user signs out. */
  function every(periodMs, fn) {
    const gen = state.gen;
    const tick = async () => {
      if (gen !== state.gen) return;
      try { await fn(); } catch (e) { /* each fn reports its own failure */ }
      if (gen === state.gen) state.timers.push(setTimeout(tick, periodMs));
    };
    tick();
  }

  /* ---------- sign in / out ---------- */

  async function signIn(token, fromStorage) {
    state.token = token;
    try {
      state.me = await api('me', { signingIn: true });
    } catch (e) {
      state.token = null;
      if (fromStorage) sessionStorage.removeItem('depot.token');
      showLogin(e.status === 401 ? 'The hub does not know this token.'
        : e.status === 0 ? 'The hub cannot be reached.' : 'Sign-in failed: ' + e.message);
      return;
    }
    sessionStorage.setItem('depot.token', token);
    startApp();
  }

  /* A user's login: its session token, then signIn. */
  async function logIn(user, password) {
    let res, data = null;
    try {
      res = await fetch('/api/v1/login', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, cache: 'no-store',
        body: JSON.stringify({ user, password }),
      });
    } catch (e) {
      showLogin('The hub cannot be reached.');
      return;
    }
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 429) {
      const min = Math.max(1, Math.ceil(((data && data.retry_after_s) || 60) / 60));
      showLogin('Too many failed sign-ins: try again in ' + min + ' min.');
    } else if (res.status === 401) {
      showLogin('Wrong user or password.');
    } else if (!res.ok || !data || !data.token) {
      showLogin('Sign-in failed: ' + ((data && data.error) || res.statusText || res.status));
    } else {
      signIn(data.token, false);
    }
  }

  function signOut(message) {
    if (state.token && state.token.startsWith('dps_')) { /* end the session at the hub too */
      fetch('/api/v1/logout', {
        method: 'POST', headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': 'application/json' },
        body: '{}', keepalive: true,
      }).catch(() => {});
    }
    state.gen++;
    state.timers.forEach(clearTimeout);
    state.timers = [];
    sessionStorage.removeItem('depot.token');
    state.token = null;
    state.me = null;
    resetData();
    closeTraining();
    document.querySelectorAll('dialog[open]').forEach((d) => d.close());
    $('toasts').innerHTML = ''; /* the last user's notes are not the next one's */
    showLogin(message || '');
  }

  function resetData() {
    Object.assign(state, {
      catalog: new Map(), stock: new Map(), dealers: [], skus: [], dealerRegion: new Map(),
      dealerName: new Map(), regions: [], profilesAsked: false, stockLoaded: false, lastReceived: 0, sinceWorks: null, lastFull: 0, page: 0,
      rowOf: new Map(), colOf: new Map(), alertsSig: '', ordersSig: '', rankingSig: '', statementsKey: '',
    });
  }

  function showLogin(message) {
    $('app-view').hidden = true;
    $('portal-view').hidden = true;
    $('session').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    $('token').value = '';
    $('password').value = '';
    $('user').focus();
  }

  function startApp() {
    const me = state.me;
    if (me.role === 'dealer') { startPortal(); return; }
    $('live').hidden = false;
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('session').hidden = false;
    const stages = me.role === 'admin' ? 'all stages'
      : me.role === 'approver' ? (me.stages || []).join(', ') || 'no stage' : 'read only';
    $('who').innerHTML = '<span class="who-role">Signed in as </span><b>' + esc(me.name) + '</b><span class="who-role"> · ' + esc(me.role) + ' (' + esc(stages) + ')</span>';
    $('orders-title').textContent = canAct() ? 'Orders waiting for you' : 'Pending orders';
    state.gen++;
    resetData();
    every(STOCK_POLL_MS, pollStock);
    every(LIST_POLL_MS, loadAlerts);
    every(LIST_POLL_MS, loadOrders);
    every(RANKING_POLL_MS, loadRanking);
    every(LIST_POLL_MS, loadPolicies);
    every(LIST_POLL_MS, loadTasks);
    every(LIST_POLL_MS, loadTraining);
  }

  /* ---------- the dealer portal: a dealer's user sees its own dealer ---------- */

  function startPortal() {
    const me = state.me;
    $('login-view').hidden = true;
    $('app-view').hidden = true;
    $('portal-view').hidden = false;
    $('session').hidden = false;
    $('live').hidden = true; /* the portal's lists poll; no live stock feed to show */
    $('who').innerHTML = '<span class="who-role">Signed in as </span><b>' + esc(me.name) + '</b> · <span class="who-role">dealer </span><b>' + esc(me.dealer) + '</b>';
    state.gen++;
    resetData();
    every(LIST_POLL_MS, loadPortalAlerts);
    every(LIST_POLL_MS, loadPortalStock);
    every(LIST_POLL_MS, loadPortalOrders);
    every(LIST_POLL_MS, loadPortalPolicies);
    every(LIST_POLL_MS, loadPortalTasks);
    every(LIST_POLL_MS, loadPortalContracts);
    every(LIST_POLL_MS, loadPortalTraining);
    every(LIST_POLL_MS, loadPortalStatements);
    every(RANKING_POLL_MS, loadPortalRank);
  }

  /* One portal list: fetch, then its items' HTML into listId (a placeholder when none). */
  async function portalList(stateId, listId, fetchRows, itemHtml, none) {
    let rows;
    try {
      rows = await fetchRows();
    } catch (e) {
      if (e.status === 401) return null;
      sectionState(stateId, e);
      return null;
    }
    sectionState(stateId, null);
    $(listId).innerHTML = rows.length ? rows.map(itemHtml).join('') : '<li class="placeholder">' + esc(none) + '</li>';
    return rows;
  }

  async function loadPortalAlerts() {
    const rows = await portalList('p-alerts-state', 'p-alert-list', async () => {
      const [open, acked] = await Promise.all([api('alerts?status=open&limit=200'), api('alerts?status=acknowledged&limit=200')]);
      return open.concat(acked).sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3)
        || ms(b.updated_at) - ms(a.updated_at));
    }, alertHtml, 'No alerts. Everything is in order.');
    if (rows) $('p-nav-alerts').textContent = rows.length ? String(rows.length) : '';
  }

  function portalStockHtml(r) {
    const cover = r.days_of_cover == null ? 'cover unknown' : fmtNum(r.days_of_cover, 1) + ' days of cover';
    const lt = leadTime(r.sku);
    return '<li class="p-item" data-sku="' + esc(r.sku) + '"><span class="grow title">' + esc(r.sku) + '</span>'
      + '<span class="qty"><b>' + fmtNum(r.qty) + '</b> units</span>'
      + '<span class="badge ' + coverClass(r) + '">' + cover + (lt != null ? ' · delivery ' + lt + ' d' : '') + '</span>'
      + (r.stale ? '<span class="meta stale-note">not current: ' + esc(r.stale_reason || 'no recent data') + '</span>' : '')
      + '</li>';
  }

  async function loadPortalStock() {
    if (!state.catalog.size) await loadCatalog().catch(() => {});
    await portalList('p-stock-state', 'p-stock-list', () => api('stock'), portalStockHtml,
      'No stock reported yet by your warehouse.');
  }

  function portalOrderHtml(o) {
    const where = o.status === 'pending' ? 'waiting at <b>' + esc(o.stage) + '</b> since ' + since(o.stage_since)
      : esc(o.status) + (o.decided_at ? ' ' + since(o.decided_at) : '') + (o.reason ? ': ' + esc(o.reason) : '');
    return '<li class="p-item order st-' + esc(o.status) + '" data-order="' + esc(o.order) + '">'
      + '<span class="grow title">Order ' + esc(o.number) + '</span><span class="amount">' + fmtMoney(o.total) + '</span>'
      + '<span class="meta">' + where + ' · sent ' + since(o.created) + '</span></li>';
  }

  async function loadPortalOrders() {
    await portalList('p-orders-state', 'p-order-list', () => api('orders?limit=50'), portalOrderHtml,
      'No orders yet.');
  }

  function portalPolicyHtml(p) {
    const r = p.reach || {};
    const acked = !!r.acked_at;
    return '<li class="p-item policy' + (acked ? ' acked' : '') + '" data-policy="' + esc(p.policy) + '">'
      + '<span class="grow title">' + esc(p.title) + '</span><span class="meta">valid ' + esc(p.valid_from) + ' to ' + esc(p.valid_to) + '</span>'
      + (p.body ? '<div class="policy-body">' + esc(p.body) + '</div>' : '')
      + '<span class="meta">' + (acked ? 'acknowledged ' + since(r.acked_at) + (r.acked_via ? ' at the ' + esc(r.acked_via) : '') : 'not acknowledged yet') + '</span>'
      + (acked ? '' : '<button type="button" class="btn btn-ok btn-sm" data-policy-ack="' + esc(p.policy) + '">Acknowledge</button>')
      + '</li>';
  }

  async function loadPortalPolicies() {
    const rows = await portalList('p-policies-state', 'p-policy-list', () => api('policies'), portalPolicyHtml,
      'No policies or promotions for you right now.');
    if (!rows) return;
    $('p-nav-policies').textContent = String(rows.filter((p) => !(p.reach || {}).acked_at).length || '');
    for (const p of rows) /* shown in the portal: seen, once (the hub keeps the first time) */
      if (p.reach && !p.reach.seen_at) api('policies/' + encodeURIComponent(p.policy) + '/seen', { method: 'POST', body: {} }).catch(() => {});
  }

  async function policyAck(id, btn) {
    btn.disabled = true;
    try {
      await api('policies/' + encodeURIComponent(id) + '/ack', { method: 'POST', body: {} });
      toast('Acknowledged. Your terminals stop showing it.');
      loadPortalPolicies();
    } catch (e) {
      btn.disabled = false;
      if (e.status !== 401) toast('Not acknowledged: ' + e.message, true);
    }
  }

  /* ---------- contracts: read here, signed at the terminal ---------- */

  const CONTRACT_STATE = { 'to sign': 'c-a', signed: 'c-g', 'in effect': 'c-g', ended: '' };

  function portalContractHtml(c) {
    const terms = [c.credit_limit != null ? 'credit limit ' + fmtMoney(c.credit_limit) : '', c.tier ? 'tier ' + esc(c.tier) : '']
      .filter(Boolean).join(' · ');
    return '<li class="p-item contract" data-contract="' + esc(c.id) + '">'
      + '<span class="grow title">' + esc(c.title) + '</span>'
      + '<span class="badge ' + (CONTRACT_STATE[c.state] || '') + '">' + esc(c.state) + '</span>'
      + '<span class="meta">' + esc(c.start) + ' to ' + esc(c.end) + (terms ? ' · ' + terms : '') + '</span>'
      + (c.state === 'to sign' ? '<span class="meta sign-code">To sign: scan <b>' + esc(c.sign_code) + '</b> at your terminal</span>'
        : c.signed_at ? '<span class="meta">signed ' + since(c.signed_at) + (c.countersigned ? ', countersigned by the manufacturer' : '') + '</span>' : '')
      + '<span class="meta sha" data-sha="' + esc(c.sha256) + '">SHA-256 ' + esc(c.sha256.slice(0, 16)) + '…</span>'
      + '<button type="button" class="btn btn-sm" data-contract-read="' + esc(c.id) + '">Read it</button>'
      + '</li>';
  }

  async function loadPortalContracts() {
    const rows = await portalList('p-contracts-state', 'p-contract-list', () => api('contracts'), portalContractHtml,
      'No contracts for you right now.');
    if (rows) $('p-nav-contracts').textContent = String(rows.filter((c) => c.state === 'to sign').length || '');
  }

  /* The file's exact bytes, fetched with the session; its SHA-256 computed here, so the dealer
   * sees that what it reads is what its gateway signs. */
  async function contractRead(id, btn) {
    btn.disabled = true;
    try {
      const res = await fetch('/api/v1/contracts/' + encodeURIComponent(id) + '/file', {
        headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store',
      });
      if (!res.ok) throw new ApiError(res.status, res.statusText);
      const blob = await res.blob();
      const li = btn.closest('li');
      const shaEl = li.querySelector('.sha');
      if (crypto.subtle) {
        const hex = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())))
          .map((b) => b.toString(16).padStart(2, '0')).join('');
        const same = hex === shaEl.dataset.sha;
        shaEl.textContent = 'SHA-256 ' + hex.slice(0, 16) + '… ' + (same ? '(checked: the file you read is the one you sign)' : '(DOES NOT MATCH)');
        shaEl.classList.add(same ? 'sha-ok' : 'sha-bad');
      }
      window.open(URL.createObjectURL(blob), '_blank');
    } catch (e) {
      if (e.status !== 401) toast('Cannot open the contract: ' + e.message, true);
    } finally {
      btn.disabled = false;
    }
  }

  /* ---------- rebate statements: frozen at a month's close, downloaded, disputed ---------- */

  function portalStatementHtml(s) {
    return '<li class="p-item statement" data-statement="' + esc(s.id) + '" data-period="' + esc(s.period) + '">'
      + '<span class="grow title">' + esc(s.period) + '</span><span class="amount">rebate ' + esc(s.rebate) + '</span>'
      + '<span class="meta">rank ' + esc(s.rank) + ' of ' + esc(s.of) + ' · score ' + fmtNum(s.score, 3)
      + ' · sales ' + esc(s.sales) + ' · closed ' + since(s.created_at) + '</span>'
      + '<button type="button" class="btn btn-sm" data-statement-get="csv">CSV</button>'
      + '<button type="button" class="btn btn-sm" data-statement-get="pdf">PDF</button>'
      + '<button type="button" class="btn btn-sm" data-statement-open>Lines and disputes</button>'
      + '<div class="statement-detail meta" hidden></div></li>';
  }

  /* Re-rendered only when the list changes: an open statement (a dispute being typed) stays. */
  async function loadPortalStatements() {
    let rows;
    try {
      rows = await api('statements');
    } catch (e) {
      if (e.status !== 401) sectionState('p-statements-state', e);
      return;
    }
    sectionState('p-statements-state', null);
    const key = rows.map((s) => s.id).join(',');
    if (key === state.statementsKey) return;
    state.statementsKey = key;
    $('p-statement-list').innerHTML = rows.length ? rows.map(portalStatementHtml).join('')
      : '<li class="placeholder">No statements yet: one comes when a month closes.</li>';
  }

  /* The CSV or PDF, fetched with the session and saved by the browser. */
  async function statementDownload(li, kind, btn) {
    btn.disabled = true;
    try {
      const res = await fetch('/api/v1/statements/' + encodeURIComponent(li.dataset.statement) + '/' + kind, {
        headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store',
      });
      if (!res.ok) throw new ApiError(res.status, res.statusText);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(await res.blob());
      a.download = 'statement-' + li.dataset.period + '.' + kind;
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch (e) {
      if (e.status !== 401) toast('Cannot download the statement: ' + e.message, true);
    } finally {
      btn.disabled = false;
    }
  }

  function disputeHtml(d) {
    return '<li class="dispute" data-dispute="' + esc(d.id) + '"><b>' + esc(d.line) + '</b>: ' + esc(d.text)
      + ' <span class="badge ' + (d.state === 'open' ? 'c-a' : 'c-g') + '">' + esc(d.state) + '</span>'
      + (d.answer ? '<br>Answer (' + esc(d.answered_by) + '): ' + esc(d.answer) : '') + '</li>';
  }

  /* Its lines (to pick one to dispute) and its disputes with their answers. */
  async function statementOpen(li) {
    const box = li.querySelector('.statement-detail');
    try {
      const st = await api('statements/' + encodeURIComponent(li.dataset.statement));
      const lines = st.statement.lines.map((l) => '<option value="' + esc(l.key) + '">' + esc(l.section) + ': ' + esc(l.item)
        + (l.amount ? ' = ' + esc(l.amount) : l.value ? ' ' + esc(l.value) : '') + '</option>').join('');
      box.innerHTML = '<ul class="disputes">' + st.disputes.map(disputeHtml).join('') + '</ul>'
        + '<form class="dispute-form"><label>Line <select name="line">' + lines + '</select></label>'
        + '<label>What is wrong <textarea name="text" maxlength="1000" required></textarea></label>'
        + '<button type="submit" class="btn btn-sm">Open a dispute</button></form>';
      box.hidden = false;
    } catch (e) {
      if (e.status !== 401) toast('Cannot open the statement: ' + e.message, true);
    }
  }

  async function disputeOpen(li, form) {
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      await api('statements/' + encodeURIComponent(li.dataset.statement) + '/disputes', {
        method: 'POST', body: { line: form.line.value, text: form.text.value },
      });
      toast('Dispute opened. The manufacturer answers it here.');
      await statementOpen(li);
    } catch (e) {
      btn.disabled = false;
      if (e.status !== 401) toast('Not opened: ' + e.message, true);
    }
  }

  /* ---------- tasks ---------- */

  const TASK_STATE = { open: 'c-a', overdue: 'c-r', done: 'c-g', 'done late': 'c-a' };

  function taskRule(t) {
    return t.rule === 'count' ? 'done when you count ' + esc(t.skus.split(',').join(', ')) + ' at your terminal'
      : t.rule === 'stock' ? 'done when your stock of ' + esc(t.skus) + ' is ' + fmtNum(t.level) + ' or more'
        : t.photo ? 'confirm it here with a photo' : 'confirm it here';
  }

  function portalTaskHtml(t) {
    const r = t.reach || {};
    const done = !!r.done_at;
    const how = done ? 'done ' + since(r.done_at) + (r.done_via === 'data' ? ' (seen in your data)' : ' by ' + esc(r.done_by))
      : t.rule === 'count' && r.counted ? 'counted so far: ' + esc(r.counted.split(',').join(', ')) : taskRule(t);
    return '<li class="p-item task" data-task="' + esc(t.task) + '">'
      + '<span class="grow title">' + esc(t.title) + '</span>'
      + '<span class="badge ' + (TASK_STATE[r.state] || '') + '">' + esc(r.state || '') + '</span>'
      + '<span class="meta">due ' + esc(t.due) + ' · ' + how + '</span>'
      + (t.body ? '<div class="policy-body">' + esc(t.body) + '</div>' : '')
      + (!done && t.rule === 'confirm' ? '<button type="button" class="btn btn-ok btn-sm" data-task-done="' + esc(t.task)
        + '" data-task-photo="' + (t.photo ? '1' : '') + '">' + (t.photo ? 'Take a photo and confirm' : 'Confirm done') + '</button>' : '')
      + '</li>';
  }

  async function loadPortalTasks() {
    const rows = await portalList('p-tasks-state', 'p-task-list', () => api('tasks'), portalTaskHtml,
      'No tasks for you right now.');
    if (rows) $('p-nav-tasks').textContent = String(rows.filter((t) => !(t.reach || {}).done_at).length || '');
  }

  /* A confirmation: JSON, or the photo itself as the body with its own type (the hub checks it). */
  async function taskDone(id, file, btn) {
    btn.disabled = true;
    try {
      if (file) {
        const res = await fetch('/api/v1/tasks/' + encodeURIComponent(id) + '/done', {
          method: 'POST', headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': file.type || 'application/octet-stream' },
          body: file, cache: 'no-store',
        });
        if (!res.ok) {
          let msg = res.statusText;
          try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
          throw new ApiError(res.status, msg);
        }
      } else {
        await api('tasks/' + encodeURIComponent(id) + '/done', { method: 'POST', body: {} });
      }
      toast('Done. Thank you.');
      loadPortalTasks();
    } catch (e) {
      btn.disabled = false;
      if (e.status !== 401) toast('Not confirmed: ' + e.message, true);
    }
  }

  function taskHtml(t) {
    const p = t.progress || {};
    return '<li class="p-item task" data-task="' + esc(t.task) + '"><span class="grow title">' + esc(t.title) + '</span>'
      + '<span class="badge ' + (p.done_pct >= 90 ? 'c-g' : p.done_pct >= 50 ? 'c-a' : 'c-r') + '">' + fmtNum(p.done_pct, 1) + ' % done</span>'
      + '<span class="meta">due ' + esc(t.due) + ' · ' + esc(t.rule) + (t.skus ? ' ' + esc(t.skus) : '') + ' · ' + fmtNum(p.targets) + ' dealers · '
      + fmtNum(p.done) + ' done (' + fmtNum(p.done_on_time) + ' on time) · ' + fmtNum(p.overdue) + ' overdue</span></li>';
  }

  async function loadTasks() {
    let rows;
    try {
      rows = await api('tasks');
    } catch (e) {
      if (e.status !== 401) sectionState('tasks-state', e);
      return;
    }
    sectionState('tasks-state', null);
    $('task-list').innerHTML = rows.length ? rows.map(taskHtml).join('') : '<li class="placeholder">No tasks given yet.</li>';
  }

  /* ---------- training material ---------- */

  const PROGRESS_EVERY_S = 15; /* a video's position is reported at most this often */

  function portalTrainingHtml(t) {
    const st = t.state || {};
    const mine = t.mine || {};
    const badge = st.completed ? '<span class="badge c-g">completed</span>'
      : st.viewed ? '<span class="badge c-a">started</span>' : '<span class="badge c-r">new</span>';
    const how = mine.completed ? 'you completed it ' + since(mine.completed_at)
      : st.completed ? 'completed at your dealer ' + since(st.completed_at)
        : mine.first_viewed ? 'you opened it ' + since(mine.last_viewed) : 'not opened yet';
    return '<li class="p-item training" data-training="' + esc(t.item) + '">'
      + '<span class="grow title">' + esc(t.title) + '</span>' + badge
      + '<span class="meta">' + (t.kind === 'video' ? 'video' : 'document') + ' · ' + fmtNum(Math.round(t.size / 1024)) + ' KiB · ' + how + '</span>'
      + (t.description ? '<div class="policy-body">' + esc(t.description) + '</div>' : '')
      + '<button type="button" class="btn btn-sm" data-training-open="' + esc(t.item) + '" data-kind="' + esc(t.kind)
      + '" data-title="' + esc(t.title) + '">' + (t.kind === 'video' ? 'Watch' : 'Read') + '</button>'
      + (!mine.completed ? ' <button type="button" class="btn btn-ok btn-sm" data-training-done="' + esc(t.item) + '">Mark as done</button>' : '')
      + '</li>';
  }

  async function loadPortalTraining() {
    const rows = await portalList('p-training-state', 'p-training-list', () => api('training'), portalTrainingHtml,
      'No training material for you right now.');
    if (rows) $('p-nav-training').textContent = String(rows.filter((t) => !(t.mine || {}).completed).length || '');
  }

  function trainingProgress(id, position) {
    return api('training/' + encodeURIComponent(id) + '/progress', { method: 'POST', body: { position: Math.floor(position) } });
  }

  /* Opens an item: a signed link to its file (a <video> or a link cannot send the session's
   * token) goes to the player, which fetches ranges as it plays and seeks; the view is
   * reported, and a video's position as it plays. */
  async function trainingOpen(btn) {
    const id = btn.dataset.trainingOpen;
    const video = $('p-training-video');
    const doc = $('p-training-doc');
    btn.disabled = true;
    try {
      const link = await api('training/' + encodeURIComponent(id) + '/link');
      state.trainingItem = id;
      state.trainingReported = 0;
      $('p-training-now').textContent = btn.dataset.title;
      video.hidden = btn.dataset.kind !== 'video';
      doc.hidden = btn.dataset.kind === 'video';
      if (btn.dataset.kind === 'video') video.src = link.url; else doc.href = link.url;
      $('p-training-player').hidden = false;
      await trainingProgress(id, 0);
      loadPortalTraining();
    } catch (e) {
      if (e.status !== 401) toast('Cannot open it: ' + e.message, true);
    } finally {
      btn.disabled = false;
    }
  }

  /* The player emptied (at sign-out: the next user does not see the last one's item). */
  function closeTraining() {
    const video = $('p-training-video');
    video.removeAttribute('src');
    video.load();
    $('p-training-doc').removeAttribute('href');
    $('p-training-player').hidden = true;
    state.trainingItem = null;
  }

  function trainingTimeUpdate() {
    const t = $('p-training-video').currentTime;
    if (!state.trainingItem || t < state.trainingReported + PROGRESS_EVERY_S) return;
    state.trainingReported = t;
    trainingProgress(state.trainingItem, t).catch(() => { /* the next report carries it */ });
  }

  async function trainingDone(id, btn) {
    btn.disabled = true;
    try {
      await api('training/' + encodeURIComponent(id) + '/done', { method: 'POST', body: {} });
      toast('Marked as done. Thank you.');
      loadPortalTraining();
    } catch (e) {
      btn.disabled = false;
      if (e.status !== 401) toast('Not marked: ' + e.message, true);
    }
  }

  function trainingHtml(t) {
    const p = t.progress || {};
    const c = t.coverage || {};
    const after = c.completed_pct_after_days || {};
    const days = ['1', '3', '7', '14', '30'].map((d) => d + ' d: ' + (after[d] == null ? '–' : fmtNum(after[d], 1) + ' %')).join(' · ');
    return '<li class="p-item training" data-training="' + esc(t.item) + '"><span class="grow title">' + esc(t.title) + '</span>'
      + '<span class="badge ' + (p.completed_pct >= 90 ? 'c-g' : p.completed_pct >= 50 ? 'c-a' : 'c-r') + '">' + fmtNum(p.completed_pct, 1) + ' % completed</span>'
      + '<span class="meta">' + esc(t.kind) + ' · ' + fmtNum(p.targets) + ' dealers · ' + fmtNum(p.viewed) + ' viewed · ' + fmtNum(p.completed) + ' completed · '
      + '90 % ' + (c.days_to_90_pct == null ? 'not yet' : 'in ' + fmtNum(c.days_to_90_pct) + ' d') + '</span>'
      + '<span class="meta coverage">' + days + '</span></li>';
  }

  async function loadTraining() {
    let rows;
    try {
      rows = await api('training');
    } catch (e) {
      if (e.status !== 401) sectionState('training-state', e);
      return;
    }
    sectionState('training-state', null);
    $('training-list').innerHTML = rows.length ? rows.map(trainingHtml).join('') : '<li class="placeholder">No training material given yet.</li>';
  }

  /* ---------- policies, the manufacturer's side ---------- */

  function policyHtml(p) {
    const c = p.coverage || {};
    const admin = state.me.role === 'admin';
    return '<li class="p-item policy" data-policy="' + esc(p.policy) + '"><span class="grow title">' + esc(p.title) + '</span>'
      + '<span class="badge ' + (c.acknowledged_pct >= 90 ? 'c-g' : c.acknowledged_pct >= 50 ? 'c-a' : 'c-r') + '">'
      + fmtNum(c.acknowledged_pct, 1) + ' % acknowledged</span>'
      + '<span class="meta">' + fmtNum(c.targets) + ' dealers · ' + fmtNum(c.delivered) + ' delivered · ' + fmtNum(c.seen) + ' seen · '
      + fmtNum(c.acknowledged) + ' acknowledged · published ' + since(p.created_at) + ' by ' + esc(p.created_by) + '</span>'
      + (admin && c.acknowledged < c.targets ? '<button type="button" class="btn btn-ghost btn-sm" data-policy-repush="' + esc(p.policy) + '">Push again to the ' + fmtNum(c.targets - c.acknowledged) + ' missing</button>' : '')
      + '</li>';
  }

  async function loadPolicies() {
    $('policy-new').hidden = state.me.role !== 'admin';
    let rows;
    try {
      rows = await api('policies');
    } catch (e) {
      if (e.status !== 401) sectionState('policies-state', e);
      return;
    }
    sectionState('policies-state', null);
    $('policy-list').innerHTML = rows.length ? rows.map(policyHtml).join('') : '<li class="placeholder">No policies published yet.</li>';
  }

  async function policyRepush(id, btn) {
    btn.disabled = true;
    try {
      const r = await api('policies/' + encodeURIComponent(id) + '/repush', { method: 'POST', body: {} });
      toast('Pushed again to ' + r.repushed + ' dealers.');
      loadPolicies();
    } catch (e) {
      btn.disabled = false;
      if (e.status !== 401) toast('Not pushed: ' + e.message, true);
    }
  }

  async function policyPublish() {
    const kind = $('pf-kind').value;
    const body = {
      title: $('pf-title').value.trim(), notice: $('pf-notice').value.trim(), body: $('pf-body').value,
      valid_from: $('pf-from').value, valid_to: $('pf-to').value,
      target: kind === 'all' ? { kind } : { kind, value: $('pf-value').value.trim() },
    };
    try {
      const r = await api('policies', { method: 'POST', body });
      $('policy-dialog').close();
      toast('Published to ' + r.targets + ' dealers.');
      loadPolicies();
    } catch (e) {
      if (e.status !== 401) $('policy-error').textContent = e.message;
    }
  }

  async function loadPortalRank() {
    let d;
    try {
      d = await api('dealers/' + encodeURIComponent(state.me.dealer) + '/kpis');
    } catch (e) {
      if (e.status === 401) return;
      $('p-rank-body').innerHTML = '<p class="placeholder">' + (e.status === 404 ? 'No ranking for this month yet.'
        : 'Unavailable: ' + esc(e.message)) + '</p>';
      return;
    }
    const rows = KPI_NAMES.map(([name, label]) => {
      const v = (d.kpis || {})[name] || {};
      return '<span>' + label + '</span><span>' + (name === 'sales' ? fmtMoney(v.value) : fmtPct(v.value))
        + '</span><span class="muted">score ' + fmtNum(v.score, 2) + '</span>';
    }).join('');
    const how = (d.how || '').split('; ').filter((x) => x).map((x) => '<li>' + esc(x) + '</li>').join('');
    $('p-rank-body').innerHTML = '<p class="p-rank">Rank <b>' + esc(d.rank) + '</b> of ' + esc(d.of) + ' · score <b>' + fmtScore(d.score)
      + '</b> · rebate <b>' + fmtNum(d.rebate_pct, 2) + ' %</b> = <b>' + fmtMoney(d.rebate) + '</b> (' + esc(d.period) + ')</p>'
      + '<div class="kpi-grid">' + rows + '</div><h3 class="small">How it was computed</h3><ol class="how-lines">' + how + '</ol>';
  }

  /* ---------- stock ---------- */

  function key(dealer, sku) { return dealer + SEP + sku; }

  function leadTime(sku) {
    const c = state.catalog.get(sku);
    return c && isFinite(Number(c.lead_time_days)) ? Number(c.lead_time_days) : null;
  }

  /* The colour class of a row: days of cover against the SKU's lead time. */
  function coverClass(r) {
    const lt = leadTime(r.sku);
    if (r.qty <= 0 && lt != null) return 'c-r'; /* nothing on hand: no cover at all */
    const d = r.days_of_cover;
    if (d == null || lt == null || !isFinite(Number(d))) return 'c-u';
    if (d < lt) return 'c-r';
    if (d < 2 * lt) return 'c-a';
    return 'c-g';
  }

  function cellClass(r) {
    return coverClass(r) + (r.stale ? ' stale' : '');
  }

  function tooltip(k) {
    const r = state.stock.get(k);
    if (!r) return '';
    const lt = leadTime(r.sku);
    const age = (r.age_s || 0) + (Date.now() - r.fetched) / 1000;
    const lines = [r.dealer + ' · ' + r.sku + ': ' + r.qty + ' units'];
    lines.push('Days of cover: ' + (r.days_of_cover == null ? 'unknown' : fmtNum(r.days_of_cover, 1))
      + (lt != null ? ' (lead time ' + lt + ' d)' : ''));
    if (r.velocity != null) lines.push('Sales: ' + fmtNum(r.velocity, 1) + ' units/day');
    lines.push('Measured ' + fmtAgo(age * 1000) + ' ago by ' + r.node);
    if (r.stale) lines.push('STALE: ' + (r.stale_reason || 'no recent data') + ' (data ' + fmtAgo(age * 1000) + ' old)');
    return lines.join('\n');
  }

  async function loadCatalog() {
    try {
      const cat = await api('catalog');
      state.catalog = new Map((cat.items || []).map((i) => [i.sku, i]));
    } catch (e) {
      if (e.status === 401) throw e;
      /* without the catalog the lead times are unknown: cells stay grey */
    }
  }

  /* Stores rows; returns {structural, changed: [keys whose value changed]}. */
  function applyRows(rows) {
    const now = Date.now();
    let structural = false;
    const changed = [];
    for (const r of rows) {
      const k = key(r.dealer, r.sku);
      const old = state.stock.get(k);
      r.fetched = now;
      r.received = ms(r.received_at);
      if (r.received > state.lastReceived) state.lastReceived = r.received;
      if (!old) {
        structural = true;
      } else if (old.qty !== r.qty || old.stale !== r.stale || old.stale_reason !== r.stale_reason
                 || old.days_of_cover !== r.days_of_cover) {
        changed.push({ k, flash: old.qty !== r.qty });
      }
      if (r.region != null && state.dealerRegion.get(r.dealer) !== r.region) {
        state.dealerRegion.set(r.dealer, r.region);
        structural = true;
      }
      state.stock.set(k, r);
    }
    return { structural, changed };
  }

  function rebuildAxes() {
    const dealers = new Set();
    const skus = new Set(state.catalog.keys());
    for (const r of state.stock.values()) {
      dealers.add(r.dealer);
      skus.add(r.sku);
    }
    state.dealers = [...dealers].sort();
    state.skus = [...skus].sort();
    const regions = [...new Set([...state.dealerRegion.values()].filter((x) => x))].sort();
    if (regions.join(SEP) !== state.regions.join(SEP)) {
      state.regions = regions;
      const sel = $('region');
      const cur = sel.value;
      sel.innerHTML = '<option value="">All regions</option>'
        + regions.map((g) => '<option>' + esc(g) + '</option>').join('');
      sel.value = regions.includes(cur) ? cur : '';
      sel.disabled = regions.length === 0;
    }
  }

  async function loadStockFull() {
    state.lastFull = Date.now();
    const first = !state.stockLoaded;
    if (first) await loadCatalog();
    let after = null;
    let firstRows = null;
    do {
      const page = await apiPage('stock?limit=' + STOCK_PAGE_ROWS
        + (after ? '&after=' + encodeURIComponent(after) : ''));
      const res = applyRows(page.rows || []);
      if (!firstRows) firstRows = page.rows || [];
      if (!state.stockLoaded || res.structural) {
        state.stockLoaded = true;
        rebuildAxes();
        renderMatrix();
      } else {
        updateCells(res.changed);
      }
      after = page.next; /* a hub that does not page sends everything and no header */
    } while (after);
    if (first && firstRows.length && !('region' in firstRows[0])) loadProfiles();
  }

  /* A hub whose stock rows carry no region: the few dealers' profiles instead (names too). */
  async function loadProfiles() {
    if (state.profilesAsked || state.dealers.length > 200) return;
    state.profilesAsked = true;
    const gen = state.gen;
    const queue = state.dealers.slice();
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
        try {
          const p = await api('dealers/' + encodeURIComponent(d));
          if (p.region) state.dealerRegion.set(d, p.region);
          if (p.name) state.dealerName.set(d, p.name);
        } catch (e) { /* a dealer without a profile keeps its id only */ }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (gen !== state.gen) return;
    rebuildAxes();
    renderMatrix();
  }

  async function pollStock() {
    try {
      if (!state.stockLoaded || Date.now() - state.lastFull >= FULL_STOCK_MS) {
        await loadStockFull();
      } else if (state.sinceWorks === false) {
        /* a hub without ?since=: the whole list, less often when it is big */
        if (Date.now() - state.lastFull >= (state.stock.size > 20000 ? 10000 : STOCK_POLL_MS)) await loadStockFull();
      } else {
        const from = Math.max(0, state.lastReceived - SINCE_OVERLAP_MS);
        const rows = await api('stock?since=' + from);
        if (rows.some((r) => r.received_at == null || ms(r.received_at) < from)) state.sinceWorks = false;
        else if (rows.length) state.sinceWorks = true;
        const res = applyRows(rows);
        if (res.structural) {
          rebuildAxes();
          renderMatrix();
        } else {
          updateCells(res.changed);
        }
      }
      sectionState('stock-state', null);
      setLive(true);
    } catch (e) {
      if (e.status === 401) return;
      setLive(false);
      sectionState('stock-state', e);
      if (!state.stockLoaded) {
        $('matrix').innerHTML = '<tbody><tr><td class="placeholder unavailable">Stock unavailable: '
          + esc(e.message) + '. Retrying…</td></tr></tbody>';
      }
    }
  }

  function setLive(ok) {
    const live = $('live');
    live.dataset.state = ok ? 'ok' : 'bad';
    $('live-text').textContent = ok ? 'Live · ' + new Date().toLocaleTimeString('en-GB') : 'Reconnecting…';
  }

  function visibleDealers() {
    const region = $('region').value;
    const text = $('dealer-filter').value.trim().toLowerCase();
    return state.dealers.filter((d) => (!region || state.dealerRegion.get(d) === region)
      && (!text || d.toLowerCase().includes(text)));
  }

  function cellHtml(dealer, sku) {
    const k = key(dealer, sku);
    const r = state.stock.get(k);
    if (!r) return '<td class="none">·</td>';
    return '<td class="' + cellClass(r) + '" data-k="' + esc(k) + '">' + r.qty + '</td>';
  }

  function renderMatrix() {
    const all = visibleDealers();
    const size = Number($('page-size').value) || 100;
    const pages = Math.max(1, Math.ceil(all.length / size));
    state.page = Math.min(state.page, pages - 1);
    const slice = all.slice(state.page * size, (state.page + 1) * size);
    const parts = ['<thead><tr><th class="corner" scope="col">Dealer</th>'];
    for (const s of state.skus) {
      const lt = leadTime(s);
      parts.push('<th scope="col" title="' + esc(s + (lt != null ? ' · lead time ' + lt + ' d' : '')) + '">' + esc(s) + '</th>');
    }
    parts.push('</tr></thead><tbody>');
    for (const d of slice) {
      const sub = [state.dealerName.get(d), state.dealerRegion.get(d)].filter((x) => x).join(' · ');
      parts.push('<tr><th scope="row">' + esc(d) + '<small>' + esc(sub) + '</small></th>');
      for (const s of state.skus) parts.push(cellHtml(d, s));
      parts.push('</tr>');
    }
    if (!slice.length) {
      parts.push('<tr><td class="placeholder" colspan="' + (state.skus.length + 1) + '">'
        + (state.dealers.length ? 'No dealer matches the filter.' : 'No stock reported yet.') + '</td></tr>');
    }
    parts.push('</tbody>');
    const table = $('matrix');
    table.innerHTML = parts.join('');
    state.rowOf = new Map();
    const trs = table.tBodies[0].rows;
    slice.forEach((d, i) => state.rowOf.set(d, trs[i]));
    state.colOf = new Map(state.skus.map((s, j) => [s, j + 1]));
    renderPager(all.length, size, pages);
    if (!state.matrixMarked) {
      state.matrixMarked = true;
      performance.mark('matrix-ready');
      document.body.dataset.matrix = 'ready';
    }
  }

  function renderPager(n, size, pages) {
    const p = state.page;
    const from = n ? p * size + 1 : 0;
    const to = Math.min(n, (p + 1) * size);
    $('pager').innerHTML = '<span>Dealers ' + from.toLocaleString('en') + '–' + to.toLocaleString('en') + ' of '
      + n.toLocaleString('en') + ' · ' + state.skus.length + ' SKUs</span>'
      + (pages > 1 ? '<button type="button" class="btn btn-ghost btn-sm" data-page="-1"' + (p === 0 ? ' disabled' : '') + '>‹ Previous</button>'
        + '<button type="button" class="btn btn-ghost btn-sm" data-page="1"' + (p >= pages - 1 ? ' disabled' : '') + '>Next ›</button>' : '');
  }

  function cellOf(k) {
    const i = k.indexOf(SEP);
    const tr = state.rowOf.get(k.slice(0, i));
    const j = state.colOf.get(k.slice(i + 1));
    return tr && j ? tr.cells[j] : null;
  }

  function updateCells(changed) {
    for (const { k, flash } of changed) {
      const td = cellOf(k);
      const r = state.stock.get(k);
      if (!td || !r) continue;
      td.textContent = r.qty;
      td.className = cellClass(r);
      if (td.title) td.title = tooltip(k);
      if (flash) {
        td.classList.remove('flash');
        requestAnimationFrame(() => td.classList.add('flash'));
      }
    }
    if (state.chartKey && changed.some((c) => c.k === state.chartKey)) loadChart();
  }

  /* ---------- alerts ---------- */

  async function loadAlerts() {
    const which = $('alert-status').value;
    let list;
    try {
      if (which === 'active') {
        const [open, acked] = await Promise.all([api('alerts?status=open&limit=1000'),
                                                 api('alerts?status=acknowledged&limit=1000')]);
        list = open.concat(acked);
      } else {
        list = await api('alerts?status=' + which + '&limit=1000'); /* the newest 1,000 */
      }
    } catch (e) {
      if (e.status === 401) return;
      sectionState('alerts-state', e);
      if (!state.alertsSig) $('alert-list').innerHTML = '<li class="placeholder unavailable">Alerts are unavailable right now.</li>';
      $('nav-alerts').textContent = '';
      return;
    }
    sectionState('alerts-state', null);
    list.sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3)
      || ms(b.updated_at) - ms(a.updated_at));
    const sig = JSON.stringify(list) + canAct();
    const open = list.filter((a) => a.status === 'open').length;
    $('nav-alerts').textContent = open ? String(open) : '';
    if (sig === state.alertsSig) return;
    state.alertsSig = sig;
    const shown = list.slice(0, 200);
    $('alert-list').innerHTML = shown.length
      ? shown.map(alertHtml).join('') + (list.length > shown.length ? '<li class="placeholder">… and ' + (list.length - shown.length) + ' more</li>' : '')
      : '<li class="placeholder">No alerts. Everything is in order.</li>';
  }

  function suggestionHtml(a) {
    const s = a.suggestion;
    if (!s) return a.action ? '<div class="suggest"><b>Suggested:</b> ' + esc(a.action) + '</div>' : '';
    let h = '<div class="suggest"><b>Suggested:</b> replenish <b>' + fmtNum(s.replenish_qty) + '</b> units';
    const t = s.transfers || [];
    if (t.length) {
      h += ', or transfer:<ul>' + t.map((x) => '<li>' + fmtNum(x.qty) + ' from <b>' + esc(x.dealer) + '</b> — '
        + fmtNum(x.distance_km, 1) + ' km away, data ' + fmtAgo((x.age_s || 0) * 1000) + ' old</li>').join('') + '</ul>';
    }
    return h + '</div>';
  }

  function alertHtml(a) {
    const sev = esc(a.severity || 'info');
    const where = [a.dealer, a.sku].filter((x) => x).map(esc).join(' · ');
    const meta = ['opened ' + since(a.opened_at)];
    if (a.updated_at && a.updated_at !== a.opened_at) meta.push('updated ' + since(a.updated_at));
    if (a.count > 1) meta.push(a.count + ' triggers');
    if (a.acked_by) meta.push('acknowledged by ' + esc(a.acked_by) + ' ' + since(a.acked_at));
    if (a.resolved_at) meta.push('resolved' + (a.resolved_by ? ' by ' + esc(a.resolved_by) : '') + ' ' + since(a.resolved_at));
    let buttons = '';
    if (canAct() && a.status !== 'resolved') {
      buttons = '<div class="actions">'
        + (a.status === 'open' ? '<button type="button" class="btn btn-ghost btn-sm" data-alert-act="ack" data-id="' + esc(a.id) + '">Acknowledge</button>' : '')
        + '<button type="button" class="btn btn-ghost btn-sm" data-alert-act="resolve" data-id="' + esc(a.id) + '">Resolve</button></div>';
    }
    return '<li class="alert sev-' + sev + ' st-' + esc(a.status) + '" data-alert="' + esc(a.id) + '">'
      + '<div class="row"><span class="pill sev-' + sev + '">' + sev + '</span><span class="pill kind">'
      + esc(KIND_NAMES[a.kind] || a.kind) + '</span><span class="grow title">' + where + '</span>'
      + '<span class="pill status">' + esc(a.status) + '</span></div>'
      + (a.text ? '<div>' + esc(a.text) + '</div>' : '')
      + suggestionHtml(a)
      + '<div class="row"><span class="meta grow">' + meta.join(' · ') + '</span>' + buttons + '</div></li>';
  }

  async function alertAct(id, act, btn) {
    btn.disabled = true;
    try {
      await api('alerts/' + encodeURIComponent(id) + '/' + act, { method: 'POST', body: {} });
      toast(act === 'ack' ? 'Alert acknowledged.' : 'Alert resolved.');
    } catch (e) {
      if (e.status !== 401) toast('Could not ' + (act === 'ack' ? 'acknowledge' : 'resolve') + ' the alert: ' + e.message, true);
    }
    state.alertsSig = '';
    await loadAlerts();
  }

  /* ---------- orders ---------- */

  function ordersForMe(list) {
    const me = state.me;
    if (me.role === 'approver') return list.filter((o) => (me.stages || []).includes(o.stage));
    return list;
  }

  async function loadOrders() {
    let list;
    try {
      list = await api('orders?status=pending');
    } catch (e) {
      if (e.status === 401) return;
      sectionState('orders-state', e);
      if (!state.ordersSig) $('order-list').innerHTML = '<li class="placeholder unavailable">Orders are unavailable right now.</li>';
      return;
    }
    sectionState('orders-state', null);
    const mine = ordersForMe(list).sort((a, b) => (b.escalated - a.escalated) || ms(a.stage_since) - ms(b.stage_since));
    $('nav-orders').textContent = mine.length && canAct() ? String(mine.length) : '';
    const note = $('orders-note');
    note.hidden = canAct();
    note.textContent = 'You are signed in as a viewer: you see the pending orders but cannot approve or reject them.';
    const sig = JSON.stringify(mine) + canAct();
    if (sig === state.ordersSig) return;
    state.ordersSig = sig;
    const open = new Set([...document.querySelectorAll('.order[data-open]')].map((e) => e.dataset.order));
    $('order-list').innerHTML = mine.length ? mine.map(orderHtml).join('')
      : '<li class="placeholder">' + (canAct() ? 'Nothing waits for your approval.' : 'No pending orders.') + '</li>';
    open.forEach((id) => { const el = document.querySelector('.order[data-order="' + CSS.escape(id) + '"]'); if (el) toggleLines(el); });
  }

  function stagesHtml(o) {
    const all = state.me.approval_stages || [];
    const at = all.indexOf(o.stage);
    return '<div class="stages">' + all.map((s, i) => '<span class="stage' + (i < at ? ' done' : i === at ? ' here' : '')
      + '">' + esc(s) + '</span>').join('') + '</div>';
  }

  function orderHtml(o) {
    const buttons = canAct()
      ? '<div class="actions"><button type="button" class="btn btn-danger btn-sm" data-order-act="reject" data-id="' + esc(o.order)
        + '" data-number="' + esc(o.number) + '" data-dealer="' + esc(o.dealer) + '" data-stage="' + esc(o.stage) + '">Reject</button>'
        + '<button type="button" class="btn btn-ok btn-sm" data-order-act="approve" data-id="' + esc(o.order) + '" data-number="'
        + esc(o.number) + '" data-stage="' + esc(o.stage) + '">Approve</button></div>'
      : '';
    return '<li class="order" data-order="' + esc(o.order) + '">'
      + '<div class="row"><span class="grow title">Order ' + esc(o.number) + ' · dealer ' + esc(o.dealer) + '</span>'
      + (o.escalated ? '<span class="pill esc">escalated</span>' : '')
      + '<span class="amount">' + fmtMoney(o.total) + '</span></div>'
      + stagesHtml(o)
      + '<div class="meta">At <b>' + esc(o.stage) + '</b> for ' + since(o.stage_since).replace(' ago', '')
      + ' · created ' + since(o.created) + ' at terminal ' + esc(o.terminal) + '</div>'
      + '<div class="lines-box"></div>'
      + '<div class="row"><button type="button" class="btn btn-ghost btn-sm" data-order-act="lines" data-id="' + esc(o.order)
      + '">Lines</button><span class="grow"></span>' + buttons + '</div></li>';
  }

  async function toggleLines(li) {
    const box = li.querySelector('.lines-box');
    if (box.innerHTML) {
      box.innerHTML = '';
      delete li.dataset.open;
      return;
    }
    li.dataset.open = '1';
    try {
      const o = await api('orders/' + encodeURIComponent(li.dataset.order));
      box.innerHTML = '<table class="lines"><tbody>' + (o.lines || []).map((l) => '<tr><td>' + esc(l.sku) + '</td><td class="n">'
        + fmtNum(l.qty) + ' ×</td><td class="n">' + fmtMoney(l.unit_price) + '</td><td class="n">' + fmtMoney(l.value) + '</td></tr>').join('')
        + '</tbody></table>';
    } catch (e) {
      box.innerHTML = '<span class="meta unavailable">Lines unavailable: ' + esc(e.message) + '</span>';
    }
  }

  function decisionText(before, o) {
    if (o.status === 'approved') return 'Order ' + o.number + ' approved.';
    if (o.status === 'rejected') return 'Order ' + o.number + ' rejected' + (o.reason ? ': ' + o.reason : '.');
    return 'Order ' + o.number + ' approved at ' + before + '; now waiting for ' + o.stage + '.';
  }

  /* Acts on the stage the approver saw (shown): the hub answers 409 if the order has moved on. */
  async function orderAct(id, act, reason, btn, stage) {
    if (btn) btn.disabled = true;
    const body = reason ? { stage, reason } : { stage };
    try {
      const o = await api('orders/' + encodeURIComponent(id) + '/' + act, { method: 'POST', body });
      toast(decisionText(stage, o));
    } catch (e) {
      if (e.status !== 401) toast('Could not ' + act + ' the order: ' + e.message, true);
      if (btn) btn.disabled = false;
    }
    state.ordersSig = '';
    await loadOrders();
  }

  function askReject(btn) {
    state.rejecting = btn.dataset.id;
    state.rejectingStage = btn.dataset.stage;
    $('reject-sub').textContent = 'Order ' + btn.dataset.number + ' of dealer ' + btn.dataset.dealer;
    $('reject-reason').value = '';
    $('reject-dialog').showModal();
    $('reject-reason').focus();
  }

  /* ---------- leaderboard ---------- */

  function movementHtml(m) {
    if (m == null) return '<span class="mv-new">NEW</span>';
    if (m > 0) return '<span class="mv-up" title="up ' + m + '">▲ ' + m + '</span>';
    if (m < 0) return '<span class="mv-down" title="down ' + -m + '">▼ ' + -m + '</span>';
    return '<span class="muted">–</span>';
  }

  function kpiCell(k, name) {
    const v = k && k[name];
    if (!v) return '<td class="n">–</td>';
    return '<td class="n" title="score ' + fmtNum(v.score, 2) + '">' + (name === 'sales' ? fmtMoney(v.value) : fmtPct(v.value)) + '</td>';
  }

  async function loadRanking() {
    let r;
    try {
      r = await api('ranking');
    } catch (e) {
      if (e.status === 401) return;
      sectionState('ranking-state', e);
      if (!state.rankingSig) $('ranking-table').innerHTML = '<tbody><tr><td class="placeholder unavailable">The leaderboard is unavailable right now.</td></tr></tbody>';
      return;
    }
    sectionState('ranking-state', null);
    const sig = JSON.stringify(r);
    if (sig === state.rankingSig) return;
    state.rankingSig = sig;
    $('ranking-period').textContent = r.period ? 'Period ' + r.period : '';
    const rows = (r.dealers || []).slice(0, 500);
    const head = '<thead><tr><th class="n">#</th><th></th><th>Dealer</th><th>Region</th><th>Score</th>'
      + KPI_NAMES.map(([, label]) => '<th class="n">' + label + '</th>').join('')
      + '<th class="n">Rebate</th><th class="n">Amount</th></tr></thead>';
    const body = rows.map((d) => '<tr data-dealer="' + esc(d.dealer) + '"><td class="n rank">' + esc(d.rank) + '</td><td>' + movementHtml(d.movement)
      + '</td><td><b>' + esc(d.dealer) + '</b>' + (d.name ? ' <span class="muted">' + esc(d.name) + '</span>' : '') + '</td><td>' + esc(d.region || '')
      + '</td><td><span class="bar"><i data-w="' + Math.max(0, Math.min(100, Math.round((d.score || 0) * 100))) + '"></i></span>' + fmtScore(d.score) + '</td>'
      + KPI_NAMES.map(([name]) => kpiCell(d.kpis, name)).join('')
      + '<td class="n">' + fmtNum(d.rebate_pct, 2) + ' %</td><td class="n">' + fmtMoney(d.rebate) + '</td></tr>').join('');
    $('ranking-table').innerHTML = head + '<tbody>' + (body || '<tr><td class="placeholder" colspan="12">No figures for this period yet.</td></tr>') + '</tbody>';
    $('ranking-table').querySelectorAll('.bar i').forEach((i) => { i.style.width = i.dataset.w + '%'; });
    const tiers = (r.tiers || []).map((t) => 'score ≥ ' + fmtNum(t.min_score, 2) + ': ' + fmtNum(t.rebate_pct, 2) + ' %').join(' · ');
    const weights = r.weights ? Object.entries(r.weights).map(([k, v]) => k + ' ' + fmtNum(v, 2)).join(', ') : '';
    $('ranking-tiers').textContent = (tiers ? 'Rebate tiers: ' + tiers + '. ' : '') + (weights ? 'Weights: ' + weights + '.' : '')
      + (r.dealers && r.dealers.length > rows.length ? ' Top ' + rows.length + ' of ' + r.dealers.length + ' shown.' : '');
  }

  async function showKpis(dealer) {
    $('kpi-title').textContent = 'Dealer ' + dealer;
    $('kpi-body').innerHTML = '<p class="muted">Loading…</p>';
    $('kpi-dialog').showModal();
    try {
      const d = await api('dealers/' + encodeURIComponent(dealer) + '/kpis');
      const rows = KPI_NAMES.map(([name, label]) => {
        const v = (d.kpis || {})[name] || {};
        return '<span>' + label + '</span><span>' + (name === 'sales' ? fmtMoney(v.value) : fmtPct(v.value))
          + '</span><span class="muted">score ' + fmtNum(v.score, 2) + '</span>';
      }).join('');
      $('kpi-body').innerHTML = '<p>Rank <b>' + esc(d.rank) + '</b> · score <b>' + fmtScore(d.score) + '</b> · rebate <b>'
        + fmtNum(d.rebate_pct, 2) + ' %</b> = ' + fmtMoney(d.rebate) + '</p><div class="kpi-grid">' + rows + '</div>'
        + (d.how ? '<pre class="how">' + esc(d.how) + '</pre>' : '');
    } catch (e) {
      $('kpi-body').innerHTML = '<p class="unavailable">Unavailable: ' + esc(e.message) + '</p>';
    }
  }

  /* ---------- history chart ---------- */

  function openChart(k) {
    state.chartKey = k;
    const [dealer, sku] = k.split(SEP);
    $('chart-title').textContent = dealer + ' · ' + sku;
    $('chart').innerHTML = '<p class="muted">Loading…</p>';
    $('chart-dialog').showModal();
    loadChart();
  }

  async function loadChart() {
    const k = state.chartKey;
    if (!k) return;
    const [dealer, sku] = k.split(SEP);
    const days = Number($('chart-days').value) || 30;
    const r = state.stock.get(k);
    const lt = leadTime(sku);
    $('chart-sub').textContent = r ? r.qty + ' units now · ' + (r.days_of_cover == null ? 'days of cover unknown' : fmtNum(r.days_of_cover, 1) + ' days of cover')
      + (lt != null ? ' · lead time ' + lt + ' d' : '') + (r.velocity != null ? ' · sells ' + fmtNum(r.velocity, 1) + '/day' : '')
      + (r.stale ? ' · stale: ' + (r.stale_reason || '') : '') : '';
    try {
      const h = await api('history?dealer=' + encodeURIComponent(dealer) + '&sku=' + encodeURIComponent(sku) + '&days=' + days);
      if (state.chartKey === k) $('chart').innerHTML = chartSvg(h, days, r);
    } catch (e) {
      if (state.chartKey === k) $('chart').innerHTML = '<p class="unavailable">History is unavailable right now (' + esc(e.message) + ').</p>';
    }
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  /* A step line of stock over time and bars of daily sales, both axes from 0. */
  function chartSvg(h, days, current) {
    const W = 800, H = 280, L = 48, R = 48, T = 14, B = 30, DAY = 86400000;
    const now = Date.now(), from = now - days * DAY;
    const pts = (h.stock || []).map(([t, q]) => [ms(t), q]).sort((a, b) => a[0] - b[0]);
    const salesAll = (h.sales || []).map(([d, u]) => [Date.parse(d + 'T00:00:00Z'), u]);
    /* the axis starts at the window or, for a young history, a little before its first point */
    const first = pts.concat(salesAll.filter((p) => p[1] > 0)).reduce((m, p) => Math.min(m, p[0]), now);
    const t0 = Math.min(now - 60000, Math.max(from, first - 0.05 * (now - first)));
    const span = now - t0;
    const before = pts.filter((p) => p[0] < t0).pop();
    const inside = pts.filter((p) => p[0] >= t0);
    const line = (before ? [[t0, before[1]]] : []).concat(inside);
    if (current && (!line.length || line[line.length - 1][1] !== current.qty)) line.push([Math.min(now, current.fetched || now), current.qty]);
    if (line.length) line.push([now, line[line.length - 1][1]]);
    const sales = salesAll.filter((s) => s[0] + DAY > t0);
    if (!line.length && !sales.length) return '<p class="muted">No history for this dealer and SKU yet.</p>';
    const yMax = niceMax(line.reduce((m, p) => Math.max(m, p[1]), 1));
    const sMax = niceMax(sales.reduce((m, p) => Math.max(m, p[1]), 1));
    const x = (t) => L + (Math.max(t0, Math.min(now, t)) - t0) / span * (W - L - R);
    const y = (q) => T + (1 - q / yMax) * (H - T - B);
    const ys = (u) => T + (1 - u / sMax) * (H - T - B);
    const out = ['<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="Stock and sales over ' + days + ' days">'];
    for (let i = 0; i <= 4; i++) {
      const q = yMax * i / 4, yy = y(q).toFixed(1);
      out.push('<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + yy + '" y2="' + yy + '"/>');
      out.push('<text x="' + (L - 6) + '" y="' + (Number(yy) + 4) + '" text-anchor="end">' + fmtNum(q, 1) + '</text>');
      out.push('<text x="' + (W - R + 6) + '" y="' + (Number(yy) + 4) + '">' + fmtNum(sMax * i / 4, 1) + '</text>');
    }
    const ticks = 6;
    for (let i = 0; i <= ticks; i++) {
      const t = t0 + span * i / ticks;
      const label = span > 2 * DAY ? new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })
        : new Date(t).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
      out.push('<text x="' + x(t).toFixed(1) + '" y="' + (H - 8) + '" text-anchor="middle">' + esc(label) + '</text>');
    }
    for (const [t, u] of sales) {
      const x1 = x(t), x2 = x(t + DAY), bw = Math.max(1, (x2 - x1) * 0.7), cx = (x1 + x2) / 2;
      out.push('<rect class="sales" x="' + (cx - bw / 2).toFixed(1) + '" y="' + ys(u).toFixed(1) + '" width="' + bw.toFixed(1)
        + '" height="' + (H - B - ys(u)).toFixed(1) + '"><title>' + esc(new Date(t).toISOString().slice(0, 10) + ': ' + u + ' sold') + '</title></rect>');
    }
    if (line.length) {
      let d = 'M' + x(line[0][0]).toFixed(1) + ' ' + y(line[0][1]).toFixed(1);
      for (let i = 1; i < line.length; i++) d += 'H' + x(line[i][0]).toFixed(1) + 'V' + y(line[i][1]).toFixed(1);
      out.push('<path class="stock-area" d="' + d + 'V' + y(0).toFixed(1) + 'H' + x(line[0][0]).toFixed(1) + 'Z"/>');
      out.push('<path class="stock" d="' + d + '"/>');
    }
    out.push('<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + y(0) + '" y2="' + y(0) + '"/>');
    out.push('</svg>');
    return out.join('');
  }

  /* ---------- events ---------- */

  function wire() {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const u = $('user').value.trim(), p = $('password').value, t = $('token').value.trim();
      if (u && p) logIn(u, p);
      else if (t) signIn(t, false);
      else $('login-error').textContent = 'Give your user and password, or an API token.';
    });
    $('signout').addEventListener('click', () => signOut('Signed out.'));
    $('region').addEventListener('change', () => { state.page = 0; renderMatrix(); });
    $('page-size').addEventListener('change', () => { state.page = 0; renderMatrix(); });
    let filterTimer = 0;
    $('dealer-filter').addEventListener('input', () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => { state.page = 0; renderMatrix(); }, 200);
    });
    $('pager').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-page]');
      if (!b) return;
      state.page += Number(b.dataset.page);
      renderMatrix();
    });
    const matrix = $('matrix');
    matrix.addEventListener('mouseover', (ev) => {
      const td = ev.target.closest('td[data-k]');
      if (td) td.title = tooltip(td.dataset.k);
    });
    matrix.addEventListener('click', (ev) => {
      const td = ev.target.closest('td[data-k]');
      if (td) openChart(td.dataset.k);
    });
    $('alert-status').addEventListener('change', () => { state.alertsSig = ''; loadAlerts(); });
    $('alert-list').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-alert-act]');
      if (b) alertAct(b.dataset.id, b.dataset.alertAct, b);
    });
    $('order-list').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-order-act]');
      if (!b) return;
      if (b.dataset.orderAct === 'approve') orderAct(b.dataset.id, 'approve', '', b, b.dataset.stage);
      else if (b.dataset.orderAct === 'reject') askReject(b);
      else toggleLines(b.closest('.order'));
    });
    $('reject-cancel').addEventListener('click', () => $('reject-dialog').close());
    $('reject-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const reason = $('reject-reason').value.trim();
      if (!reason) return;
      $('reject-dialog').close();
      orderAct(state.rejecting, 'reject', reason, null, state.rejectingStage);
    });
    $('ranking-table').addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-dealer]');
      if (tr) showKpis(tr.dataset.dealer);
    });
    $('kpi-close').addEventListener('click', () => $('kpi-dialog').close());
    $('p-policy-list').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-policy-ack]');
      if (b) policyAck(b.dataset.policyAck, b);
    });
    $('p-contract-list').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-contract-read]');
      if (b) contractRead(b.dataset.contractRead, b);
    });
    $('p-statement-list').addEventListener('click', (ev) => {
      const li = ev.target.closest('li[data-statement]');
      const get = ev.target.closest('button[data-statement-get]');
      if (li && get) statementDownload(li, get.dataset.statementGet, get);
      else if (li && ev.target.closest('button[data-statement-open]')) statementOpen(li);
    });
    $('p-statement-list').addEventListener('submit', (ev) => {
      const form = ev.target.closest('form.dispute-form');
      if (!form) return;
      ev.preventDefault();
      disputeOpen(form.closest('li[data-statement]'), form);
    });
    $('p-task-list').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-task-done]');
      if (!b) return;
      if (!b.dataset.taskPhoto) { taskDone(b.dataset.taskDone, null, b); return; }
      const input = $('p-task-photo');
      input.value = '';
      input.onchange = () => { if (input.files[0]) taskDone(b.dataset.taskDone, input.files[0], b); };
      input.click();
    });
    $('p-training-list').addEventListener('click', (ev) => {
      const open = ev.target.closest('button[data-training-open]');
      if (open) { trainingOpen(open); return; }
      const done = ev.target.closest('button[data-training-done]');
      if (done) trainingDone(done.dataset.trainingDone, done);
    });
    $('p-training-video').addEventListener('timeupdate', trainingTimeUpdate);
    $('policy-list').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-policy-repush]');
      if (b) policyRepush(b.dataset.policyRepush, b);
    });
    $('policy-new').addEventListener('click', () => { $('policy-error').textContent = ''; $('policy-dialog').showModal(); });
    $('policy-cancel').addEventListener('click', () => $('policy-dialog').close());
    $('policy-form').addEventListener('submit', (ev) => { ev.preventDefault(); policyPublish(); });
    $('chart-close').addEventListener('click', () => $('chart-dialog').close());
    $('chart-dialog').addEventListener('close', () => { state.chartKey = null; });
    $('chart-days').addEventListener('change', loadChart);
    for (const d of document.querySelectorAll('dialog')) {
      d.addEventListener('click', (ev) => { if (ev.target === d) d.close(); }); /* a click on the backdrop */
    }
  }

  function boot() {
    wire();
    const saved = sessionStorage.getItem('depot.token');
    if (saved) signIn(saved, true);
    else showLogin('');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
