/** `~` means the service user's home in every command's path inputs, whatever the host, and in the CLI. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../../src/shared/contract.js';
import { modelSpecSchema, pathSchema } from '../../../src/shared/train-config.js';
import { runCli, type CliCommand, type CliValues } from '../../../src/main/cli/cli.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { expandHome, expandHomeInArgs } from '../../../src/main/files.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { expandHomeInPaths } from '../../../src/main/service/home-paths.js';
import { seedRuns } from '../../helpers/seeded-runs.js';
import { tempDir } from '../../helpers/service.js';

describe('expandHome', () => {
  it('expands ~ and ~/… only', () => {
    expect(expandHome('~', '/home/ann')).toBe('/home/ann');
    expect(expandHome('~/data/x.yaml', '/home/ann')).toBe(path.join('/home/ann', 'data/x.yaml'));
    expect(expandHome('~bob/x', '/home/ann')).toBe('~bob/x');
    expect(expandHome('/abs/~/x', '/home/ann')).toBe('/abs/~/x');
    expect(expandHome('rel/~', '/home/ann')).toBe('rel/~');
  });
});

describe('expandHomeInPaths: path fields found through the schema', () => {
  const home = '/home/ann';
  it('expands pathSchema fields (also optional, described, in arrays and unions) and model specs, nothing else', () => {
    const schema = z.object({
      data: pathSchema,
      weights: pathSchema.optional(),
      described: pathSchema.describe('a path'),
      many: z.array(pathSchema),
      either: z.union([z.number(), pathSchema]),
      model: modelSpecSchema.optional(),
      name: z.string(),
      nested: z.object({ out: pathSchema.default('~/out') }),
    });
    const parsed = schema.parse({
      data: '~/d.yaml',
      described: '~',
      many: ['~/a', '/b'],
      either: '~/c',
      model: '~/m.yaml',
      name: '~/not-a-path',
      nested: {},
    });
    expect(expandHomeInPaths(schema, parsed, home)).toEqual({
      data: '/home/ann/d.yaml',
      described: '/home/ann',
      many: ['/home/ann/a', '/b'],
      either: '/home/ann/c',
      model: '/home/ann/m.yaml',
      name: '~/not-a-path',
      nested: { out: '/home/ann/out' },
    });
    expect(parsed.data).toBe('~/d.yaml'); // a copy: the parsed input is left alone
  });

  it("finds the contract's path inputs (training, data.check, runs.export, model.val, model.detect)", () => {
    const cases: [keyof typeof commands, Record<string, unknown>, string[]][] = [
      [
        'runs.start',
        { data: '~/coco.yaml', weights: '~/w.pt', model: '~/m.yaml', hyp: '~/hyp.yaml' },
        ['data', 'weights', 'model', 'hyp'],
      ],
      ['data.check', { data: '~/coco.yaml' }, ['data']],
      ['runs.export', { id: 1, dir: '~/exports/run-1' }, ['dir']],
      ['model.val', { weights: '~/w.pt', data: '~/coco.yaml' }, ['weights', 'data']],
      ['model.detect', { weights: '~/w.pt', source: '~/img.jpg' }, ['weights', 'source']],
    ];
    // A hyp preset's name is not a path and stays as it is.
    const start = commands['runs.start'].input as z.ZodType;
    const preset = expandHomeInPaths(start, start.parse({ data: '~/d.yaml', model: 'n', hyp: 'scratch-high' }), home);
    expect(preset).toMatchObject({ hyp: 'scratch-high' });
    for (const [name, input, fields] of cases) {
      const schema = commands[name].input as z.ZodType;
      const out = expandHomeInPaths(schema, schema.parse(input), home) as Record<string, unknown>;
      for (const field of fields)
        expect(out[field], `${name} ${field}`).toBe(path.join(home, String(input[field]).slice(2)));
    }
  });
});

describe('~ through the service dispatch', () => {
  const home = tempDir('freezelab-home-');
  const dataDir = tempDir('freezelab-data-');
  const runs = seedRuns(dataDir);
  const service = createService({
    host: 'web',
    runJobs: false,
    paths: { ...resolveDataPaths({ dataDir }, {}), homeDir: home },
    loadBackend: () => initBackend(),
  });
  afterAll(() => service.close());

  it('data.check reads ~/… from the home folder (the error names the expanded path)', async () => {
    const result = await service.dispatch('data.check', { data: '~/missing/data.yaml' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain(path.join(home, 'missing', 'data.yaml'));
  });

  it('runs.export writes into ~/…', async () => {
    const result = await service.dispatch('runs.export', { id: runs[0]!.id, dir: '~/exports/first' });
    expect(result.ok).toBe(true);
    const dir = path.join(home, 'exports', 'first');
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    if (result.ok) for (const f of (result.value as { files: string[] }).files) expect(f.startsWith(dir)).toBe(true);
  });
});

describe('~ in the CLI', () => {
  it('expands option values and positionals the shell left alone (--data=~/x, quoted)', () => {
    const { values, positionals } = expandHomeInArgs(
      { data: '~/d.yaml', out: '~', name: 'plain', json: true, list: ['~/a', 'b'] } as CliValues,
      ['~/p', 'q'],
      '/home/ann',
    );
    expect(values).toEqual({
      data: '/home/ann/d.yaml',
      out: '/home/ann',
      name: 'plain',
      json: true,
      list: ['/home/ann/a', 'b'],
    });
    expect(positionals).toEqual(['/home/ann/p', 'q']);
  });

  it('runCli hands commands the expanded values', async () => {
    const home = tempDir('freezelab-home-');
    mkdirSync(path.join(home, 'sets'));
    writeFileSync(path.join(home, 'sets', 'a.yaml'), 'x');
    let seen: { values: CliValues; positionals: string[] } | undefined;
    const probe: CliCommand = {
      name: 'probe',
      summary: 'test',
      help: '',
      options: { data: { type: 'string' } },
      allowPositionals: true,
      run: async (values, positionals) => {
        seen = { values, positionals };
        return 0;
      },
    };
    const io = { out: () => {}, err: () => {}, env: { HOME: home } };
    expect(await runCli(['probe', '--data=~/sets/a.yaml', '~/x'], [probe], io)).toBe(0);
    expect(seen?.values.data).toBe(path.join(home, 'sets', 'a.yaml'));
    expect(seen?.positionals).toEqual([path.join(home, 'x')]);
  });
});
