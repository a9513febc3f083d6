// What the browser tests stand on: the page built into dist/, a static server for it on
// 127.0.0.1 (a secure context, as WebGPU requires), and Debian's Chromium driven by
// playwright-core, with the page's console and errors kept for failure messages.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(ROOT, 'dist');
export const ARTIFACTS = join(ROOT, 'test', 'browser', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags CI uses: headless, WebGPU on Chromium's bundled SwiftShader, nothing phoning home. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumMissingMessage(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} not found: the browser tests need Debian's Chromium (apt-get install -y chromium, as .ci/run does), ` +
        'or CHROMIUM_PATH naming another Chromium; SKIP_BROWSER_TESTS=1 skips them';
}

/** Builds the page into dist/ with vite (the MNIST asset included). */
export function buildDist(): void {
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * A static server for `dir` on 127.0.0.1 (a random free port), under the sub-path `prefix`, so
 * the page is shown to work away from the server's root.
 */
export async function serveStatic(dir: string, prefix = '/'): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const full = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!full.startsWith(prefix)) {
      res.writeHead(404).end('not found');
      return;
    }
    const path = `/${full.slice(prefix.length)}`;
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep) && file !== dir) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.byteLength });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`, server };
}

export async function launchChromium(options: { webgpu?: boolean; downloads?: string } = {}): Promise<Browser> {
  const args = options.webgpu === false ? CHROMIUM_FLAGS.filter((f) => f !== '--enable-unsafe-webgpu') : CHROMIUM_FLAGS;
  return chromium.launch({ executablePath: CHROMIUM, args, downloadsPath: options.downloads });
}

/** A page whose console errors and uncaught exceptions are kept, for failure messages. */
export async function openPage(browser: Browser): Promise<{ page: Page; log: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1100 } });
  const page = await context.newPage();
  const log: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { page, log };
}

/** The page's state and any error text, for assertion messages. */
export async function describePage(page: Page, log: string[]): Promise<string> {
  const status = await page.locator('[data-testid=status]').evaluate((el) => `${(el as HTMLElement).dataset.state}: ${el.textContent}`).catch(() => '?');
  const error = await page.locator('[data-testid=error]').textContent().catch(() => '');
  return `page status ${status}${error ? `; error banner: ${error}` : ''}${log.length ? `\npage console:\n  ${log.join('\n  ')}` : ''}`;
}

/**
 * How long starting the served pages may take: building dist/ may first train the MNIST
 * classifier for the page's quality asset, once, when the Node cache has none (225 s in all on
 * two cores beside another test); otherwise a build takes seconds.
 */
export const START_TIMEOUT_MS = 600_000;

/**
 * What a browser test file starts from: Chromium present (else an error saying how to get it),
 * the artifacts folder, a fresh dist/, served under a sub-path (the pages must work from any
 * static server and path: vite base './'), and a Chromium with WebGPU.
 */
export async function startServedPages(): Promise<{ server: Server; baseUrl: string; browser: Browser }> {
  const missing = chromiumMissingMessage();
  if (missing) throw new Error(missing);
  mkdirSync(ARTIFACTS, { recursive: true });
  buildDist();
  const { server, url } = await serveStatic(DIST, '/some/sub-path/');
  return { server, baseUrl: url, browser: await launchChromium() };
}
