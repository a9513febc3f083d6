// The page: opens WebGPU, lets the user pick a preset and its main hyperparameters, trains
// with the engine (session.ts) and shows samples, metrics and charts as they come. Only the
// device (navigator.gpu) and the files (downloads, file input, the MNIST asset) are the
// browser's; everything else is the engine's public API.

import './style.css';
import mnistAssetUrl from '../../.cache/mnist-asset/mnist-idx.gz?url';
import { AdapterError, describeAdapter, encodeNpy, encodePng, planNetwork, preset, PRESET_NAMES, validateConfig, type GanConfig, type MetricsReport, type Mnist } from '../index.ts';
import { MIXTURES, modeCoverage } from '../data/toy.ts';
import { BROWSER_WEBGPU_HINT, openBrowserContext } from '../gpu/browser.ts';
import { MetricsCharts } from './charts.ts';
import { byId } from './dom.ts';
import { loadMnistAsset } from './mnist-asset.ts';
import { realRowsPerIteration, TrainingSession, type Preview } from './session.ts';

/** The page opens on a preset that trains in seconds on any adapter; ?preset=NAME picks another. */
const PAGE_DEFAULT_PRESET = 'toy-1d';

type State = 'loading' | 'no-webgpu' | 'ready' | 'building' | 'loading-data' | 'training' | 'paused' | 'done' | 'error';

const ui = {
  adapter: byId('adapter'),
  webgpuError: byId('webgpu-error'),
  error: byId('error'),
  preset: byId<HTMLSelectElement>('preset'),
  description: byId('description'),
  batch: byId<HTMLInputElement>('batch'),
  k: byId<HTMLInputElement>('k'),
  lrG: byId<HTMLInputElement>('lr-g'),
  lrD: byId<HTMLInputElement>('lr-d'),
  iterations: byId<HTMLInputElement>('iterations'),
  seed: byId<HTMLInputElement>('seed'),
  lockedNote: byId('locked-note'),
  start: byId<HTMLButtonElement>('start'),
  pause: byId<HTMLButtonElement>('pause'),
  step: byId<HTMLButtonElement>('step'),
  reset: byId<HTMLButtonElement>('reset'),
  saveCheckpoint: byId<HTMLButtonElement>('save-checkpoint'),
  loadCheckpoint: byId<HTMLInputElement>('load-checkpoint'),
  savePng: byId<HTMLButtonElement>('save-png'),
  saveNpy: byId<HTMLButtonElement>('save-npy'),
  status: byId('status'),
  progress: byId<HTMLProgressElement>('data-progress'),
  samplesTitle: byId('samples-title'),
  samples: byId<HTMLCanvasElement>('samples'),
  samplesCaption: byId('samples-caption'),
  coverage: byId('coverage'),
  iteration: byId('iteration'),
  target: byId('target'),
  itPerSec: byId('it-per-sec'),
  samplesPerSec: byId('samples-per-sec'),
  dLoss: byId('d-loss'),
  gLoss: byId('g-loss'),
  dReal: byId('d-real'),
  dFake: byId('d-fake'),
};

const hyperparameterInputs = [ui.batch, ui.k, ui.lrG, ui.lrD, ui.seed];

let state: State = 'loading';
/** The config the form edits: a preset's, or a loaded checkpoint's. */
let baseConfig: GanConfig = preset(PAGE_DEFAULT_PRESET);
let session: TrainingSession | null = null;
let charts: MetricsCharts | null = null;
let lastPreview: Preview | null = null;
/** An action (build, step, save, load) is running: the buttons wait for it. */
let busy = false;

function setState(next: State, message: string): void {
  state = next;
  ui.status.dataset.state = next;
  ui.status.textContent = message;
  refreshControls();
}

function showError(e: unknown): void {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  ui.error.textContent = message;
  ui.error.hidden = false;
  console.error(e);
  setState('error', 'Stopped by an error (above). Reset to start again.');
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function refreshControls(): void {
  const hasDevice = session !== null;
  const trainer = session?.trainer ?? null;
  const training = session?.training ?? false;
  const idle = hasDevice && !busy && !training;
  ui.preset.disabled = !hasDevice || busy;
  ui.start.disabled = !idle;
  ui.pause.disabled = !training;
  ui.step.disabled = !idle;
  ui.reset.disabled = !hasDevice || busy || (!trainer && state !== 'error');
  ui.saveCheckpoint.disabled = !trainer || busy;
  ui.loadCheckpoint.disabled = !idle;
  ui.savePng.disabled = !lastPreview || busy;
  ui.saveNpy.disabled = !lastPreview || busy;
  for (const input of hyperparameterInputs) input.disabled = !hasDevice || trainer !== null || busy;
  ui.iterations.disabled = !hasDevice;
  ui.lockedNote.hidden = trainer === null;
}

// --- the form --------------------------------------------------------------------------------

function fillForm(config: GanConfig): void {
  if (!Array.from(ui.preset.options).some((o) => o.value === config.preset)) ui.preset.add(new Option(config.preset, config.preset));
  ui.preset.value = config.preset;
  ui.description.textContent = config.description;
  ui.batch.value = String(config.batch);
  ui.k.value = String(config.k);
  ui.lrG.value = String(config.optimizerG.lr);
  ui.lrD.value = String(config.optimizerD.lr);
  ui.iterations.value = String(config.iterations);
  ui.seed.value = String(config.seed);
  ui.target.textContent = String(config.iterations);
}

function readInteger(input: HTMLInputElement, name: string, least: number): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isInteger(v) || v < least) throw new Error(`${name} must be an integer >= ${least}, got '${input.value}'`);
  return v;
}

function readPositive(input: HTMLInputElement, name: string): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !(v > 0) || !Number.isFinite(v)) throw new Error(`${name} must be a positive number, got '${input.value}'`);
  return v;
}

/** The base config with the form's values, validated by the engine. */
function configFromForm(): GanConfig {
  const config = structuredClone(baseConfig);
  config.batch = readInteger(ui.batch, 'Batch', 1);
  config.k = readInteger(ui.k, 'k', 1);
  config.optimizerG = { ...config.optimizerG, lr: readPositive(ui.lrG, 'LR of G') };
  config.optimizerD = { ...config.optimizerD, lr: readPositive(ui.lrD, 'LR of D') };
  config.iterations = readInteger(ui.iterations, 'Iterations', 0);
  config.seed = readInteger(ui.seed, 'Seed', 0);
  validateConfig(config);
  return config;
}

function target(): number {
  return readInteger(ui.iterations, 'Iterations', 0);
}

// --- views -----------------------------------------------------------------------------------

function formatMetric(el: HTMLElement, value: number, digits = 4): void {
  el.dataset.value = String(value);
  el.textContent = Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

function showIteration(iteration: number): void {
  ui.iteration.textContent = String(iteration);
  ui.iteration.dataset.value = String(iteration);
}

function showMetrics(m: MetricsReport): void {
  formatMetric(ui.dLoss, m.dLoss);
  formatMetric(ui.gLoss, m.gLoss);
  formatMetric(ui.dReal, m.dReal);
  formatMetric(ui.dFake, m.dFake);
  showIteration(m.iteration);
  charts?.push(m);
}

function showRate(itPerSec: number, iteration: number): void {
  const config = session?.trainer?.config;
  formatMetric(ui.itPerSec, itPerSec, 1);
  const average = session?.averageItPerSec;
  if (average) ui.itPerSec.dataset.average = String(average);
  if (config) formatMetric(ui.samplesPerSec, itPerSec * realRowsPerIteration(config), 0);
  showIteration(iteration);
}

function captionFor(config: GanConfig, p: Preview): string {
  const data = config.data;
  const n = p.samples.length / (planNetwork('generator', config.generator).output.reduce((a, b) => a * b, 1) || 1);
  switch (data.kind) {
    case 'mnist':
      return `G(z) for the same ${n} noise vectors at every refresh; iteration ${p.iteration}.`;
    case 'normal':
      return `Blue: histogram of ${n.toLocaleString('en')} samples of G(z); orange: the target density N(${data.mean}, ${data.std}²); green: D(x). Iteration ${p.iteration}.`;
    case 'mixture':
      return `Blue: G(z) for ${n.toLocaleString('en')} fixed z; orange rings: the target modes (radius 3 std). Iteration ${p.iteration}.`;
    default:
      return `G(z) for the same ${n} noise vectors at every refresh; iteration ${p.iteration}.`;
  }
}

function showPreview(p: Preview): void {
  lastPreview = p;
  const config = session?.trainer?.config ?? baseConfig;
  const { image } = p;
  if (ui.samples.width !== image.width || ui.samples.height !== image.height) {
    ui.samples.width = image.width;
    ui.samples.height = image.height;
  }
  ui.samples.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  ui.samples.dataset.iteration = String(p.iteration);
  ui.samplesCaption.textContent = captionFor(config, p);
  if (config.data.kind === 'mixture') {
    const c = modeCoverage(p.samples, MIXTURES[config.data.name]);
    ui.coverage.hidden = false;
    ui.coverage.dataset.modesCovered = String(c.modesCovered);
    ui.coverage.dataset.highQualityShare = String(c.highQualityShare);
    ui.coverage.textContent = `Modes covered: ${c.modesCovered} of ${c.modes}; high-quality samples (within 3 std of a mode): ${(100 * c.highQualityShare).toFixed(1)}%`;
  } else {
    ui.coverage.hidden = true;
  }
  showIteration(p.iteration);
  refreshControls();
}

function clearViews(): void {
  lastPreview = null;
  for (const el of [ui.dLoss, ui.gLoss, ui.dReal, ui.dFake, ui.itPerSec, ui.samplesPerSec]) {
    el.textContent = '–';
    delete el.dataset.value;
    delete el.dataset.average;
  }
  showIteration(0);
  const g = ui.samples.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, ui.samples.width, ui.samples.height);
  delete ui.samples.dataset.iteration;
  ui.samplesCaption.textContent = 'Press Start or Step: the samples of the generator appear here.';
  ui.coverage.hidden = true;
  ui.samplesTitle.textContent = baseConfig.data.kind === 'mnist' ? 'Samples (10 × 10, fixed noise)' : 'Samples';
  charts?.clear();
}

// --- files -----------------------------------------------------------------------------------

function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

let mnistPromise: Promise<Mnist> | null = null;

function loadMnist(): Promise<Mnist> {
  mnistPromise ??= (async () => {
    const previous: [State, string] = [state, ui.status.textContent ?? ''];
    setState('loading-data', 'Loading MNIST…');
    ui.progress.hidden = false;
    ui.progress.removeAttribute('value');
    try {
      const mnist = await loadMnistAsset(mnistAssetUrl, (loaded, total) => {
        if (total) {
          ui.progress.max = total;
          ui.progress.value = loaded;
        }
        ui.status.textContent = `Loading MNIST: ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`;
      });
      setState(...previous);
      return mnist;
    } finally {
      ui.progress.hidden = true;
    }
  })().catch((e) => {
    mnistPromise = null;
    throw e;
  });
  return mnistPromise;
}

// --- actions ---------------------------------------------------------------------------------

/** Runs a user action with the controls locked, reporting its error instead of losing it. */
async function act(fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  clearError();
  refreshControls();
  try {
    await fn();
  } catch (e) {
    showError(e);
  } finally {
    busy = false;
    refreshControls();
  }
}

async function ensureTrainer(): Promise<void> {
  if (!session || session.trainer) return;
  const config = configFromForm();
  baseConfig = config;
  setState('building', `Building ${config.preset}: compiling kernels and initialising the networks…`);
  const trainer = await session.build(config);
  setState('paused', `Built ${config.preset} (${(trainer.memoryBytes / 1e6).toFixed(1)} MB of GPU buffers).`);
}

function pausedMessage(): [State, string] {
  const trainer = session?.trainer;
  if (!trainer) return ['ready', 'Ready.'];
  const goal = Number(ui.iterations.value);
  if (trainer.iteration >= goal) return ['done', `Done: iteration ${trainer.iteration} of ${goal}. Raise Iterations to train on.`];
  return ['paused', `Paused at iteration ${trainer.iteration}.`];
}

async function startTraining(): Promise<void> {
  let loop = null as Promise<void> | null;
  await act(async () => {
    await ensureTrainer();
    const goal = target();
    ui.target.textContent = String(goal);
    if (session!.trainer!.iteration >= goal) {
      setState(...pausedMessage());
      return;
    }
    loop = session!.train(goal);
    setState('training', `Training ${baseConfig.preset}…`);
  });
  if (!loop) return;
  refreshControls();
  try {
    await loop;
    setState(...pausedMessage());
  } catch (e) {
    showError(e);
  }
}

async function resetSession(): Promise<void> {
  await act(async () => {
    // The form keeps its values: Reset then Start trains afresh with what it shows.
    await session?.discard();
    clearViews();
    setState('ready', 'Ready.');
  });
}

function wireControls(): void {
  ui.preset.addEventListener('change', () =>
    act(async () => {
      await session?.discard();
      baseConfig = preset(ui.preset.value);
      fillForm(baseConfig);
      clearViews();
      setState('ready', 'Ready.');
    }),
  );
  ui.iterations.addEventListener('change', () => {
    const v = Number(ui.iterations.value);
    if (Number.isInteger(v) && v >= 0) ui.target.textContent = String(v);
  });
  ui.start.addEventListener('click', () => void startTraining());
  ui.pause.addEventListener('click', () => void session?.pause());
  ui.step.addEventListener('click', () =>
    act(async () => {
      await ensureTrainer();
      setState('training', 'Running one iteration…');
      await session!.step();
      setState(...pausedMessage());
    }),
  );
  ui.reset.addEventListener('click', () => void resetSession());
  ui.saveCheckpoint.addEventListener('click', () =>
    act(async () => {
      const trainer = session!.trainer!;
      const bytes = await session!.checkpoint();
      download(bytes, `${trainer.config.preset}-iteration-${trainer.iteration}.safetensors`, 'application/octet-stream');
    }),
  );
  ui.loadCheckpoint.addEventListener('change', () => {
    const file = ui.loadCheckpoint.files?.[0];
    if (!file) return;
    void act(async () => {
      setState('building', `Loading ${file.name}…`);
      const trainer = await session!.restore(new Uint8Array(await file.arrayBuffer()), file.name);
      baseConfig = trainer.config;
      fillForm(trainer.config);
      charts?.clear();
      ui.iterations.value = String(Math.max(trainer.config.iterations, trainer.iteration));
      ui.target.textContent = ui.iterations.value;
      showIteration(trainer.iteration);
      setState('paused', `Loaded ${file.name}: ${trainer.config.preset} at iteration ${trainer.iteration}.`);
    }).finally(() => {
      ui.loadCheckpoint.value = '';
    });
  });
  ui.savePng.addEventListener('click', () => {
    if (lastPreview) download(encodePng(lastPreview.image), `${baseConfig.preset}-iteration-${lastPreview.iteration}.png`, 'image/png');
  });
  ui.saveNpy.addEventListener('click', () => {
    if (!lastPreview) return;
    const dim = session?.trainer?.G.outputSize ?? 1;
    download(encodeNpy(lastPreview.samples, [lastPreview.samples.length / dim, dim]), `${baseConfig.preset}-iteration-${lastPreview.iteration}.npy`, 'application/octet-stream');
  });
}

// --- start-up --------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const name of PRESET_NAMES) ui.preset.add(new Option(name, name));
  const requested = new URLSearchParams(location.search).get('preset');
  if (requested && (PRESET_NAMES as string[]).includes(requested)) baseConfig = preset(requested);
  fillForm(baseConfig);
  clearViews();
  refreshControls();
  window.addEventListener('unhandledrejection', (event) => showError(event.reason));

  let ctx;
  try {
    ctx = await openBrowserContext();
  } catch (e) {
    const message = e instanceof AdapterError ? e.message : `WebGPU failed to start: ${(e as Error).message}. ${BROWSER_WEBGPU_HINT}`;
    ui.webgpuError.textContent = message;
    ui.webgpuError.hidden = false;
    ui.adapter.textContent = 'none';
    setState('no-webgpu', 'WebGPU is not available: see the message above.');
    return;
  }
  // Browsers may hide the device's name; the architecture (e.g. swiftshader) still tells it.
  ui.adapter.textContent = describeAdapter({ ...ctx.adapter, description: ctx.adapter.description || ctx.adapter.device || ctx.adapter.architecture });
  byId('charts').hidden = false;
  charts = new MetricsCharts(byId('chart-losses'), byId('chart-outputs'));
  session = new TrainingSession(ctx, { metrics: showMetrics, preview: showPreview, rate: showRate }, loadMnist);
  wireControls();
  setState('ready', 'Ready.');
}

void main().catch(showError);
