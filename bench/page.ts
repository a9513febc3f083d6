// The page edge of the benchmarks (bench.html): the suite `npm run bench` runs (bench/suite.ts),
// on navigator.gpu, with tfjs's WebGPU backend opened by tfjs itself on the browser's adapter,
// MNIST from the asset the main page fetches, the matmul choices kept in localStorage, the
// tables rendered as they fill, and every figure as a download in the Node results file's
// schema. A browser has no CPU clock for the page's own threads, so the CPU-time columns and
// targets are left out.
//
// URL parameters set the form: ?mode=quick|full, filter=TEXT, tfjs=0, cpu=1 (tfjs's CPU
// backend), profile=1, tune=1; `autorun` starts a run as soon as WebGPU is open.

import './page.css';
import mnistAssetUrl from '../.cache/mnist-asset/mnist-idx.gz?url';
import { byId } from '../src/browser/dom.ts';
import { loadMnistAsset } from '../src/browser/mnist-asset.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { BROWSER_WEBGPU_HINT, openBrowserContext } from '../src/gpu/browser.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { AdapterError } from '../src/gpu/errors.ts';
import { fileStamp, slug } from './common.ts';
import { benchSubset } from './configs.ts';
import { markdownRow, markdownRule, setPlatform, type BenchPlatform } from './platform.ts';
import { adapterRecord, configRecord, resolveSections, runBench, SEED_EXPERIMENT_ITERATIONS, tfjsAdapterRecord, type BenchOptions, type BenchResults } from './suite.ts';
import { openTfjsSide, type TfjsSide } from './tfjs.ts';

/** The commit the page was built from (vite.config.ts stamps it); absent outside a vite build. */
declare const __BENCH_COMMIT__: string | null | undefined;

type State = 'loading' | 'no-webgpu' | 'ready' | 'running' | 'done' | 'error';

const ui = {
  adapter: byId('adapter'),
  tfjsAdapter: byId('tfjs-adapter'),
  error: byId('error'),
  form: byId<HTMLFormElement>('options'),
  filter: byId<HTMLInputElement>('filter'),
  tfjs: byId<HTMLInputElement>('tfjs'),
  tfjsCpu: byId<HTMLInputElement>('tfjs-cpu'),
  profile: byId<HTMLInputElement>('profile'),
  tune: byId<HTMLInputElement>('tune'),
  run: byId<HTMLButtonElement>('run'),
  download: byId<HTMLButtonElement>('download-json'),
  status: byId('status'),
  dataProgress: byId<HTMLProgressElement>('data-progress'),
  progress: byId<HTMLOListElement>('progress'),
  results: byId('results'),
  markdown: byId('markdown'),
};

let ctx: GpuContext | null = null;
let tfjsSide: TfjsSide | null = null;
let mnist: Promise<Mnist> | null = null;
let results: BenchResults | null = null;
/** The run's output as `npm run bench` prints it. */
let markdown: string[] = [];
let runStarted = 0;

function setState(next: State, message: string): void {
  ui.status.dataset.state = next;
  ui.status.textContent = message;
  const running = next === 'running';
  ui.run.disabled = ctx === null || running;
  ui.download.disabled = results === null || running;
  ui.form.querySelectorAll('input').forEach((input) => (input.disabled = running));
}

function showError(e: unknown): void {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  ui.error.textContent = message;
  ui.error.hidden = false;
  console.error(e);
}

// --- output: the platform the suite writes to -----------------------------------------------

function addMarkdown(line: string): void {
  markdown.push(line);
  ui.markdown.textContent = markdown.join('\n');
}

/** A ratio cell (`1.23x`) is marked above or below parity, so the tables read at a glance. */
function fillCell(td: HTMLTableCellElement, column: string, text: string): void {
  td.textContent = text;
  td.dataset.column = column;
  const figure = Number(text.replace(/x$/, ''));
  if (text !== '-' && Number.isFinite(figure)) td.dataset.value = String(figure);
  if (column.includes(' / ') && text.endsWith('x')) td.classList.add(figure >= 1 ? 'ahead' : 'behind');
}

const PAGE_PLATFORM: BenchPlatform = {
  cpuMs: () => null,
  loadAverage: () => 'unknown',
  out: {
    line(text) {
      addMarkdown(text);
      const trimmed = text.trim();
      if (!trimmed) return;
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = trimmed;
      ui.results.append(p);
    },
    table(id, header) {
      addMarkdown(markdownRow(header));
      addMarkdown(markdownRule(header.length));
      const wrap = document.createElement('div');
      wrap.className = 'table-wrap';
      const table = document.createElement('table');
      table.dataset.table = id;
      table.dataset.testid = `table-${id}`;
      const head = table.createTHead().insertRow();
      for (const h of header) {
        const th = document.createElement('th');
        th.textContent = h;
        th.scope = 'col';
        head.append(th);
      }
      const body = table.createTBody();
      wrap.append(table);
      ui.results.append(wrap);
      return (cells) => {
        addMarkdown(markdownRow(cells));
        const tr = body.insertRow();
        cells.forEach((c, i) => fillCell(tr.insertCell(), header[i], c));
      };
    },
    progress(text) {
      const li = document.createElement('li');
      li.textContent = `${((performance.now() - runStarted) / 1000).toFixed(1)} s  ${text}`;
      ui.progress.append(li);
      ui.status.textContent = `Running: ${text}`;
    },
  },
};

// --- the run ----------------------------------------------------------------------------------

function loadMnist(): Promise<Mnist> {
  mnist ??= (async () => {
    PAGE_PLATFORM.out.progress('loading MNIST (the main page\'s asset; kept in the browser cache after the first time)');
    ui.dataProgress.hidden = false;
    try {
      return await loadMnistAsset(mnistAssetUrl, (loaded, total) => {
        if (total) ui.dataProgress.max = total;
        ui.dataProgress.value = total ? loaded : 0;
      });
    } finally {
      ui.dataProgress.hidden = true;
    }
  })();
  // A failed load may be retried by the next run.
  mnist.catch(() => (mnist = null));
  return mnist;
}

function readOptions(): BenchOptions & { tfjs: boolean } {
  const full = ui.form.querySelector<HTMLInputElement>('input[name=mode]:checked')?.value === 'full';
  const subset = benchSubset(full ? 'full' : 'browser-quick');
  return {
    subset,
    filter: ui.filter.value.trim() || undefined,
    sections: resolveSections(undefined, { profile: ui.profile.checked, quick: subset.quick }),
    tfjsCpu: ui.tfjsCpu.checked,
    // Tuning costs minutes on a software adapter: a quick run uses what an earlier run stored in
    // this browser, else the heuristic (what the main page trains with), unless asked to tune.
    tuning: ui.tune.checked ? 'retune' : full ? 'stored-or-tune' : 'stored-or-heuristic',
    seedIterations: SEED_EXPERIMENT_ITERATIONS,
    tfjs: ui.tfjs.checked,
  };
}

async function run(): Promise<void> {
  if (!ctx) return;
  const options = readOptions();
  results = null;
  markdown = [];
  ui.results.replaceChildren();
  ui.progress.replaceChildren();
  ui.markdown.textContent = '';
  ui.error.hidden = true;
  runStarted = performance.now();
  const started = new Date();
  setState('running', 'Running…');
  try {
    if (options.tfjs && !tfjsSide) {
      PAGE_PLATFORM.out.progress('opening TensorFlow.js (WebGPU backend)');
      tfjsSide = await openTfjsSide(ctx.adapter, 'browser');
      ui.tfjsAdapter.textContent = `${tfjsSide.adapterLine}${tfjsSide.sameAdapter ? ' (the same adapter)' : ' (A DIFFERENT ADAPTER: the ratios compare different hardware)'}`;
    }
    const tfjs = options.tfjs ? tfjsSide : null;
    const cores = navigator.hardwareConcurrency || 1;
    addMarkdown(`adapter: ${ctx.adapterLine}`);
    if (tfjs) addMarkdown(`tfjs adapter: ${tfjs.adapterLine} — ${tfjs.sameAdapter ? 'the same adapter' : 'A DIFFERENT ADAPTER: the ratios compare different hardware'} (a device each)`);
    addMarkdown(`browser: ${navigator.userAgent}, ${cores} cores; commit ${commit() ?? 'unknown'}`);
    const figures = await runBench(
      {
        ctx,
        openContext: () => openBrowserContext(),
        tfjs,
        loadMnist,
        tuning: { store: localStorage, name: "this browser's localStorage" },
        cores,
      },
      options,
    );
    results = {
      adapter: adapterRecord(ctx),
      tfjsAdapter: tfjsAdapterRecord(tfjs),
      commit: commit(),
      started: started.toISOString(),
      finished: new Date().toISOString(),
      config: { ...configRecord(options, Boolean(tfjs)), platform: 'browser', userAgent: navigator.userAgent, cpus: cores },
      ...figures,
    };
    setState('done', `Done in ${((performance.now() - runStarted) / 1000).toFixed(1)} s: ${figures.matmul.length} matmul rows, ${figures.training.length} training rows.`);
  } catch (e) {
    showError(e);
    setState('error', 'Stopped by an error (above). Run again to retry.');
  }
}

function commit(): string | null {
  return typeof __BENCH_COMMIT__ === 'string' ? __BENCH_COMMIT__ : null;
}

function downloadResults(): void {
  if (!results) return;
  const blob = new Blob([JSON.stringify(results, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${slug(results.adapter.line)}-${fileStamp(new Date(results.started))}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// --- start -------------------------------------------------------------------------------------

function applyParams(params: URLSearchParams): void {
  const mode = params.get('mode') ?? (params.has('full') ? 'full' : 'quick');
  const radio = ui.form.querySelector<HTMLInputElement>(`input[name=mode][value=${mode === 'full' ? 'full' : 'quick'}]`);
  if (radio) radio.checked = true;
  ui.filter.value = params.get('filter') ?? '';
  const flag = (name: string, fallback: boolean) => (params.has(name) ? params.get(name) !== '0' : fallback);
  ui.tfjs.checked = flag('tfjs', true);
  ui.tfjsCpu.checked = flag('cpu', false);
  ui.profile.checked = flag('profile', false);
  ui.tune.checked = flag('tune', false);
}

async function start(): Promise<void> {
  setPlatform(PAGE_PLATFORM);
  const params = new URLSearchParams(location.search);
  applyParams(params);
  ui.run.addEventListener('click', () => void run());
  ui.download.addEventListener('click', downloadResults);
  try {
    ctx = await openBrowserContext();
  } catch (e) {
    ui.adapter.textContent = 'none';
    ui.error.textContent = e instanceof AdapterError ? e.message : `${e instanceof Error ? e.message : String(e)} ${BROWSER_WEBGPU_HINT}`;
    ui.error.hidden = false;
    setState('no-webgpu', 'WebGPU is not available: nothing to measure.');
    return;
  }
  ui.adapter.textContent = ctx.adapterLine;
  ctx.device.lost.then((info) => {
    if (info.reason === 'destroyed') return;
    showError(new Error(`the GPU device was lost: ${info.message}`));
    ctx = null;
    setState('error', 'The device was lost: reload the page.');
  });
  setState('ready', 'Ready: choose the rows and press Run.');
  if (params.has('autorun')) await run();
}

void start();
