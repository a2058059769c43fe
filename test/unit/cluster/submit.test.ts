/** cluster.submit through the service, without a Slurm to submit to: dry run, and sbatch missing. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../../src/main/service/service.js';
import { tempDir, testService } from '../../helpers/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';

let service: Service;
let data: TinyDataset;
beforeAll(async () => {
  service = testService('cli');
  data = await makeTinyDataset({ train: 2, val: 1, size: 64 });
});
afterAll(async () => {
  await service?.close();
});

const sweep = () => ({ data: data.yaml, model: 'n', imgSize: 64, batch: 2, epochs: 1, freezes: ['none', '0-3'] });

describe('cluster.submit', () => {
  it('--dry-run answers the script and writes nothing, records nothing', async () => {
    const dir = path.join(tempDir(), 'sweep');
    const r = await service.call('cluster.submit', {
      sweep: sweep(),
      slurm: { cpusPerRun: 2, partition: 'short' },
      dir,
      dryRun: true,
      freezelab: { node: '/usr/bin/node', script: '/opt/freezelab/bin/freezelab.js' },
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toMatchObject({ sweepId: null, jobId: null, runIds: [], dir });
    expect(r.value.script).toContain('#SBATCH --array=0-1');
    expect(r.value.script).toContain('#SBATCH --partition=short');
    expect(r.value.script).toContain('FREEZELAB_JS="${FREEZELAB_JS:-/opt/freezelab/bin/freezelab.js}"');
    expect(fs.existsSync(dir)).toBe(false);
    const runs = await service.call('runs.list', {});
    expect(runs.ok && runs.value).toEqual([]);
  });

  it('without sbatch: a clear error, no sweep folder left, nothing recorded', async () => {
    const dir = path.join(tempDir(), 'sweep');
    const saved = process.env.PATH;
    process.env.PATH = path.join(tempDir(), 'empty-bin');
    try {
      const r = await service.call('cluster.submit', { sweep: sweep(), slurm: {}, dir });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('not-found');
        expect(r.error.message).toBe("sbatch was not found: Slurm's commands are not installed on this machine.");
        expect(r.error.hint).toMatch(/login node/);
      }
    } finally {
      process.env.PATH = saved;
    }
    expect(fs.existsSync(dir)).toBe(false);
    const runs = await service.call('runs.list', {});
    expect(runs.ok && runs.value).toEqual([]);
  });

  it('refuses a sweep folder that is not empty', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    const saved = process.env.PATH;
    process.env.PATH = path.join(tempDir(), 'empty-bin'); // never reached: refused before sbatch
    try {
      const r = await service.call('cluster.submit', { sweep: sweep(), slurm: {}, dir });
      expect(!r.ok && r.error).toMatchObject({ code: 'conflict', message: `The sweep folder ${dir} is not empty.` });
    } finally {
      process.env.PATH = saved;
    }
    expect(fs.readdirSync(dir)).toEqual(['keep.txt']);
  });
});
