// Drives the hub's dashboard in Debian's headless Chromium (playwright-core),
// for tests/system/test_dashboard.py, which prepares the hub and passes a JSON
// file naming what to expect:
//
//   node drive.mjs CONFIG.json
//   {"url", "chromium", "approver", "viewer", "viewer_user", "viewer_password", "dealer_user",
//    "dealer_password", "other_region", "dealer",
//    "sku", "qty_before",
//    "control": "<scale's control socket>", "weight_g", "qty_after",
//    "alert": <id or null: skip>, "order": "<id>", "order_other": "<id>",
//    "statement": <id or null: skip>, "statement_line", "statement_dispute",
//    "screenshots": "<folder>", "timeout_ms"}
//
// Prints one line per step ("step: ...") and, last, a JSON line {"ok": true,
// ...figures} (exit 0), or {"ok": false, "error"} (exit 1) after saving
// failure.png in the screenshot folder. Every wait is bounded.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const T = cfg.timeout_ms || 15000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];
const out = {};
const errors = [];

function step(text) {
  console.log('step: ' + text);
}

function control(sock, line) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: sock });
    let reply = '';
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('control socket timed out')); });
    s.on('connect', () => s.write(line + '\n'));
    s.on('data', (d) => {
      reply += d;
      if (reply.endsWith('\n')) { s.end(); resolve(reply.trim()); }
    });
    s.on('error', reject);
  });
}

const cellSel = (dealer, sku) => `td[data-k="${dealer}|${sku}"]`;

async function signIn(page, token) {
  await page.goto(cfg.url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-form', { state: 'visible', timeout: T });
  await page.fill('#token', token);
  await page.click('#signin');
  await page.waitForSelector('#app-view', { state: 'visible', timeout: T });
}

async function main(ctx, page) {
  page.on('pageerror', (e) => errors.push(e.message));

  step('sign in as the approver');
  await signIn(page, cfg.approver);
  const who = await page.textContent('#who');
  if (!who.includes('approver')) throw new Error('the header does not show the approver: ' + who);
  const cell = cellSel(cfg.dealer, cfg.sku);
  await page.waitForSelector(cell, { timeout: T });
  await page.waitForFunction(([sel, q]) => document.querySelector(sel)?.textContent === String(q),
    [cell, cfg.qty_before], { timeout: T });
  step(`matrix shows ${cfg.dealer}/${cfg.sku} = ${cfg.qty_before}`);

  // A marker that a reload would wipe out.
  await page.evaluate(() => { window.__noReload = 'still here'; });
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
  const t0 = Date.now();
  const reply = await control(cfg.control, 'weight ' + cfg.weight_g);
  if (!reply.startsWith('ok')) throw new Error('scale control: ' + reply);
  await page.waitForFunction(([sel, q]) => document.querySelector(sel)?.textContent === String(q),
    [cell, cfg.qty_after], { timeout: T });
  out.live_update_ms = Date.now() - t0;
  const marker = await page.evaluate(() => window.__noReload);
  if (marker !== 'still here' || navigations) throw new Error('the page reloaded to show the change');
  step(`the cell changed to ${cfg.qty_after} without a reload, ${out.live_update_ms} ms after the weight changed`);

  step('open the history chart of that cell');
  await page.click(cell);
  await page.waitForSelector('#chart-dialog[open]', { timeout: T });
  await page.waitForFunction(() => !document.querySelector('#chart').textContent.includes('Loading'), null, { timeout: T });
  out.chart = (await page.$('#chart svg')) ? 'svg' : (await page.textContent('#chart')).trim();
  await page.locator('#chart-dialog').screenshot({ path: path.join(cfg.screenshots, 'dashboard-chart.png') });
  await page.click('#chart-close');
  step('chart: ' + out.chart);

  if (cfg.alert != null) {
    const li = `li.alert[data-alert="${cfg.alert}"]`;
    await page.waitForSelector(`${li} button[data-alert-act="ack"]`, { timeout: T });
    await page.click(`${li} button[data-alert-act="ack"]`);
    await page.waitForFunction((sel) => {
      const el = document.querySelector(sel);
      return el && el.querySelector('.pill.status')?.textContent === 'acknowledged'
        && !el.querySelector('button[data-alert-act="ack"]');
    }, li, { timeout: T });
    step(`alert ${cfg.alert} acknowledged`);
  } else {
    step('SKIPPED: acknowledge an alert (no alert to acknowledge: see the test output)');
  }

  const order = `li.order[data-order="${cfg.order}"]`;
  await page.waitForSelector(`${order} button[data-order-act="approve"]`, { timeout: T });
  await page.click(`${order} button[data-order-act="approve"]`);
  await page.waitForSelector(order, { state: 'detached', timeout: T });
  step(`order ${cfg.order} approved (gone from the approver's list)`);
  if (cfg.order_other) await page.waitForSelector(`li.order[data-order="${cfg.order_other}"]`, { timeout: T });

  await page.waitForTimeout(300); // let the toast and the lists settle for the picture
  out.screenshot = path.join(cfg.screenshots, 'dashboard.png');
  await page.screenshot({ path: out.screenshot, fullPage: true });
  step('screenshot ' + out.screenshot);

  step('sign out, sign in as the viewer user with a wrong password, then the right one');
  await page.click('#signout');
  await page.waitForSelector('#login-form', { state: 'visible', timeout: T });
  await page.fill('#user', cfg.viewer_user);
  await page.fill('#password', 'not the password');
  await page.click('#signin');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('Wrong user or password'),
    null, { timeout: T });
  await page.fill('#user', cfg.viewer_user);
  await page.fill('#password', cfg.viewer_password);
  await page.click('#signin');
  await page.waitForSelector('#app-view', { state: 'visible', timeout: T });
  out.viewer_session = await page.evaluate(() => sessionStorage.getItem('depot.token'));
  if (!out.viewer_session || !out.viewer_session.startsWith('dps_')) throw new Error('no session after the login');
  if (cfg.order_other) await page.waitForSelector(`li.order[data-order="${cfg.order_other}"]`, { timeout: T });
  await page.waitForSelector(cell, { timeout: T });
  const offered = await page.$$eval('button[data-order-act="approve"], button[data-order-act="reject"], button[data-alert-act]',
    (b) => b.length);
  if (offered) throw new Error(`the viewer is offered ${offered} approve/reject/ack/resolve buttons`);
  out.viewer_post_status = await page.evaluate(async ([id, token]) => {
    const r = await fetch('/api/v1/orders/' + id + '/approve', {
      method: 'POST', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: '{}' });
    return r.status;
  }, [cfg.order_other || cfg.order, cfg.viewer]);
  if (out.viewer_post_status !== 403) throw new Error('a viewer POST got ' + out.viewer_post_status);
  step('the viewer is offered no approve button; a direct POST gets 403');
  if (cfg.training) {
    const li = `#training-list li[data-training="${cfg.training}"]`;
    await page.waitForFunction((sel) => /% completed/.test(document.querySelector(sel)?.textContent || '')
      && /1 d: /.test(document.querySelector(sel)?.textContent || ''), li, { timeout: T });
    step('training card: item ' + cfg.training + ' with its completed % and coverage');
  }
  await page.screenshot({ path: path.join(cfg.screenshots, 'dashboard-viewer.png'), fullPage: true });

  step('the same page on a phone-sized screen');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  out.phone_page_overflow_px = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: path.join(cfg.screenshots, 'dashboard-phone.png'), fullPage: false });
  if (out.phone_page_overflow_px > 2) throw new Error('on a phone the page scrolls sideways by ' + out.phone_page_overflow_px + ' px');

  step('sign out: the session ends at the hub');
  await page.click('#signout');
  await page.waitForSelector('#login-form', { state: 'visible', timeout: T });
  await page.waitForFunction(async (token) => {
    const r = await fetch('/api/v1/me', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    return r.status === 401;
  }, out.viewer_session, { timeout: T, polling: 100 });
  out.session_after_signout = 401;

  step('the dealer portal on the phone: dealer A\'s user');
  await page.fill('#user', cfg.dealer_user);
  await page.fill('#password', cfg.dealer_password);
  await page.click('#signin');
  await page.waitForSelector('#portal-view', { state: 'visible', timeout: T });
  if (await page.isVisible('#app-view')) throw new Error('a dealer\'s user got the manufacturer\'s view');
  await page.waitForFunction(([sku, qty]) => {
    const li = document.querySelector(`#p-stock-list li[data-sku="${sku}"]`);
    return li && li.textContent.includes(qty + ' units') && li.textContent.includes('days of cover') || (li && li.textContent.includes('cover unknown') && li.textContent.includes(qty + ' units'));
  }, [cfg.sku, cfg.qty_after], { timeout: T });
  for (const id of [cfg.order, cfg.order_other].filter((x) => x))
    await page.waitForSelector(`#p-order-list li[data-order="${id}"]`, { timeout: T });
  out.portal_pending_text = await page.textContent(`#p-order-list li[data-order="${cfg.order_other || cfg.order}"]`);
  if (!/waiting at sales/.test(out.portal_pending_text)) throw new Error('the pending order does not say its stage: ' + out.portal_pending_text);
  if (cfg.alert) await page.waitForSelector(`#p-alert-list li[data-alert="${cfg.alert}"]`, { timeout: T });
  await page.waitForFunction(() => /Rank|No ranking/.test(document.querySelector('#p-rank-body').textContent), null, { timeout: T });
  if (cfg.policy) {
    const li = `#p-policy-list li[data-policy="${cfg.policy}"]`;
    await page.waitForSelector(li + ' button[data-policy-ack]', { timeout: T });
    await page.click(li + ' button[data-policy-ack]');
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('acknowledged '), li, { timeout: T });
    step('portal: policy ' + cfg.policy + ' acknowledged');
  }
  if (cfg.task) {
    const li = `#p-task-list li[data-task="${cfg.task}"]`;
    await page.waitForSelector(li + ' button[data-task-done]', { timeout: T });
    const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: T }), page.click(li + ' button[data-task-done]')]);
    await chooser.setFiles(cfg.task_photo);
    await page.waitForSelector(li + ' .badge.c-g', { timeout: T });
    step('portal: task ' + cfg.task + ' confirmed with a photo from the phone');
  }
  if (cfg.contract) {
    const li = `#p-contract-list li[data-contract="${cfg.contract}"]`;
    await page.waitForSelector(li + ' button[data-contract-read]', { timeout: T });
    const sign = await page.textContent(li + ' .sign-code');
    if (!sign.includes('C' + cfg.contract)) throw new Error('the contract does not say its sign code: ' + sign);
    const [tab] = await Promise.all([page.context().waitForEvent('page', { timeout: T }), page.click(li + ' button[data-contract-read]')]);
    await page.waitForSelector(li + ' .sha.sha-ok', { timeout: T });
    out.contract_sha_text = await page.textContent(li + ' .sha');
    await tab.close();
    step('portal: contract ' + cfg.contract + ' read on the phone, its SHA-256 checked in the browser: ' + out.contract_sha_text);
  }
  if (cfg.training) {
    const li = `#p-training-list li[data-training="${cfg.training}"]`;
    await page.waitForSelector(li + ' button[data-training-open]', { timeout: T });
    await page.click(li + ' button[data-training-open]');
    await page.waitForFunction(() => (document.querySelector('#p-training-video')?.src || '').includes('/media/training/'), null, { timeout: T });
    /* the player fetches the signed link itself, with ranges and without the session's token */
    out.training_media_status = await page.evaluate(async () => {
      const r = await fetch(document.querySelector('#p-training-video').src, { headers: { Range: 'bytes=0-15' }, cache: 'no-store' });
      return r.status;
    });
    if (out.training_media_status !== 206) throw new Error('the signed link answered ' + out.training_media_status);
    if (await page.isHidden('#p-training-video')) throw new Error('the training video is not shown');
    await page.waitForSelector(li + ' .badge.c-a', { timeout: T }); /* started: the view reported */
    await page.click(li + ' button[data-training-done]');
    await page.waitForSelector(li + ' .badge.c-g', { timeout: T });
    step('portal: training ' + cfg.training + ' opened in the player and marked as done');
  }
  if (cfg.statement) {
    const li = `#p-statement-list li[data-statement="${cfg.statement}"]`;
    await page.waitForSelector(li + ' button[data-statement-get="pdf"]', { timeout: T });
    for (const kind of ['csv', 'pdf']) {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }),
        page.click(`${li} button[data-statement-get="${kind}"]`)]);
      const bytes = fs.readFileSync(await dl.path());
      const head = kind === 'csv' ? 'key,section,item' : '%PDF-1.4';
      if (!dl.suggestedFilename().endsWith('.' + kind) || !bytes.toString('latin1').startsWith(head))
        throw new Error(`the ${kind} download is not one: ${dl.suggestedFilename()} ${bytes.slice(0, 20)}`);
      out['statement_' + kind + '_bytes'] = bytes.length;
    }
    await page.click(li + ' button[data-statement-open]');
    await page.waitForSelector(li + ' form.dispute-form select', { timeout: T });
    await page.selectOption(li + ' form.dispute-form select', cfg.statement_line);
    await page.fill(li + ' form.dispute-form textarea', cfg.statement_dispute);
    await page.click(li + ' form.dispute-form button[type="submit"]');
    await page.waitForFunction((sel) => /open/.test(document.querySelector(sel)?.textContent || ''),
      li + ' .disputes li.dispute', { timeout: T });
    step(`portal: statement ${cfg.statement} downloaded as CSV (${out.statement_csv_bytes} bytes) and PDF (${out.statement_pdf_bytes} bytes), a dispute opened on ${cfg.statement_line}`);
  }
  const text = await page.textContent('#portal-view');
  if (text.includes(cfg.other_region) || / from B\b|dealer B\b/.test(text)) throw new Error('the portal shows another dealer: ' + text.slice(0, 300));
  out.portal_overflow_px = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (out.portal_overflow_px > 2) throw new Error('the portal scrolls sideways on a phone by ' + out.portal_overflow_px + ' px');
  out.portal_screenshot = path.join(cfg.screenshots, 'portal-phone.png');
  await page.screenshot({ path: out.portal_screenshot, fullPage: true });
  step('portal: stock, orders with their stage, alerts, rank; nothing of B; screenshot ' + out.portal_screenshot);
  await page.click('#signout');
  await page.waitForSelector('#login-form', { state: 'visible', timeout: T });
  if (errors.length) throw new Error('JavaScript errors on the page: ' + errors.join('; '));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depot-chromium-'));
let ctx;
let page;
let code = 0;
try {
  ctx = await chromium.launchPersistentContext(dir, {
    executablePath: cfg.chromium || '/usr/bin/chromium', headless: true, args: ARGS,
    viewport: { width: 1400, height: 900 }, timeout: 60000, acceptDownloads: true,
  });
  page = ctx.pages()[0] || await ctx.newPage();
  await main(ctx, page);
  console.log(JSON.stringify({ ok: true, ...out }));
} catch (e) {
  code = 1;
  try { if (page) await page.screenshot({ path: path.join(cfg.screenshots, 'failure.png'), fullPage: true }); } catch (e2) { /* best effort */ }
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), page_errors: errors, ...out }));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
