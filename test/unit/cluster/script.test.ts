import { describe, expect, it } from 'vitest';
import { slurmOptionsSchema } from '../../../src/shared/commands/cluster.js';
import { arrayScript, jobName, shellQuote } from '../../../src/main/cluster/script.js';
import { parseSacct, parseSbatch, parseScontrol, parseSqueue } from '../../../src/main/cluster/slurm.js';

const base = {
  dir: '/shared/lab/sweeps/sweep-1',
  tasks: 3,
  name: 'sweep of none, backbone',
  node: '/opt/node/bin/node',
  script: '/opt/freezelab/bin/freezelab.js',
};

describe('the job-array script', () => {
  it('has one array task per run, the resources asked for, and trains each task config in its own shard', () => {
    const slurm = slurmOptionsSchema.parse({
      partition: 'gpu',
      account: 'lab-42',
      gpusPerRun: 1,
      cpusPerRun: 4,
      time: '02:00:00',
    });
    const script = arrayScript({ ...base, slurm });
    const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --job-name=freezelab-sweep-of-none-backbone',
      '#SBATCH --array=0-2',
      '#SBATCH --output=/shared/lab/sweeps/sweep-1/logs/task-%a.out',
      '#SBATCH --error=/shared/lab/sweeps/sweep-1/logs/task-%a.err',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --time=02:00:00',
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab-42',
    ]);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('SWEEP_DIR=/shared/lab/sweeps/sweep-1\n');
    expect(script).toContain('FREEZELAB_NODE="${FREEZELAB_NODE:-/opt/node/bin/node}"');
    expect(script).toContain('FREEZELAB_JS="${FREEZELAB_JS:-/opt/freezelab/bin/freezelab.js}"');
    expect(script).toContain(
      'exec "$FREEZELAB_NODE" "$FREEZELAB_JS" train --config "$SWEEP_DIR/tasks/$TASK/config.json" \\\n' +
        '  --home "$SWEEP_DIR/tasks/$TASK" --db "$SWEEP_DIR/tasks/$TASK/freezelab.db"',
    );
  });

  it('asks for no GPU, partition, account or time limit unless given', () => {
    const script = arrayScript({ ...base, tasks: 1, slurm: slurmOptionsSchema.parse({}) });
    expect(script).toContain('#SBATCH --array=0-0');
    expect(script).toContain('#SBATCH --cpus-per-task=1');
    expect(script).not.toMatch(/--gres|--time|--partition|--account/);
  });

  it('refuses a folder #SBATCH lines cannot hold, and zero runs', () => {
    const slurm = slurmOptionsSchema.parse({});
    expect(() => arrayScript({ ...base, dir: '/shared/my sweeps/a', slurm })).toThrow(/spaces or shell characters/);
    expect(() => arrayScript({ ...base, tasks: 0, slurm })).toThrow(/at least one run/);
  });

  it('validates the Slurm options (a time limit, names without shell characters)', () => {
    expect(slurmOptionsSchema.safeParse({ time: '1-12:00:00' }).success).toBe(true);
    expect(slurmOptionsSchema.safeParse({ time: '90' }).success).toBe(true);
    expect(slurmOptionsSchema.safeParse({ time: 'soon' }).success).toBe(false);
    expect(slurmOptionsSchema.safeParse({ partition: 'gpu; rm -rf /' }).success).toBe(false);
    expect(slurmOptionsSchema.safeParse({ gpusPerRun: -1 }).success).toBe(false);
  });

  it('quotes for bash and makes job names Slurm accepts', () => {
    expect(shellQuote('/a/b-c_d.json')).toBe('/a/b-c_d.json');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(jobName('freeze · none/backbone')).toBe('freezelab-freeze-none-backbone');
    expect(jobName('···')).toBe('freezelab-sweep');
  });
});

describe("Slurm's output", () => {
  it('sbatch --parsable: the job id, with or without a cluster name', () => {
    expect(parseSbatch('1234\n')).toBe('1234');
    expect(parseSbatch('1234;lab\n')).toBe('1234');
    expect(() => parseSbatch('sbatch: error: invalid partition\n')).toThrow(/no job id/);
  });

  it('squeue -r: one line per array task', () => {
    expect(parseSqueue('12_0|RUNNING|None|node7\n12_1|PENDING|Resources|\n12_[2-3]|PENDING|Priority|\n')).toEqual([
      { jobId: '12', arrayTask: 0, state: 'RUNNING', reason: null, exitCode: null, node: 'node7' },
      { jobId: '12', arrayTask: 1, state: 'PENDING', reason: 'Resources', exitCode: null, node: null },
    ]);
  });

  it('scontrol -o show job: state, reason and exit code of each task (as slurmctld 22.05 prints them)', () => {
    const out =
      'JobId=13 ArrayJobId=12 ArrayTaskId=1 JobName=wrap UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=1:0 NodeList=vm BatchHost=vm\n' +
      'JobId=12 ArrayJobId=12 ArrayTaskId=0 JobName=wrap UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 NodeList=vm\n';
    expect(parseScontrol(out)).toEqual([
      { jobId: '12', arrayTask: 1, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '1:0', node: 'vm' },
      { jobId: '12', arrayTask: 0, state: 'COMPLETED', reason: null, exitCode: '0:0', node: 'vm' },
    ]);
  });

  it('sacct -P: tasks of the array, steps and the array line left out', () => {
    expect(
      parseSacct('12_0|COMPLETED|None|0:0|n1\n12_1|CANCELLED by 1000|None|0:15|n2\n12_0.batch|COMPLETED||0:0|n1\n'),
    ).toEqual([
      { jobId: '12', arrayTask: 0, state: 'COMPLETED', reason: null, exitCode: '0:0', node: 'n1' },
      { jobId: '12', arrayTask: 1, state: 'CANCELLED by 1000', reason: null, exitCode: '0:15', node: 'n2' },
    ]);
  });
});
