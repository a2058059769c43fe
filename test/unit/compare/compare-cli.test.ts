/**
 * `freezelab compare` over seeded runs: the JSON's sets, groups (runIds, n, mean, sd) and
 * recommendation with its rule; the options that change the recommendation; the rule in --help;
 * and the sweep's repeats (`seeds`) as the service expands them.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, type CliIO } from '../../../src/main/cli/cli.js';
import { cliCommands } from '../../../src/main/cli/commands/index.js';
import { DEFAULT_RECOMMEND_OPTIONS, recommendationRule } from '../../../src/shared/compare.js';
import type { ComparisonResult } from '../../../src/shared/contract.js';
import { expandSweep, sweepRequestSchema } from '../../../src/shared/train-config.js';
import { tempDir } from '../../helpers/service.js';
import { seedComparisonRuns, type SeededCompareRun } from './seeded.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), env: {} };
  const code = await runCli(argv, cliCommands, io);
  return { code, out, err };
}

let dir: string;
let db: string;
let runs: SeededCompareRun[];
const idsOf = (set: SeededCompareRun['set'], freeze?: string) =>
  runs.filter((r) => r.set === set && (freeze === undefined || r.freeze === freeze)).map((r) => r.id);

beforeAll(() => {
  vi.stubEnv('FREEZELAB_DB', undefined);
  vi.stubEnv('FREEZELAB_HOME', undefined);
  dir = tempDir('freezelab-compare-cli-');
  db = path.join(dir, 'freezelab.db');
  runs = seedComparisonRuns(db);
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('freezelab compare', () => {
  it('--json: sets, groups with runIds, n, mean and sd, and a recommendation with its rule', async () => {
    const { code, out } = await cli('compare', '--db', db, '--json', ...runs.map((r) => String(r.id)));
    expect(code).toBe(0);
    const c = JSON.parse(out) as ComparisonResult;
    expect(c.sets.map((s) => s.runIds)).toEqual([idsOf('demo'), idsOf('coco128'), idsOf('repeats')]);
    expect(c.differingFields).toEqual(['dataset']);
    const repeats = c.groups.filter((g) => g.setId === 3);
    expect(repeats.map((g) => [g.label, g.runIds, g.n, g.seeds])).toEqual([
      ['none', idsOf('repeats', 'none'), 2, [0, 1]],
      ['backbone', idsOf('repeats', 'backbone'), 2, [0, 1]],
    ]);
    expect(repeats[0]!.mean.bestMap50_95).toBeCloseTo(0.42, 12);
    expect(repeats[0]!.sd.bestMap50_95).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(repeats[1]!.mean.secondsPerEpoch).toBeCloseTo(12.5, 12);
    expect(repeats[1]!.sd.memoryBytes).toBe(0);
    // Three sets: no recommendation across them, one per set.
    expect(c.recommendation.groupId).toBeNull();
    expect(c.recommendation.rule).toBe(recommendationRule(DEFAULT_RECOMMEND_OPTIONS));
    const demoRec = c.sets[0]!.recommendation;
    expect(c.groups.find((g) => g.id === demoRec.groupId)?.label).toBe('backbone');
    expect(demoRec.noise).toBe('backbone, none and all but Detect cannot be told apart with 1 seed; add repeats.');
  });

  it('one set: the top-level recommendation is that set’s; tolerance and metric change it', async () => {
    const demo = idsOf('demo').map(String);
    const json = async (...extra: string[]) =>
      JSON.parse((await cli('compare', '--db', db, '--json', ...extra, ...demo)).out) as ComparisonResult;
    const label = (c: ComparisonResult) => c.groups.find((g) => g.id === c.recommendation.groupId)?.label;
    expect(label(await json())).toBe('backbone');
    expect(label(await json('--tolerance', '0'))).toBe('none');
    const wide = await json('--tolerance', '0.1');
    expect(label(wide)).toBe('all but Detect');
    expect(wide.recommendation.rule).toContain('at most 0.100 below');
    expect(label(await json('--tolerance', '0.1', '--save', 'time'))).toBe('all but Detect');
    // By mAP50 backbone is the most accurate, and the rule and line say mAP50.
    const by50 = await json('--metric', 'map50');
    expect(label(by50)).toBe('backbone');
    expect(by50.recommendation.bestGroupId).toBe(by50.recommendation.groupId);
    expect(by50.recommendation.line).toContain('mean mAP50 0.650');
    expect(by50.recommendation.rule).toContain('mean best mAP50 is');
  });

  it('prints groups with mean ± sd, the recommendation, noise and the rule; --groups-csv has the rule', async () => {
    const { out } = await cli('compare', '--db', db, ...idsOf('repeats').map(String));
    expect(out).toMatch(/^Runs of data\.yaml \(5a5a5a5a\) · /);
    expect(out).toMatch(
      /1\*\s+none\s+\S+\s+2\s+[\d,]+\s+0\.620 ± 0\.014\s+0\.420 ± 0\.014\s+300 MB ± 0\s+21\.0 ± 1\.4/,
    );
    expect(out).toContain('Recommendation (* above): none: the most accurate');
    expect(out).toContain(`Rule: ${recommendationRule(DEFAULT_RECOMMEND_OPTIONS)}`);
    expect(out).toContain('Noise: none and backbone cannot be told apart: their 95% intervals');
    const csv = (await cli('compare', '--db', db, '--groups-csv', ...idsOf('repeats').map(String))).out;
    const [header, first] = csv.split('\r\n');
    expect(header!.split(',').slice(-1)).toEqual(['rule']);
    expect(first).toContain(`"${recommendationRule(DEFAULT_RECOMMEND_OPTIONS)}"`);
  });

  it('states the rule in --help and refuses bad options', async () => {
    const help = await cli('compare', '--help');
    const squeezed = help.out.replace(/\s+/g, ' ');
    expect(squeezed).toContain(`Rule (with the defaults): ${recommendationRule(DEFAULT_RECOMMEND_OPTIONS)}`);
    // The summary line aside, the help fits 100 columns.
    expect(
      Math.max(
        ...help.out
          .split('\n')
          .slice(1)
          .map((l) => l.length),
      ),
    ).toBeLessThanOrEqual(100);
    expect(help.out).toContain('--tolerance T');
    const bad = await cli('compare', '--db', db, '--save', 'disk', '1');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("--save takes memory, time or both, got 'disk'");
    expect((await cli('compare', '--db', db, '--tolerance', '2', '1')).err).toContain('--tolerance takes');
  });
});

describe('sweep repeats', () => {
  it('seeds K: every configuration K times, seeds S..S+K-1, first seeds first', () => {
    const request = sweepRequestSchema.parse({
      data: 'd.yaml',
      model: 'n',
      freezes: ['none', 'backbone'],
      seed: 5,
      seeds: 2,
    });
    expect(expandSweep(request).map((c) => [c.freeze, c.seed, c.name])).toEqual([
      ['none', 5, 'freeze none · seed 5'],
      ['backbone', 5, 'freeze backbone · seed 5'],
      ['none', 6, 'freeze none · seed 6'],
      ['backbone', 6, 'freeze backbone · seed 6'],
    ]);
    const one = sweepRequestSchema.parse({ data: 'd.yaml', model: 'n', freezes: ['none'] });
    expect(expandSweep(one).map((c) => [c.seed, c.name])).toEqual([[0, 'freeze none']]);
    expect(sweepRequestSchema.safeParse({ data: 'd.yaml', model: 'n', freezes: ['none'], seeds: 0 }).success).toBe(
      false,
    );
    expect(sweepRequestSchema.safeParse({ data: 'd.yaml', model: 'n', freezes: ['none'], seeds: 21 }).success).toBe(
      false,
    );
  });

  it('sweep --seeds is checked before anything is queued', async () => {
    const r = await cli('sweep', '--db', db, '--freeze', 'none', '--data', 'd.yaml', '--model', 'n', '--seeds', '0');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('--seeds takes a whole number from 1 to 20');
  });
});
