// Measures the dashboard's first paint and the time until its stock matrix is
// rendered, in Debian's headless Chromium, beside a baseline page, for
// tests/bench/bench_dashboard.py:
//
//   node bench.mjs CONFIG.json
//   {"url": "http://127.0.0.1:P/", "baseline": "http://127.0.0.1:P/static/baseline.html",
//    "token", "runs", "chromium", "timeout_ms"}
//
// Each run is a fresh browser context (empty cache, no cookies), the token
// put in sessionStorage before the page's scripts run (as after signing in).
// Figures come from the page itself: PerformanceObserver 'paint'
// (first-paint, first-contentful-paint), the app's performance mark
// 'matrix-ready' (set when the first matrix is in the DOM), navigation and
// resource timing. Prints one JSON line {"ok", "dashboard": [...], "baseline": [...]}.
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const T = cfg.timeout_ms || 120000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

async function paintTimes(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const got = {};
    const done = () => resolve(got);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) got[e.name] = e.startTime;
      if (got['first-contentful-paint'] != null) done();
    }).observe({ type: 'paint', buffered: true });
    setTimeout(done, 5000);
  }));
}

async function measureDashboard(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await ctx.addInitScript((t) => { sessionStorage.setItem('depot.token', t); }, cfg.token);
  const page = await ctx.newPage();
  await page.goto(cfg.url, { waitUntil: 'commit', timeout: T });
  await page.waitForSelector('body[data-matrix="ready"]', { timeout: T });
  const paint = await paintTimes(page);
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const stock = performance.getEntriesByType('resource').find((e) => /\/api\/v1\/stock$/.test(e.name));
    const ready = performance.getEntriesByName('matrix-ready')[0];
    return {
      dom_content_loaded_ms: nav.domContentLoadedEventEnd,
      matrix_ready_ms: ready ? ready.startTime : null,
      stock_request_ms: stock ? stock.responseEnd - stock.startTime : null,
      stock_response_end_ms: stock ? stock.responseEnd : null,
      stock_bytes: stock ? stock.encodedBodySize : null,
      cells: document.querySelectorAll('#matrix td[data-k]').length,
      dealers: document.querySelectorAll('#matrix tbody tr').length,
    };
  });
  r.first_paint_ms = paint['first-paint'] ?? null;
  r.first_contentful_paint_ms = paint['first-contentful-paint'] ?? null;
  r.render_after_stock_ms = r.matrix_ready_ms != null && r.stock_response_end_ms != null
    ? r.matrix_ready_ms - r.stock_response_end_ms : null;
  await ctx.close();
  return r;
}

async function measureBaseline(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(cfg.baseline, { waitUntil: 'load', timeout: T });
  const paint = await paintTimes(page);
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
      page_bytes: nav.encodedBodySize, cells: document.querySelectorAll('td[data-k]').length,
    };
  });
  r.first_paint_ms = paint['first-paint'] ?? null;
  r.first_contentful_paint_ms = paint['first-contentful-paint'] ?? null;
  await ctx.close();
  return r;
}

let browser;
try {
  browser = await chromium.launch({ executablePath: cfg.chromium || '/usr/bin/chromium', headless: true, args: ARGS, timeout: 60000 });
  await measureDashboard(browser); // warm-up, not reported (the hub's first full listing, the page cache of the disk)
  const dashboard = [];
  const baseline = [];
  for (let i = 0; i < cfg.runs; i++) {
    baseline.push(await measureBaseline(browser));
    dashboard.push(await measureDashboard(browser));
  }
  console.log(JSON.stringify({ ok: true, dashboard, baseline }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e) }));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
}
