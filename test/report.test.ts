// The run report without a GPU: the frame schedule, frames as PNG and GIF (read back by an
// independent decoder), metrics.csv with damage, configs diffed, the HTML's escaping, and run
// directories with missing or damaged files.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeImage } from '../src/io/decode-image.ts';
import { blank, type Rgba } from '../src/viz/image.ts';
import { decodeFrame, FRAMES_DIR, frameFileName, frameIteration, pngDamage } from '../src/report/frame.ts';
import { encodeFrame } from '../src/report/frame-node.ts';
import { assembleGif, gifFrame, indexColors } from '../src/report/gif.ts';
import { comparisonReportHtml, escapeHtml, runReportHtml } from '../src/report/html.ts';
import { configDiff, finalFigures, flatten, parseMetricsCsv, type RunData } from '../src/report/model.ts';
import { reportAssets } from '../src/report/assets-node.ts';
import { readRunDir, RunDirError } from '../src/report/run-dir-node.ts';
import { frameSchedule, MAX_FRAMES, onSchedule } from '../src/report/schedule.ts';
import { decodeGif } from './gif-reader.ts';

/** A picture with `colors` distinct colours in stripes, and a marker pixel for `seed`. */
function picture(width: number, height: number, colors: number, seed = 0): Rgba {
  const img = blank(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = (y * width + x + seed) % colors;
      img.data.set([k & 255, ((k >> 8) * 40 + seed) & 255, (k * 7) & 255, 255], (y * width + x) * 4);
    }
  }
  return img;
}

function rgbOf(img: Rgba): Uint8Array {
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) rgb.set(img.data.subarray(i * 4, i * 4 + 3), i * 3);
  return rgb;
}

describe('frame schedule', () => {
  test('a run keeps 50-100 frames when it has the windows for them, every window when it has fewer', () => {
    for (const logEvery of [1, 10, 25, 50, 100]) {
      for (const iterations of [0, 1, 49, 50, 99, 100, 500, 1500, 2000, 4000, 5000, 9999, 16000, 123457, 1_000_000]) {
        const s = frameSchedule(iterations, logEvery);
        const windows = Math.ceil(iterations / logEvery);
        expect(s.everyIterations).toBe(s.everyWindows * logEvery);
        expect(s.count, `${iterations} / ${logEvery}`).toBeLessThanOrEqual(MAX_FRAMES);
        if (windows >= 2 * (MAX_FRAMES - 1)) expect(s.count, `${iterations} / ${logEvery}`).toBeGreaterThanOrEqual(50);
        if (s.everyWindows === 1) expect(s.count).toBe(windows + 1);
        // Counting the frames one by one agrees: 0, the multiples, and the end.
        const frames = new Set([0, iterations]);
        for (let i = s.everyIterations; i <= iterations; i += s.everyIterations) frames.add(i);
        expect(s.count).toBe(frames.size);
      }
    }
    // The presets: mnist 4000 / 50 -> every window, 81 frames; grid25 16000 / 100 -> every 2nd, 81.
    expect(frameSchedule(4000, 50)).toEqual({ everyWindows: 1, everyIterations: 50, count: 81 });
    expect(frameSchedule(16000, 100)).toEqual({ everyWindows: 2, everyIterations: 200, count: 81 });
    expect(frameSchedule(1500, 10)).toEqual({ everyWindows: 2, everyIterations: 20, count: 76 });
  });

  test('a resumed run counts the frames it keeps and those to come', () => {
    // 150 of 300 done with a frame every 10: 16 kept (0..150), 15 to come.
    expect(frameSchedule(300, 10, { from: 150, kept: 16 }).count).toBe(31);
    // Interrupted at 155 (a frame there): 17 kept, then 160..300.
    expect(frameSchedule(300, 10, { from: 155, kept: 17 }).count).toBe(17 + 15);
    expect([150, 155, 160].map((i) => onSchedule(frameSchedule(300, 10), i))).toEqual([true, false, true]);
  });
});

describe('frames', () => {
  test('names sort as iterations do and read back', () => {
    expect(frameFileName(1200)).toBe('iter-0000001200.png');
    expect(frameIteration(frameFileName(2 ** 32 - 1))).toBe(2 ** 32 - 1);
    for (const other of ['iter-12.png', 'iter-0000001200.png.tmp', '.iter-0000001200.png.123.456.tmp', 'samples.png']) expect(frameIteration(other)).toBeNull();
  });

  test('a picture of few colours is a palette PNG that decodes to the same pixels; many colours stay exact in the PNG', () => {
    for (const [colors, exact] of [[2, true], [256, true], [300, false]] as const) {
      const img = picture(61, 17, colors);
      const frame = encodeFrame(5, img);
      expect(indexColors(img).exact).toBe(exact);
      expect(decodeImage(frame.png, 'frame').rgb).toEqual(rgbOf(img));
      expect(rgbOf(decodeFrame(frame.png, 'frame'))).toEqual(rgbOf(img));
    }
  });

  test('pngDamage finds a cut-short or foreign file and passes a whole one', () => {
    const png = encodeFrame(0, picture(40, 30, 5)).png;
    expect(pngDamage(png)).toBeNull();
    for (const cut of [0, 7, 8, 20, 33, png.length - 20, png.length - 1]) expect(pngDamage(png.subarray(0, cut)), `cut at ${cut}`).not.toBeNull();
    expect(pngDamage(new TextEncoder().encode('GIF89a...'))).toBe('not a PNG file');
  });

  test('the GIF decodes to every frame, pixel for pixel, in order, looping, the last held longest', () => {
    const pictures = [picture(33, 21, 3, 0), picture(33, 21, 200, 1), picture(33, 21, 256, 2), picture(33, 21, 7, 3)];
    const gif = decodeGif(assembleGif(pictures.map((p) => gifFrame(indexColors(p))), { frameMs: 100, lastFrameMs: 1500 }));
    expect([gif.width, gif.height, gif.loops]).toEqual([33, 21, 0]);
    expect(gif.frames.map((f) => f.delay)).toEqual([10, 10, 10, 150]);
    gif.frames.forEach((f, i) => expect(f.rgb, `frame ${i}`).toEqual(rgbOf(pictures[i])));
    // A colour picture (more than 256 colours) is quantised: close, not exact.
    const colour = picture(32, 32, 1024, 5);
    const [q] = decodeGif(assembleGif([gifFrame(indexColors(colour))])).frames;
    const want = rgbOf(colour);
    const worst = q.rgb.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
    expect(worst).toBeLessThan(48);
  });

  test('frames of another size cannot share the screen', () => {
    expect(() => assembleGif([gifFrame(indexColors(picture(10, 10, 2))), gifFrame(indexColors(picture(11, 10, 2)))])).toThrow(/frame 1 is 11x10, the screen 10x10/);
    expect(() => assembleGif([])).toThrow(/no frames/);
  });
});

describe('metrics.csv', () => {
  const header = 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n';
  test('rows are read by the header names; a row cut short by an interrupted append is skipped and named', () => {
    const text = `${header}10,1.2,0.7,0.6,0.4,20.00\n20,1.1,0.8,0.55,0.45,25.00\n30,1.0,0.9,0.5`;
    const { rows, problems } = parseMetricsCsv(text);
    expect(rows.map((r) => r.iteration)).toEqual([10, 20]);
    expect(rows[1]).toEqual({ iteration: 20, dLoss: 1.1, gLoss: 0.8, dReal: 0.55, dFake: 0.45, itPerSec: 25 });
    expect(problems).toEqual([expect.stringMatching(/line 4 is cut short/)]);
    // The last line complete but without its newline is cut short too: the append stopped mid-number.
    expect(parseMetricsCsv(`${header}10,1.2,0.7,0.6,0.4,2`).problems).toHaveLength(1);
  });

  test('a header without the columns, an empty file and rows out of order are named', () => {
    expect(parseMetricsCsv('a,b\n1,2\n').problems[0]).toMatch(/lacks iteration, d_loss, g_loss, d_real, d_fake/);
    expect(parseMetricsCsv('').problems).toEqual(['metrics.csv is empty']);
    const r = parseMetricsCsv(`${header}20,1,1,0.5,0.5,1\n10,1,1,0.5,0.5,1\n`);
    expect(r.rows).toHaveLength(1);
    expect(r.problems[0]).toMatch(/1 row\(s\) do not follow/);
  });

  test('final figures: the last window, and the speed over the whole run', () => {
    const run = { metrics: parseMetricsCsv(`${header}50,1,1,0.5,0.5,10\n100,2,3,0.6,0.4,50\n`).rows, config: { iterations: 200, logEvery: 50 }, frames: [] } as unknown as RunData;
    const f = finalFigures(run);
    expect([f.iteration, f.target, f.dLoss, f.gLoss]).toEqual([100, 200, 2, 3]);
    // 100 iterations in 5 + 1 seconds.
    expect(f.trainingSeconds).toBeCloseTo(6);
    expect(f.itPerSec).toBeCloseTo(100 / 6);
  });
});

describe('configs', () => {
  test('flatten writes dotted paths; configDiff names exactly the fields that differ', () => {
    const a = { preset: 'toy-1d', seed: 0, optimizerG: { kind: 'adam', lr: 5e-4 }, generator: { layers: [{ units: 32 }, { units: 1 }] }, note: [1, 2] };
    const b = { ...a, seed: 3, optimizerG: { kind: 'adam', lr: 1e-3 }, generator: { layers: [{ units: 64 }, { units: 1 }] } };
    const c = { ...a, extra: true };
    expect(flatten(a)).toContainEqual(['generator.layers.0.units', '32']);
    expect(flatten(a)).toContainEqual(['note', '[1,2]']);
    const diff = configDiff([a, b, c]);
    expect(diff.differing.map((d) => d.path)).toEqual(['seed', 'optimizerG.lr', 'generator.layers.0.units', 'extra']);
    expect(diff.differing.find((d) => d.path === 'extra')!.values).toEqual([undefined, undefined, 'true']);
    expect(diff.same.map((s) => s.path)).toEqual(['preset', 'optimizerG.kind', 'generator.layers.1.units', 'note']);
  });
});

/** A run directory written by hand: config, metrics, frames, and whatever `damage` does to it. */
function fakeRun(damage: (dir: string) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'gan-report-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ preset: 'toy-1d', description: 'x', iterations: 30, logEvery: 10, loss: 'bce' }));
  writeFileSync(join(dir, 'metrics.csv'), 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n10,1,1,0.6,0.4,5\n20,1,1,0.55,0.45,5\n30,1,1,0.5,0.5,5\n');
  mkdirSync(join(dir, FRAMES_DIR));
  for (const it of [0, 10, 20, 30]) writeFileSync(join(dir, FRAMES_DIR, frameFileName(it)), encodeFrame(it, picture(20, 20, 4, it)).png);
  damage(dir);
  return dir;
}

describe('run directories', () => {
  test('a whole run reads with no problem but the missing checkpoint', async () => {
    const run = await readRunDir(fakeRun());
    expect(run.frames.map((f) => f.iteration)).toEqual([0, 10, 20, 30]);
    expect(run.metrics).toHaveLength(3);
    expect(run.problems).toEqual(['checkpoint.safetensors is missing']);
  });

  test('missing, truncated and foreign files become problems naming the file; the rest is read', async () => {
    const dir = fakeRun((d) => {
      writeFileSync(join(d, 'config.json'), '{"preset": "toy-1d", "iterat');
      writeFileSync(join(d, 'metrics.csv'), 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n10,1,1,0.6,0.4,5\n20,1,1,0.');
      const png = encodeFrame(20, picture(20, 20, 4, 20)).png;
      writeFileSync(join(d, FRAMES_DIR, frameFileName(20)), png.subarray(0, png.length - 30));
      writeFileSync(join(d, 'eval.json'), '[1, 2]');
      writeFileSync(join(d, 'checkpoint.safetensors'), new Uint8Array(100));
    });
    const run = await readRunDir(dir);
    expect(run.config).toBeNull();
    expect(run.metrics.map((m) => m.iteration)).toEqual([10]);
    expect(run.frames.map((f) => f.iteration)).toEqual([0, 10, 30]);
    expect(run.evaluation).toBeNull();
    const text = run.problems.join('\n');
    expect(text).toMatch(/config\.json is not valid JSON \(cut short/);
    expect(text).toMatch(/metrics\.csv: line 3 is cut short/);
    expect(text).toMatch(/samples\/iter-0000000020\.png is damaged \(cut short in its \w+ chunk/);
    expect(text).toMatch(/eval\.json does not hold a JSON object/);
    expect(text).toMatch(/checkpoint\.safetensors: the header does not start with '\{' \(not a safetensors file\)/);
    // The report still comes out, and lists every one of them.
    const html = runReportHtml(run, reportAssets());
    for (const p of run.problems) expect(html).toContain(escapeHtml(p));
  });

  test('a directory without frames or metrics says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gan-report-'));
    writeFileSync(join(dir, 'config.json'), '{}');
    const run = await readRunDir(dir);
    expect(run.problems).toEqual(['checkpoint.safetensors is missing', 'metrics.csv is missing: no curves', `${FRAMES_DIR}/ is missing: no sample frames (a run trained with --no-report, or before runs kept frames)`]);
  });

  test('a path that holds no run, or none at all, is refused naming it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gan-report-'));
    await expect(readRunDir(empty)).rejects.toThrow(new RunDirError(`${empty} holds no run: none of config.json, metrics.csv, checkpoint.safetensors, samples is there`));
    await expect(readRunDir(join(empty, 'nope'))).rejects.toThrow(/nope: no such directory/);
    writeFileSync(join(empty, 'file'), 'x');
    await expect(readRunDir(join(empty, 'file'))).rejects.toThrow(/is not a directory/);
  });
});

describe('report.html', () => {
  test('hostile text in a config cannot close the data script or add markup', async () => {
    const dir = fakeRun((d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ preset: '</script><script>alert(1)</script>', description: '<img src=x onerror=alert(1)>', iterations: 30 })));
    const run = await readRunDir(dir);
    const html = runReportHtml(run, reportAssets());
    expect(html.match(/<script/g)!.length).toBe(3);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;/script&#62;&#60;script&#62;alert(1)');
  });

  test('the report is self-contained: no address but data: URLs, and a policy that forbids fetching', async () => {
    // uPlot's code names its home page in a comment; the rest names no address at all.
    const html = runReportHtml(await readRunDir(fakeRun()), reportAssets()).replace(reportAssets().uplotJs, '');
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/\b(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });

  test('a comparison names the runs and the config fields that differ', async () => {
    const a = await readRunDir(fakeRun());
    const b = await readRunDir(fakeRun((d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ preset: 'toy-1d', description: 'x', iterations: 30, logEvery: 10, loss: 'hinge' }))));
    const html = comparisonReportHtml([a, b], reportAssets());
    const table = /<table data-testid="config-diff">(.*?)<\/table>/.exec(html)![1];
    expect([...table.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1])).toEqual(['loss']);
    expect(table).toContain('<td>bce</td><td>hinge</td>');
    expect(() => comparisonReportHtml([a], reportAssets())).toThrow(/two runs or more/);
  });
});
