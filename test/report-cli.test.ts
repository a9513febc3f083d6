// The run record as a user gets it: `npm run train` keeps sample frames, samples.gif and
// report.html; resuming and interrupting keep them whole; `npm run report` rebuilds a report,
// compares runs, and says what is missing. And what keeping the record costs training.

import { cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadHostData } from '../src/data/datasets-node.ts';
import { preset } from '../src/gan/presets.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { decodeImage } from '../src/io/decode-image.ts';
import { FRAMES_DIR, frameIteration } from '../src/report/frame.ts';
import { describeRecordCost, measureRecordCost } from '../bench/report-cost-rows.ts';
import { metricsColumns, runCheckpoint, runCli, tempDir } from './cli-process.ts';
import { decodeGif } from './gif-reader.ts';
import { openTestContext } from './gpu.ts';

const TOY = ['--preset', 'toy-1d', '--log-every', '10', '--checkpoint-every', '100'];

function frameIterations(dir: string): number[] {
  return readdirSync(join(dir, FRAMES_DIR))
    .map(frameIteration)
    .filter((i): i is number => i !== null)
    .sort((a, b) => a - b);
}

function statedFrames(dir: string): { everyWindows: number; everyIterations: number; count: number } {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).frames;
}

/** The GIF's frames, each checked against the PNG frame of the same place. */
function checkGifAgainstFrames(dir: string): number {
  const gif = decodeGif(new Uint8Array(readFileSync(join(dir, 'samples.gif'))));
  const names = readdirSync(join(dir, FRAMES_DIR)).filter((n) => frameIteration(n) !== null).sort();
  expect(gif.frames).toHaveLength(names.length);
  gif.frames.forEach((f, i) => expect(f.rgb, names[i]).toEqual(decodeImage(new Uint8Array(readFileSync(join(dir, FRAMES_DIR, names[i]))), names[i]).rgb));
  return gif.frames.length;
}

function fileBytes(dir: string, name: string): Buffer {
  return readFileSync(join(dir, name));
}

/** A temporary of writeFileAtomic left in a directory. */
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

let whole: string;

beforeAll(async () => {
  whole = tempDir('gan-record-');
  const r = await runCli('train', [...TOY, '--iters', '200', '--out', whole]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => rmSync(whole, { recursive: true, force: true }));

describe('npm run train keeps the run record', () => {
  test('frames every window, a GIF that decodes to the number config.json states, and a report', () => {
    expect(statedFrames(whole)).toEqual({ everyWindows: 1, everyIterations: 10, count: 21 });
    expect(frameIterations(whole)).toEqual(Array.from({ length: 21 }, (_, i) => i * 10));
    expect(checkGifAgainstFrames(whole)).toBe(21);
    const html = fileBytes(whole, 'report.html').toString();
    expect(html).toContain('complete: 200 iterations');
    expect(html).not.toContain('data-testid="problems"');
    expect(leftovers(whole).concat(leftovers(join(whole, FRAMES_DIR)))).toEqual([]);
  });

  test('a resumed run appends to the frames and curves: the same frames and GIF as one uninterrupted run', async () => {
    const split = tempDir('gan-record-');
    expect((await runCli('train', [...TOY, '--iters', '100', '--out', split])).code).toBe(0);
    expect(frameIterations(split).at(-1)).toBe(100);
    const r = await runCli('train', ['--resume', split, '--iters', '200']);
    expect(r.code, r.stderr).toBe(0);
    expect(frameIterations(split)).toEqual(frameIterations(whole));
    for (const name of readdirSync(join(whole, FRAMES_DIR))) expect(fileBytes(join(split, FRAMES_DIR), name), name).toEqual(fileBytes(join(whole, FRAMES_DIR), name));
    expect(fileBytes(split, 'samples.gif')).toEqual(fileBytes(whole, 'samples.gif'));
    expect(metricsColumns(split)).toEqual(metricsColumns(whole));
    expect(statedFrames(split)).toEqual(statedFrames(whole));
  });

  test('an interrupted run leaves a whole report with a frame where it stopped; resuming goes on from it', async () => {
    const out = tempDir('gan-record-');
    let sent = false;
    const r = await runCli('train', [...TOY, '--iters', '1000000', '--out', out], {
      onOutput: (_, stderr, child) => {
        if (!sent && /\d+\/1000000/.test(stderr)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    const stopped = runCheckpoint(out).iteration;
    expect(frameIterations(out).at(-1)).toBe(stopped);
    expect(checkGifAgainstFrames(out)).toBe(frameIterations(out).length);
    expect(fileBytes(out, 'report.html').toString()).toContain(`iteration ${stopped} of 1000000`);

    const target = stopped + 30;
    const resumed = await runCli('train', ['--resume', out, '--iters', String(target)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = frameIterations(out).filter((i) => i > stopped);
    expect(after.at(-1)).toBe(target);
    expect(after.slice(0, -1).every((i) => i % 10 === 0)).toBe(true);
    expect(statedFrames(out).count).toBe(frameIterations(out).length);
    expect(checkGifAgainstFrames(out)).toBe(frameIterations(out).length);
    expect(fileBytes(out, 'report.html').toString()).toContain(`complete: ${target} iterations`);
  });

  test('--no-report keeps no record; --force over a run removes its frames', async () => {
    const plain = tempDir('gan-record-');
    const r = await runCli('train', [...TOY, '--iters', '20', '--out', plain, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of [FRAMES_DIR, 'samples.gif', 'report.html']) expect(existsSync(join(plain, f)), f).toBe(false);
    expect(statedFrames(plain)).toBeUndefined();

    const replaced = tempDir('gan-record-');
    cpSync(whole, replaced, { recursive: true });
    const f = await runCli('train', [...TOY, '--iters', '20', '--out', replaced, '--force']);
    expect(f.code, f.stderr).toBe(0);
    expect(frameIterations(replaced)).toEqual([0, 10, 20]);
    expect(checkGifAgainstFrames(replaced)).toBe(3);
    // Without --force, a directory holding only a report is another run's.
    const reportOnly = tempDir('gan-record-');
    writeFileSync(join(reportOnly, 'report.html'), 'x');
    const refused = await runCli('train', [...TOY, '--iters', '20', '--out', reportOnly]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already holds a run \(report\.html\)/);
  });
});

describe('npm run report', () => {
  test('rebuilds a run report and GIF byte for byte', async () => {
    const copy = tempDir('gan-record-');
    cpSync(whole, copy, { recursive: true });
    unlinkSync(join(copy, 'report.html'));
    unlinkSync(join(copy, 'samples.gif'));
    const r = await runCli('report', [copy]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*report\.html \(20 metrics rows, 21 frames\); samples\.gif: 21 frames/);
    expect(fileBytes(copy, 'samples.gif')).toEqual(fileBytes(whole, 'samples.gif'));
    // The same files make the same report (only the directory it names differs).
    expect(fileBytes(copy, 'report.html').toString().replaceAll(basename(copy), basename(whole))).toEqual(fileBytes(whole, 'report.html').toString());
  });

  test('shows the npm run eval figures once eval.json is there', async () => {
    const copy = tempDir('gan-record-');
    cpSync(whole, copy, { recursive: true });
    const e = await runCli('eval', ['--checkpoint', join(copy, 'checkpoint.safetensors')]);
    expect(e.code, e.stderr).toBe(0);
    const evaluation = JSON.parse(readFileSync(join(copy, 'eval.json'), 'utf8'));
    expect((await runCli('report', [copy])).code).toBe(0);
    const html = readFileSync(join(copy, 'report.html'), 'utf8');
    const table = /<table data-testid="eval">(.*?)<\/table>/.exec(html)![1];
    expect(html).toContain('npm run eval (the checkpoint of iteration 200)');
    expect(table).toContain(`<tr><td>moments.samples</td><td>${evaluation.moments.samples}</td></tr>`);
    expect(table).toContain('<tr><td>moments.mean</td>');
    expect(table).not.toContain('<td>checkpoint</td>');
  });

  test('a comparison of two runs names the config fields that differ', async () => {
    const other = tempDir('gan-record-');
    expect((await runCli('train', [...TOY, '--iters', '200', '--lr', '0.001', '--seed', '3', '--out', other])).code).toBe(0);
    const out = join(tempDir('gan-record-'), 'lr.html');
    const r = await runCli('report', [whole, other, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    const table = /<table data-testid="config-diff">(.*?)<\/table>/.exec(html)![1];
    expect([...table.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1])).toEqual(['optimizerG.lr', 'optimizerD.lr', 'seed']);
    expect(table).toContain('<tr><td>seed</td><td>0</td><td>3</td></tr>');
  });

  test('missing and damaged files are named in the report and on stderr; the report is still written whole', async () => {
    const dir = tempDir('gan-record-');
    cpSync(whole, dir, { recursive: true });
    unlinkSync(join(dir, 'config.json'));
    const csv = readFileSync(join(dir, 'metrics.csv'));
    writeFileSync(join(dir, 'metrics.csv'), csv.subarray(0, csv.length - 7));
    truncateSync(join(dir, FRAMES_DIR, 'iter-0000000150.png'), 100);
    writeFileSync(join(dir, 'eval.json'), '{"preset": "toy-1d", "mom');
    const r = await runCli('report', [dir]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const said of [/config\.json is missing/, /the config shown is the one in checkpoint\.safetensors/, /metrics\.csv: line 21 is cut short/, /samples\/iter-0000000150\.png is damaged \(cut short/, /eval\.json is not valid JSON/]) {
      expect(r.stderr).toMatch(said);
      expect(html).toMatch(said);
    }
    expect(r.stdout).toMatch(/\(19 metrics rows, 20 frames, 5 problem\(s\) named in it\); samples\.gif: 20 frames/);
    expect(leftovers(dir)).toEqual([]);
  });

  test('a path that holds no run, a bad --out and no arguments are refused with exit 2, writing nothing', async () => {
    const empty = tempDir('gan-record-');
    for (const [args, message] of [
      [[join(empty, 'nope')], /nope: no such directory/],
      [[empty], /holds no run: none of config\.json, metrics\.csv, checkpoint\.safetensors, samples is there/],
      [[whole, '--out', empty], /--out .* is an existing directory, not a file/],
      [[], /name a run directory/],
      [[whole, whole], /is given twice/],
    ] as const) {
      const r = await runCli('report', [...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(readdirSync(empty)).toEqual([]);
  });
});

describe('cost', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await openTestContext();
  });
  afterAll(async () => {
    await ctx?.destroy();
  });

  test('training speed with and without the record (printed; npm run bench:report measures it longer)', async () => {
    const config = preset('toy-1d');
    const cost = await measureRecordCost({ ctx, config, host: await loadHostData(config.data), blocks: 4, windowsPerBlock: 5 });
    console.log(describeRecordCost('toy-1d, 4 blocks of 5 windows', cost));
    expect(cost.frames).toBe(10);
    expect(cost.withRecord.itPerSec).toBeGreaterThan(0);
  });
});
