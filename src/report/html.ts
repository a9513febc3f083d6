// report.html: one self-contained file that opens from disk with no server and no network. The
// tables (figures, evaluation, config) are written here as HTML; the charts and the frame
// slider are drawn in the page by page.js with uPlot, both inlined, from the run data embedded as
// JSON. The frames are data: URLs. A Content-Security-Policy forbids every fetch, so the page
// cannot reach the network even by mistake.

import PAGE_CSS from './page.css?raw';
import PAGE_SCRIPT from './page.js?raw';
import { configDiff, discriminatorOutput, finalFigures, flatten, runStatus, type FinalFigures, type RunData } from './model.ts';

/** The chart library's code and style, inlined into every report. */
export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
}

/** A colour per run in a comparison (the run's series in every chart). */
const RUN_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** Scripts and styles inline; images only as data: URLs; nothing else. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that can sit inside a <script> element: no '<' can close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function base64(bytes: Uint8Array): string {
  const buffer = (globalThis as { Buffer?: { from(b: Uint8Array): { toString(enc: string): string } } }).Buffer;
  if (buffer) return buffer.from(bytes).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** A figure for a table: four significant digits, '-' when there is none. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
}

/** Names for the runs' columns: directory names, or the paths as given where two names agree. */
function runNames(runs: readonly RunData[]): string[] {
  return runs.map((r) => (runs.filter((o) => o.name === r.name).length > 1 ? r.dir : r.name));
}

/** What page.js draws from. */
interface PageRun {
  name: string;
  color: string;
  dOutput: 'probability' | 'score';
  metrics: Record<'iteration' | 'dLoss' | 'gLoss' | 'dReal' | 'dFake' | 'itPerSec', (number | null)[]>;
  frames: { iteration: number; src: string }[];
}

function pageRun(run: RunData, name: string, color: string): PageRun {
  const column = (key: 'iteration' | 'dLoss' | 'gLoss' | 'dReal' | 'dFake' | 'itPerSec') => run.metrics.map((m) => (Number.isFinite(m[key]) ? m[key] : null));
  return {
    name,
    color,
    dOutput: discriminatorOutput(run.config),
    metrics: { iteration: column('iteration'), dLoss: column('dLoss'), gLoss: column('gLoss'), dReal: column('dReal'), dFake: column('dFake'), itPerSec: column('itPerSec') },
    frames: run.frames.map((f) => ({ iteration: f.iteration, src: `data:image/png;base64,${base64(f.png)}` })),
  };
}

function page(title: string, body: string, data: { kind: 'run' | 'comparison'; runs: PageRun[] }, assets: ReportAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${assets.uplotCss}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${assets.uplotJs}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function table(head: string[], rows: string[][], testid: string): string {
  return `<table data-testid="${testid}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function problemsSection(entries: { run?: string; problems: string[] }[]): string {
  const items = entries.flatMap((e) => e.problems.map((p) => `<li>${e.run ? `<b>${escapeHtml(e.run)}</b>: ` : ''}${escapeHtml(p)}</li>`));
  if (!items.length) return '';
  return `<section class="problems" data-testid="problems"><h2>Missing or damaged files</h2><p>The report shows what could be read.</p><ul>${items.join('')}</ul></section>`;
}

function framesSection(runs: PageRun[], names: boolean): string {
  const figures = runs
    .map((r) => {
      const last = r.frames.at(-1);
      const img = last ? `<img data-testid="frame-image" alt="samples at iteration ${last.iteration}" src="${last.src}">` : '<p class="empty">no frames</p>';
      return `<figure>${img}${names ? `<figcaption style="color:${r.color}">${escapeHtml(r.name)}</figcaption>` : ''}</figure>`;
    })
    .join('');
  const total = new Set(runs.flatMap((r) => r.frames.map((f) => f.iteration))).size;
  const controls = total
    ? `<div class="frame-controls"><button type="button" data-testid="frame-play">Play</button><input type="range" min="0" max="${total - 1}" value="${total - 1}" data-testid="frame-slider" aria-label="iteration"><output data-testid="frame-label"></output></div>`
    : '';
  return `<section><h2>Samples of one fixed noise set</h2><p class="note">The same noise for every frame, so what changes is the generator alone.</p><div class="frames">${figures}</div>${controls}</section>`;
}

function chartsSection(ids: string[]): string {
  return `<section><h2>Training</h2><div class="charts">${ids.map((id) => `<div class="chart" data-chart="${id}" data-testid="chart"></div>`).join('')}</div></section>`;
}

function figureCells(f: FinalFigures): string[] {
  return [
    f.iteration === null ? '-' : `${f.iteration}${f.target !== null ? ` / ${f.target}` : ''}`,
    formatFigure(f.dLoss),
    formatFigure(f.gLoss),
    formatFigure(f.dReal),
    formatFigure(f.dFake),
    formatFigure(f.itPerSec),
    Number.isFinite(f.trainingSeconds) && f.trainingSeconds ? `${f.trainingSeconds.toFixed(1)} s` : '-',
    String(f.frames),
  ];
}

const FIGURE_HEADS = ['iteration', 'D loss', 'G loss', 'mean D(x)', 'mean D(G(z))', 'it/s (whole run)', 'training time', 'frames'];

/** eval.json's figures as path -> text; the checkpoint path it names is the run's own and left out. */
function evalFigures(run: RunData): Map<string, string> {
  if (!run.evaluation) return new Map();
  return new Map(flatten(run.evaluation).filter(([path]) => path !== 'checkpoint').map(([p, v]) => [p, /^-?\d+\.\d{5,}(e[-+]\d+)?$/.test(v) ? formatFigure(Number(v)) : v]));
}

function evalNote(run: RunData): string {
  return `no eval.json: <code>npm run eval -- --checkpoint ${escapeHtml(`${run.dir}/checkpoint.safetensors`)}</code> writes one`;
}

/** The report of one run. */
export function runReportHtml(run: RunData, assets: ReportAssets): string {
  const config = run.config;
  const data = pageRun(run, run.name, RUN_COLORS[0]);
  const title = `${run.name}: webgpu-gan run`;
  const describe = config ? `preset <b>${escapeHtml(String(config.preset ?? '?'))}</b>: ${escapeHtml(String(config.description ?? ''))}` : 'no config';
  const evals = evalFigures(run);
  const evalIteration = typeof run.evaluation?.iteration === 'number' ? ` (the checkpoint of iteration ${run.evaluation.iteration})` : '';
  const body = [
    `<header><h1 data-testid="title">${escapeHtml(run.name)}</h1><p>${describe}</p><p data-testid="status">${escapeHtml(runStatus(run))}</p><p class="note">${escapeHtml(run.dir)}</p></header>`,
    problemsSection([{ problems: run.problems }]),
    framesSection([data], false),
    chartsSection(['losses', 'outputs', 'speed']),
    `<section><h2>Figures</h2><h3>The last metrics window</h3>${table(FIGURE_HEADS, [figureCells(finalFigures(run))], 'figures')}`,
    evals.size
      ? `<h3>npm run eval${escapeHtml(evalIteration)}</h3>${table(['figure', 'value'], [...evals].map(([p, v]) => [escapeHtml(p), escapeHtml(v)]), 'eval')}`
      : `<p class="note">${evalNote(run)}</p>`,
    '</section>',
    `<section><h2>Config</h2>${config ? table(['field', 'value'], flatten(config).map(([p, v]) => [escapeHtml(p), escapeHtml(v)]), 'config') : '<p>no config.json</p>'}</section>`,
  ].join('\n');
  return page(title, body, { kind: 'run', runs: [data] }, assets);
}

/** One report over several runs: curves overlaid, their final and eval figures, their configs diffed. */
export function comparisonReportHtml(runs: readonly RunData[], assets: ReportAssets): string {
  if (runs.length < 2) throw new RangeError('comparisonReportHtml: a comparison needs two runs or more');
  const names = runNames(runs);
  const data = runs.map((r, i) => pageRun(r, names[i], RUN_COLORS[i % RUN_COLORS.length]));
  const swatch = (i: number) => `<span class="swatch" style="background:${data[i].color}"></span>${escapeHtml(names[i])}`;
  const diff = configDiff(runs.map((r) => r.config));
  const evals = runs.map(evalFigures);
  const evalPaths = [...new Set(evals.flatMap((e) => [...e.keys()]))];
  const missingConfigs = runs.filter((r) => !r.config).length;
  const body = [
    `<header><h1 data-testid="title">${runs.length} runs compared</h1><ul class="runs">${runs
      .map((r, i) => `<li>${swatch(i)}: ${escapeHtml(runStatus(r))} <span class="note">${escapeHtml(r.dir)}</span></li>`)
      .join('')}</ul></header>`,
    problemsSection(runs.map((r, i) => ({ run: names[i], problems: r.problems }))),
    `<section><h2>What differs</h2>${
      diff.differing.length
        ? table(['config field', ...names.map(escapeHtml)], diff.differing.map((d) => [escapeHtml(d.path), ...d.values.map((v) => (v === undefined ? '<i>absent</i>' : escapeHtml(v)))]), 'config-diff')
        : '<p data-testid="config-diff">The configs are identical.</p>'
    }${missingConfigs ? `<p class="note">${missingConfigs} run(s) have no config to compare.</p>` : ''}<details><summary>${diff.same.length} fields the same in every run</summary>${table(
      ['config field', 'value'],
      diff.same.map((s) => [escapeHtml(s.path), escapeHtml(s.value)]),
      'config-same',
    )}</details></section>`,
    framesSection(data, true),
    chartsSection(['dLoss', 'gLoss', 'dReal', 'dFake', 'itPerSec']),
    `<section><h2>Final figures</h2>${table(['run', ...FIGURE_HEADS], runs.map((r, i) => [swatch(i), ...figureCells(finalFigures(r))]), 'figures')}`,
    evalPaths.length
      ? `<h3>npm run eval</h3>${table(['figure', ...names.map(escapeHtml)], evalPaths.map((p) => [escapeHtml(p), ...evals.map((e) => escapeHtml(e.get(p) ?? '-'))]), 'eval')}`
      : '<p class="note">No run has an eval.json (<code>npm run eval</code> writes one beside the checkpoint).</p>',
    '</section>',
  ].join('\n');
  return page(`${names.join(' vs ')}: webgpu-gan runs compared`, body, { kind: 'comparison', runs: data }, assets);
}
