// Opens a goscope trace (GOSCOPE_TRACE's Chrome Trace Event JSON) in
// speedscope, in headless Chromium, and saves one screenshot per goroutine
// (speedscope shows one track at a time: `n` goes to the next one).
//
//   node picture.mjs TRACE.json OUT_PREFIX [TRACKS]
//
// writes OUT_PREFIX-1.png ... OUT_PREFIX-TRACKS.png. Everything is served
// from 127.0.0.1 (speedscope's files and the trace); nothing else is reached.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const [trace, prefix, tracksArg] = process.argv.slice(2);
if (!trace || !prefix) {
  console.error('usage: node picture.mjs TRACE.json OUT_PREFIX [TRACKS]');
  process.exit(64);
}
const tracks = Number(tracksArg ?? 4);
const here = path.dirname(fileURLToPath(import.meta.url));
const site = path.join(here, 'node_modules/speedscope/dist/release');

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.png': 'image/png', '.wasm': 'application/wasm',
  '.woff2': 'font/woff2', '.ico': 'image/x-icon', '.txt': 'text/plain' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const file = url.pathname === '/trace.json'
    ? trace
    : path.join(site, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--window-size=1600,200'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1600, height: 200 });
  // No title: the toolbar then names the track shown (its thread_name).
  await page.goto(`${base}/index.html#profileURL=${encodeURIComponent(`${base}/trace.json`)}&view=time-ordered`);
  for (let i = 1; i <= tracks; i++) {
    // The toolbar names the track shown: wait until it is the i-th.
    await page.waitForFunction((n) => document.body.innerText.includes(`(${n}/`), { timeout: 30000 }, i);
    await new Promise((r) => setTimeout(r, 500)); // let the canvas paint
    await page.screenshot({ path: `${prefix}-${i}.png` });
    if (i < tracks) {
      await page.keyboard.press('n');
    }
  }
} finally {
  await browser.close();
  server.close();
}
