// The page: opens WebGPU, lets the user pick a preset (or draw or load 2-D points), trains with
// the engine (session.ts) and shows what the training does: samples, D's heatmap and G's
// gradient arrows and manifold on the plane, a latent walk, metrics, quality over time. Only
// the device (navigator.gpu) and the files (downloads, file inputs, the static assets) are the
// browser's; everything else is the engine's public API and the modules beside this one.

import './style.css';
import classifierAssetUrl from '../../.cache/classifier-asset/mnist-classifier.safetensors.gz?url';
import fashionAssetUrl from '../../.cache/fashion-asset/fashion-idx.gz?url';
import mnistAssetUrl from '../../.cache/mnist-asset/mnist-idx.gz?url';
import { AdapterError, createLoss, datasetFromCsv, describeAdapter, encodeNpy, encodePng, preset, PRESET_NAMES, validateConfig, type Dataset, type GanConfig, type GanTrainer, type MetricsReport, type Mnist } from '../index.ts';
import { dataShape } from '../data/source.ts';
import { MIXTURES } from '../data/toy.ts';
import type { CheckpointContents } from '../gan/checkpoint.ts';
import { BROWSER_WEBGPU_HINT, openBrowserContext } from '../gpu/browser.ts';
import { MetricsCharts } from './charts.ts';
import { byId } from './dom.ts';
import { DrawingPad, ownDataConfig } from './drawing.ts';
import { loadFashionAsset } from './fashion-asset.ts';
import { configFromFields, describeChange, FieldError, fillFields, liveChange, readInteger, showFieldError, smoothable, type FormFields } from './form.ts';
import { decodeHistory, HISTORY_KEY, POINTS_KEY, withPageMetadata } from './history.ts';
import { loadMnistAsset, type ProgressCallback } from './mnist-asset.ts';
import type { Phase, PhaseReport } from './phases.ts';
import { hasManifold, isPlaneConfig, type PlaneFrame, type PlaneViews } from './plane.ts';
import { drawHeatScale, toPixel, type HeatScale, type PlaneLayers } from './plane-render.ts';
import { modesRow, QualityView, qualityKind } from './quality.ts';
import { realRowsPerIteration, TrainingSession } from './session.ts';
import { PageViews, type Shown } from './views.ts';

/** The page opens on a preset that trains in seconds on any adapter; ?preset=NAME picks another. */
const PAGE_DEFAULT_PRESET = 'toy-1d';
/** The preset list's entry for drawn or loaded 2-D points. */
const OWN_DATA = 'own-data';

type State = 'loading' | 'no-webgpu' | 'ready' | 'building' | 'loading-data' | 'training' | 'paused' | 'done' | 'error';

const ui = {
  main: byId('main'),
  adapter: byId('adapter'),
  webgpuError: byId('webgpu-error'),
  error: byId('error'),
  preset: byId<HTMLSelectElement>('preset'),
  presetError: byId('preset-error'),
  description: byId('description'),
  lockedNote: byId('locked-note'),
  start: byId<HTMLButtonElement>('start'),
  pause: byId<HTMLButtonElement>('pause'),
  step: byId<HTMLButtonElement>('step'),
  stepD: byId<HTMLButtonElement>('step-d'),
  stepG: byId<HTMLButtonElement>('step-g'),
  reset: byId<HTMLButtonElement>('reset'),
  slowMotion: byId<HTMLInputElement>('slow-motion'),
  phase: byId('phase'),
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
  planeTools: byId('plane-tools'),
  heatLo: byId('heat-lo'),
  heatHi: byId('heat-hi'),
  heatTitle: byId('heat-title'),
  heatScale: byId<HTMLCanvasElement>('heat-scale'),
  layerInputs: Array.from(document.querySelectorAll<HTMLInputElement>('[data-layer]')),
  digitTools: byId('digit-tools'),
  digit: byId<HTMLSelectElement>('digit'),
  ownData: byId('own-data'),
  drawPad: byId<HTMLCanvasElement>('draw-pad'),
  drawCount: byId('draw-count'),
  drawClear: byId<HTMLButtonElement>('draw-clear'),
  drawTrain: byId<HTMLButtonElement>('draw-train'),
  loadCsv: byId<HTMLInputElement>('load-csv'),
  ownDataError: byId('own-data-error'),
  walk: byId('walk'),
  walkCanvas: byId<HTMLCanvasElement>('walk-canvas'),
  walkT: byId<HTMLInputElement>('walk-t'),
  walkEnds: byId<HTMLButtonElement>('walk-ends'),
  iteration: byId('iteration'),
  target: byId('target'),
  itPerSec: byId('it-per-sec'),
  samplesPerSec: byId('samples-per-sec'),
  dLoss: byId('d-loss'),
  gLoss: byId('g-loss'),
  dReal: byId('d-real'),
  dFake: byId('d-fake'),
  dRealLabel: byId('d-real-label'),
  dFakeLabel: byId('d-fake-label'),
  measureViews: byId<HTMLButtonElement>('measure-views'),
  measureIterations: byId<HTMLInputElement>('measure-iterations'),
  viewCost: byId('view-cost'),
  qualityEveryLabel: byId('quality-every-label'),
  histogram: byId<HTMLCanvasElement>('histogram'),
  qualityCaption: byId('quality-caption'),
};

const fields: FormFields = {
  batch: byId<HTMLInputElement>('batch'),
  k: byId<HTMLInputElement>('k'),
  lrG: byId<HTMLInputElement>('lr-g'),
  lrD: byId<HTMLInputElement>('lr-d'),
  realLabel: byId<HTMLInputElement>('real-label'),
  iterations: byId<HTMLInputElement>('iterations'),
  seed: byId<HTMLInputElement>('seed'),
  qualityEvery: byId<HTMLInputElement>('quality-every'),
};
const liveFields = [fields.batch, fields.k, fields.lrG, fields.lrD, fields.realLabel];

let state: State = 'loading';
/** The config the form edits: a preset's, own data's, or a loaded checkpoint's. */
let baseConfig: GanConfig = preset(PAGE_DEFAULT_PRESET);
let session: TrainingSession | null = null;
let charts: MetricsCharts | null = null;
let quality: QualityView | null = null;
const views = new PageViews({ canvas: ui.samples, walkCanvas: ui.walkCanvas });
let shown: Shown | null = null;
let plane: { views: PlaneViews; frame: PlaneFrame; scale: HeatScale | null } | null = null;
/** Drawn or loaded 2-D points: what the own-data entry trains on. */
let ownData: Dataset | null = null;
/** The iteration of the last quality measurement of this run. */
let lastQuality = 0;
/** An action (build, step, save, load) is running: the buttons wait for it. */
let busy = false;

function setState(next: State, message: string): void {
  state = next;
  ui.status.dataset.state = next;
  ui.status.textContent = message;
  refreshControls();
}

function showError(e: unknown): void {
  if (e instanceof FieldError) {
    showFieldError(e.input, e.message);
    setState(session?.trainer ? 'paused' : 'ready', `Not started: ${e.message}.`);
    return;
  }
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
  ui.start.textContent = trainer && trainer.iteration > 0 ? 'Resume' : 'Start';
  ui.pause.disabled = !training;
  for (const b of [ui.step, ui.stepD, ui.stepG]) b.disabled = !idle;
  ui.reset.disabled = !hasDevice || busy || (!trainer && state !== 'error');
  ui.saveCheckpoint.disabled = !trainer || busy;
  ui.loadCheckpoint.disabled = !idle;
  ui.savePng.disabled = !shown || busy;
  ui.saveNpy.disabled = !shown || busy;
  for (const input of liveFields) input.disabled = !hasDevice || busy;
  fields.realLabel.disabled ||= !smoothable(trainer?.config ?? baseConfig);
  fields.seed.disabled = !hasDevice || trainer !== null || busy;
  fields.iterations.disabled = !hasDevice;
  ui.lockedNote.hidden = trainer === null;
  ui.drawTrain.disabled = !hasDevice || busy;
  ui.loadCsv.disabled = !hasDevice || busy;
  ui.measureViews.disabled = !idle || !trainer;
  ui.slowMotion.disabled = training;
}

// --- the form and the panels a config shows ------------------------------------------------------

function fillForm(config: GanConfig): void {
  const own = config.data.kind === 'dataset';
  if (!own && !Array.from(ui.preset.options).some((o) => o.value === config.preset)) ui.preset.add(new Option(config.preset, config.preset), ui.preset.options[PRESET_NAMES.length]);
  ui.preset.value = own ? OWN_DATA : config.preset;
  ui.description.textContent = config.description;
  fillFields(fields, config);
  ui.target.textContent = String(config.iterations);
  ui.presetError.hidden = true;
}

/** Shows the panels and labels of a config's kind of data and of its D's output. */
function configurePanels(config: GanConfig): void {
  const planar = isPlaneConfig(config);
  const images = dataShape(config.data).length === 3;
  ui.planeTools.hidden = !planar;
  ui.walk.hidden = !images;
  ui.digitTools.hidden = !config.conditional;
  if (!config.conditional) views.digit = null;
  const manifold = ui.layerInputs.find((i) => i.dataset.layer === 'manifold')!;
  manifold.disabled = !hasManifold(config);
  manifold.parentElement!.title = manifold.disabled ? "G's noise is not 2-D: its image is not a surface in the plane" : '';
  const score = trainerOutput(config) === 'score';
  ui.dRealLabel.textContent = score ? 'mean D(x) score' : 'mean D(x)';
  ui.dFakeLabel.textContent = score ? 'mean D(G(z)) score' : 'mean D(G(z))';
  ui.heatTitle.textContent = score ? "D's raw score (higher: real)" : 'D(x): the probability D gives that x is real';
  charts?.setOutput(score ? 'score' : 'probability');
  const kind = qualityKind(config);
  quality?.setKind(kind, config.data.kind === 'mixture' ? MIXTURES[config.data.name].centers.length : 10);
  ui.qualityEveryLabel.hidden = kind !== 'classifier';
  views.points = config.data.kind === 'dataset' && ownData ? ownData.values as Float32Array : null;
  views.reset();
  refreshControls();
}

function trainerOutput(config: GanConfig): 'probability' | 'score' {
  return createLoss(config).output;
}

function configFromForm(): GanConfig {
  const config = configFromFields(fields, baseConfig);
  validateConfig(config);
  return config;
}

function target(): number {
  return readInteger(fields.iterations, 'Iterations', 0);
}

function qualityEvery(): number {
  return readInteger(fields.qualityEvery, 'Quality every', 1);
}

// --- views -----------------------------------------------------------------------------------

function formatMetric(el: HTMLElement, value: number, digits = 4): void {
  el.dataset.value = String(value);
  el.textContent = Number.isFinite(value) ? value.toFixed(digits) : '–';
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

function captionFor(config: GanConfig, s: Shown): string {
  const n = s.samples.length / s.dim;
  const data = config.data;
  if (isPlaneConfig(config)) {
    const arrows = views.layers.arrows ? ' Black arrows: the way G’s next update moves each of the first 200 samples (minus the gradient of G’s loss; lengths scaled to stay readable).' : '';
    const manifold = views.layers.manifold && hasManifold(config) ? ' Grey mesh: G’s image of a regular grid of noise (±2 std).' : '';
    const real = data.kind === 'mixture' ? 'orange: real samples, rings: the modes (radius 3 std)' : 'orange: your points';
    return `Blue: G(z) for ${n.toLocaleString('en')} fixed z; ${real}; background: D over a 64 × 64 grid.${arrows}${manifold} Iteration ${s.iteration}.`;
  }
  if (data.kind === 'normal') {
    return `Blue: histogram of ${n.toLocaleString('en')} samples of G(z); orange: the target density N(${data.mean}, ${data.std}²); green: D(x). Iteration ${s.iteration}.`;
  }
  const digit = config.conditional && views.digit !== null ? `, all asked for class ${views.digit}` : config.conditional ? ', one class per row' : '';
  return `G(z) for the same ${n} noise vectors at every refresh${digit}; iteration ${s.iteration}.`;
}

function onShown(s: Shown, p: typeof plane): void {
  shown = s;
  plane = p;
  const config = session?.trainer?.config ?? baseConfig;
  ui.samples.dataset.iteration = String(s.iteration);
  ui.samplesCaption.textContent = captionFor(config, s);
  if (p) {
    ui.samples.dataset.frame = `${p.frame.cx},${p.frame.cy},${p.frame.half}`;
    if (p.scale) {
      ui.heatScale.dataset.lo = String(p.scale.lo);
      ui.heatScale.dataset.hi = String(p.scale.hi);
      ui.heatLo.textContent = `${p.scale.lo.toPrecision(2)}${p.scale.output === 'probability' ? ' fake' : ''}`;
      ui.heatHi.textContent = `${p.scale.hi.toPrecision(2)}${p.scale.output === 'probability' ? ' real' : ''}`;
    }
  }
  if (config.data.kind === 'mixture') {
    const row = modesRow(s.iteration, s.samples, MIXTURES[config.data.name]);
    ui.coverage.hidden = false;
    ui.coverage.dataset.modesCovered = String(row.modesCovered);
    ui.coverage.dataset.highQualityShare = String(row.highQualityShare);
    ui.coverage.textContent = `Modes covered: ${row.modesCovered} of ${row.modes}; high-quality samples (within 3 std of a mode): ${(100 * row.highQualityShare).toFixed(1)}%`;
    quality?.push(row);
  } else {
    ui.coverage.hidden = true;
  }
  showIteration(s.iteration);
  refreshControls();
}
views.onShown = onShown;

function showPhase(phase: Phase | null, report: PhaseReport | null): void {
  const net = phase === null ? '' : phase === 'g' ? 'g' : 'd';
  ui.phase.dataset.phase = net;
  ui.main.dataset.phase = net;
  ui.phase.textContent = net === 'd' ? (report ? 'D updated' : 'D updating…') : net === 'g' ? (report ? 'G updated' : 'G updating…') : ' ';
}

function clearViews(): void {
  shown = null;
  plane = null;
  views.reset();
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
  ui.samplesTitle.textContent = dataShape(baseConfig.data).length === 3 ? 'Samples (10 × 10, fixed noise)' : isPlaneConfig(baseConfig) ? 'Samples on the plane' : 'Samples';
  ui.viewCost.textContent = '';
  showPhase(null, null);
  charts?.clear();
  quality?.clear();
  lastQuality = 0;
}

// --- data ------------------------------------------------------------------------------------

function assetLoader<T>(what: string, load: (onProgress: ProgressCallback) => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | null = null;
  return () => {
    promise ??= (async () => {
      const previous: [State, string] = [state, ui.status.textContent ?? ''];
      setState('loading-data', `Loading ${what}…`);
      ui.progress.hidden = false;
      ui.progress.removeAttribute('value');
      try {
        const value = await load((loaded, total) => {
          if (total) {
            ui.progress.max = total;
            ui.progress.value = loaded;
          }
          ui.status.textContent = `Loading ${what}: ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`;
        });
        setState(...previous);
        return value;
      } finally {
        ui.progress.hidden = true;
      }
    })().catch((e) => {
      promise = null;
      throw e;
    });
    return promise;
  };
}

const loadMnist = assetLoader<Mnist>('MNIST', (p) => loadMnistAsset(mnistAssetUrl, p));
const loadFashion = assetLoader<Mnist>('Fashion-MNIST', (p) => loadFashionAsset(fashionAssetUrl, p));

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

/** A run's name in file names: the preset, and for points the data's name. */
function runName(config: GanConfig): string {
  return config.data.kind === 'dataset' ? `${config.preset}-${config.data.path.replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_')}` : config.preset;
}

/** The points a checkpoint of a run on points trains with: its own copy, else the page's if they match. */
function pointsFor(ckpt: CheckpointContents): Dataset | null {
  const data = ckpt.config.data;
  if (data.kind !== 'dataset') return null;
  const saved = ckpt.metadata[POINTS_KEY];
  if (saved !== undefined) return datasetFromCsv(saved, data.path);
  if (ownData && ownData.count === data.count && ownData.shape.join() === data.shape.join()) return ownData;
  throw new Error(`${ckpt.source ?? 'the checkpoint'} trained on ${data.path} (${data.count} points), which it does not hold: draw or load those points first`);
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
  configurePanels(config);
  setState('building', `Building ${config.preset}: compiling kernels and initialising the networks…`);
  const trainer = await session.build(config, config.data.kind === 'dataset' ? ownData : null);
  setState('paused', `Built ${config.preset} (${(trainer.memoryBytes / 1e6).toFixed(1)} MB of GPU buffers).`);
}

function pausedMessage(): [State, string] {
  const trainer = session?.trainer;
  if (!trainer) return ['ready', 'Ready.'];
  const goal = Number(fields.iterations.value);
  if (trainer.iteration >= goal) return ['done', `Done: iteration ${trainer.iteration} of ${goal}. Raise Iterations to train on.`];
  return ['paused', `Paused at iteration ${trainer.iteration}.`];
}

async function startTraining(): Promise<void> {
  let loop = null as Promise<void> | null;
  const slow = ui.slowMotion.checked;
  await act(async () => {
    await ensureTrainer();
    const goal = target();
    ui.target.textContent = String(goal);
    if (session!.trainer!.iteration >= goal) {
      setState(...pausedMessage());
      return;
    }
    loop = session!.train(goal, { slowMotion: slow });
    setState('training', slow ? `Training ${baseConfig.preset} in slow motion: D's phase, then G's, one per frame…` : `Training ${baseConfig.preset}…`);
  });
  if (!loop) return;
  refreshControls();
  try {
    await loop;
    setState(...pausedMessage());
  } catch (e) {
    showError(e);
  } finally {
    showPhase(null, null);
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

/** A live field changed: refused values get a message beside the field and change nothing. */
async function onLiveEdit(input: HTMLInputElement): Promise<void> {
  const trainer = session?.trainer;
  let changes;
  try {
    changes = liveChange(fields, input, trainer?.config ?? baseConfig);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    showFieldError(input, e.message);
    return;
  }
  showFieldError(input, null);
  if (!changes || !trainer || !session) return;
  // A field left with the value the run already has (its change event fires on blur) changes nothing.
  const config = trainer.config as unknown as Record<string, unknown>;
  if (Object.entries(changes).every(([key, value]) => JSON.stringify(config[key]) === JSON.stringify(value))) return;
  try {
    const next = await session.update(changes);
    if (next) {
      baseConfig = next.config;
      ui.status.textContent = `${describeChange(changes)} from iteration ${next.iteration + 1}.`;
      ui.status.dataset.edited = String(next.iteration);
    }
  } catch (e) {
    showFieldError(input, e instanceof Error ? e.message : String(e));
  }
}

/** The own-data entry's config for `d`, with the batch the form shows when it is valid. */
function ownConfig(d: Dataset): GanConfig {
  const batch = Number(fields.batch.value);
  return ownDataConfig(d, Number.isInteger(batch) && batch >= 1 ? batch : undefined);
}

function showOwnDataError(message: string | null): void {
  ui.ownDataError.textContent = message ?? '';
  ui.ownDataError.hidden = message === null;
}

/** Switches the page to train on `d` (already checked): the current run is discarded. */
async function useOwnData(d: Dataset, config: GanConfig): Promise<void> {
  await session?.discard();
  ownData = d;
  baseConfig = config;
  fillForm(config);
  configurePanels(config);
  clearViews();
  setState('ready', `Ready to train on ${d.source} (${d.count} points).`);
}

function wireControls(pad: DrawingPad): void {
  ui.preset.addEventListener('change', () =>
    act(async () => {
      if (ui.preset.value === OWN_DATA) {
        if (!ownData) {
          ui.preset.value = baseConfig.data.kind === 'dataset' ? OWN_DATA : baseConfig.preset;
          ui.presetError.textContent = 'Draw points on the pad or load a CSV of points first.';
          ui.presetError.hidden = false;
          return;
        }
        await useOwnData(ownData, ownConfig(ownData));
        return;
      }
      await session?.discard();
      baseConfig = preset(ui.preset.value);
      fillForm(baseConfig);
      configurePanels(baseConfig);
      clearViews();
      setState('ready', 'Ready.');
    }),
  );
  fields.iterations.addEventListener('change', () => {
    try {
      ui.target.textContent = String(readInteger(fields.iterations, 'Iterations', 0));
      showFieldError(fields.iterations, null);
    } catch (e) {
      showFieldError(fields.iterations, (e as Error).message);
    }
  });
  fields.qualityEvery.addEventListener('change', () => {
    try {
      qualityEvery();
      showFieldError(fields.qualityEvery, null);
    } catch (e) {
      showFieldError(fields.qualityEvery, (e as Error).message);
    }
  });
  fields.seed.addEventListener('change', () => {
    try {
      readInteger(fields.seed, 'Seed', 0);
      showFieldError(fields.seed, null);
    } catch (e) {
      showFieldError(fields.seed, (e as Error).message);
    }
  });
  for (const input of liveFields) input.addEventListener('change', () => void onLiveEdit(input));
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
  for (const [button, phase, what] of [
    [ui.stepD, 'd+tick', 'D'],
    [ui.stepG, 'g', 'G'],
  ] as const) {
    button.addEventListener('click', () =>
      act(async () => {
        await ensureTrainer();
        setState('training', `Running one iteration in which only ${what} learns…`);
        await session!.stepPhase(phase);
        setState(...pausedMessage());
      }),
    );
  }
  ui.reset.addEventListener('click', () => void resetSession());
  ui.saveCheckpoint.addEventListener('click', () =>
    act(async () => {
      const trainer = session!.trainer!;
      const config = trainer.config;
      const bytes = withPageMetadata(await session!.checkpoint(), {
        history: { metrics: [...(charts?.rows ?? [])], quality: [...(quality?.rows ?? [])] },
        points: config.data.kind === 'dataset' ? ownData : null,
      });
      download(bytes, `${runName(config)}-iteration-${trainer.iteration}.safetensors`, 'application/octet-stream');
    }),
  );
  ui.loadCheckpoint.addEventListener('change', () => {
    const file = ui.loadCheckpoint.files?.[0];
    if (!file) return;
    void act(async () => {
      setState('building', `Loading ${file.name}…`);
      let points: Dataset | null = null;
      const { trainer } = await session!.restore(new Uint8Array(await file.arrayBuffer()), file.name, {
        points: (ckpt) => (points = pointsFor(ckpt)),
        // Before the first redraw: the panels of its kind, its points, and its charts' history.
        before: (ckpt) => {
          if (points) ownData = points;
          baseConfig = ckpt.config;
          fillForm(ckpt.config);
          configurePanels(ckpt.config);
          clearViews();
          const history = decodeHistory(ckpt.metadata[HISTORY_KEY], ckpt.iteration);
          charts?.load(history?.metrics ?? []);
          quality?.load(history?.quality ?? []);
          lastQuality = history?.quality.filter((q) => q.kind === 'classifier').at(-1)?.iteration ?? ckpt.iteration;
        },
      });
      fields.iterations.value = String(Math.max(trainer.config.iterations, trainer.iteration));
      ui.target.textContent = fields.iterations.value;
      showIteration(trainer.iteration);
      setState('paused', `Loaded ${file.name}: ${trainer.config.preset} at iteration ${trainer.iteration}.`);
    }).finally(() => {
      ui.loadCheckpoint.value = '';
    });
  });
  ui.savePng.addEventListener('click', () => {
    if (!shown) return;
    const canvas = ui.samples;
    const pixels = shown.image ?? { width: canvas.width, height: canvas.height, data: canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data };
    download(encodePng(pixels), `${runName(baseConfig)}-iteration-${shown.iteration}.png`, 'image/png');
  });
  ui.saveNpy.addEventListener('click', () => {
    if (shown) download(encodeNpy(shown.samples, [shown.samples.length / shown.dim, shown.dim]), `${runName(baseConfig)}-iteration-${shown.iteration}.npy`, 'application/octet-stream');
  });

  // The plane's layers: a toggle repaints at once from the last views, and the next redraw
  // computes only the layers that are on.
  for (const input of ui.layerInputs) {
    input.addEventListener('change', () => {
      views.layers[input.dataset.layer as keyof PlaneLayers] = input.checked;
      if (!views.repaintPlane() || (input.checked && session?.trainer && !session.training)) void session?.redraw();
      if (shown) ui.samplesCaption.textContent = captionFor(session?.trainer?.config ?? baseConfig, shown);
    });
  }

  // Own data: draw, or load a CSV; refused input is said beside the control, and the run stays.
  pad.onChange = () => {
    ui.drawCount.textContent = `${pad.count} point${pad.count === 1 ? '' : 's'}`;
    ui.drawCount.dataset.count = String(pad.count);
  };
  ui.drawClear.addEventListener('click', () => {
    pad.clear();
    showOwnDataError(null);
  });
  ui.drawTrain.addEventListener('click', () => {
    let d: Dataset;
    let config: GanConfig;
    try {
      d = pad.toDataset();
      config = ownConfig(d);
    } catch (e) {
      showOwnDataError((e as Error).message);
      return;
    }
    showOwnDataError(null);
    void act(async () => useOwnData(d, config)).then(() => startTraining());
  });
  ui.loadCsv.addEventListener('change', () => {
    const file = ui.loadCsv.files?.[0];
    if (!file) return;
    void (async () => {
      let d: Dataset;
      let config: GanConfig;
      try {
        d = datasetFromCsv(await file.text(), file.name);
        config = ownConfig(d);
      } catch (e) {
        showOwnDataError((e as Error).message);
        return;
      }
      showOwnDataError(null);
      await act(async () => useOwnData(d, config));
    })().finally(() => {
      ui.loadCsv.value = '';
    });
  });

  // Image presets: the digit picker and the latent walk redraw in the GPU queue, the latest
  // request only (a slider dragged across many values draws the last).
  let walkPending = false;
  const redrawWalk = () => {
    if (walkPending) return;
    walkPending = true;
    void session
      ?.withTrainer(async (t) => {
        walkPending = false;
        if (t) await views.redrawWalk(t);
      })
      .catch(showError);
  };
  ui.walkT.addEventListener('input', () => {
    views.walkT = Number(ui.walkT.value);
    redrawWalk();
  });
  ui.walkEnds.addEventListener('click', () => {
    views.walkEnds = [views.walkEnds[1] + 1, views.walkEnds[1] + 2];
    redrawWalk();
  });
  for (let d = 0; d < 10; d++) ui.digit.add(new Option(String(d), String(d)));
  ui.digit.addEventListener('change', () => {
    views.digit = ui.digit.value === '' ? null : Number(ui.digit.value);
    void session?.redraw().catch(showError);
  });

  ui.measureViews.addEventListener('click', () =>
    act(async () => {
      const n = readInteger(ui.measureIterations, 'Iterations per block', 1);
      setState('training', `Measuring: ${4 * n} iterations, views off, on, on, off…`);
      const cost = await session!.measureViewCost(n);
      await session!.redraw();
      if (!cost) {
        ui.viewCost.textContent = 'The measurement was paused before its last block: no figures.';
        setState(...pausedMessage());
        return;
      }
      Object.assign(ui.viewCost.dataset, {
        on: String(cost.on),
        off: String(cost.off),
        ratio: String(cost.ratio),
        viewShare: String(cost.viewShare),
        sameLoadRatio: String(cost.sameLoadRatio),
        redrawMs: String(cost.redrawMs),
      });
      const percent = (v: number) => `${(100 * v).toFixed(0)}%`;
      ui.viewCost.textContent =
        `Views on: ${cost.on.toFixed(2)} it/s; views off: ${cost.off.toFixed(2)} it/s (${percent(cost.ratio)}, each in its own blocks of ${n} iterations, at the load the machine had then). ` +
        `The views took ${percent(cost.viewShare)} of the views-on blocks' time: at equal load, ${percent(cost.sameLoadRatio)} of the speed with the views off (the aim: at least 80%). ` +
        `A redraw takes ${cost.redrawMs.toFixed(0)} ms; the views redraw at most every ${(cost.intervalMs / 1000).toFixed(1)} s while training.`;
      setState(...pausedMessage());
    }),
  );
}

// --- start-up --------------------------------------------------------------------------------

/** What the page's tests and a curious reader can inspect from the console. */
function exposeForInspection(): void {
  (window as unknown as { webgpuGanPage: object }).webgpuGanPage = {
    get config() {
      return session?.trainer?.config ?? null;
    },
    get plane() {
      return plane;
    },
    get shown() {
      return shown;
    },
    get ownData() {
      return ownData;
    },
    get lastQuality() {
      return quality?.rows.filter((r) => r.kind === 'classifier').at(-1) ?? null;
    },
    get chartRows() {
      return { metrics: charts?.rows.length ?? 0, quality: quality?.rows.length ?? 0, lastIteration: charts?.rows.at(-1)?.iteration ?? null };
    },
    toPixel: (x: number, y: number) => (plane ? toPixel(plane.frame, ui.samples.width, x, y) : null),
  };
}

async function main(): Promise<void> {
  for (const name of PRESET_NAMES) ui.preset.add(new Option(name, name));
  ui.preset.add(new Option('your 2-D data (draw or load)', OWN_DATA));
  const requested = new URLSearchParams(location.search).get('preset');
  if (requested && (PRESET_NAMES as string[]).includes(requested)) baseConfig = preset(requested);
  fillForm(baseConfig);
  drawHeatScale(ui.heatScale);
  const pad = new DrawingPad(ui.drawPad);
  clearViews();
  configurePanels(baseConfig);
  refreshControls();
  exposeForInspection();
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
  const loadClassifierProgress: ProgressCallback = (loaded, total) => {
    ui.status.textContent = `Loading the MNIST classifier: ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`;
  };
  quality = new QualityView(byId('chart-quality'), ui.histogram, ui.qualityCaption, { ctx, url: classifierAssetUrl, onProgress: loadClassifierProgress });
  configurePanels(baseConfig);
  session = new TrainingSession(
    ctx,
    {
      metrics: showMetrics,
      rate: showRate,
      redraw: (t: GanTrainer) => views.redraw(t),
      qualityDue: (t) => {
        if (qualityKind(t.config) !== 'classifier') return false;
        try {
          return t.iteration - lastQuality >= qualityEvery();
        } catch {
          return false; // the field shows why
        }
      },
      measureQuality: async (t) => {
        await quality!.measureClassifier(t);
        lastQuality = t.iteration;
      },
      phase: showPhase,
    },
    { mnist: loadMnist, fashion: loadFashion },
  );
  wireControls(pad);
  setState('ready', 'Ready.');
}

void main().catch(showError);
