import { describe, expect, it } from 'vitest';
import { CLUSTER_STATES, clusterStateOf, SLURM_STATES } from '../../../src/shared/commands/cluster.js';
import { clusterVerdict, freezelabErrorOf, slurmWords } from '../../../src/main/cluster/state.js';

const at = { jobId: '12', arrayTask: 1 };

describe("Slurm's states", () => {
  it('map every state word to a cluster state, the unknown to unknown', () => {
    expect(clusterStateOf('PENDING')).toBe('pending');
    expect(clusterStateOf('RUNNING')).toBe('running');
    expect(clusterStateOf('COMPLETING')).toBe('running');
    expect(clusterStateOf('COMPLETED')).toBe('completed');
    expect(clusterStateOf('CANCELLED by 1000')).toBe('cancelled');
    expect(clusterStateOf('TIMEOUT')).toBe('failed');
    expect(clusterStateOf('OUT_OF_MEMORY')).toBe('failed');
    expect(clusterStateOf('NODE_FAIL')).toBe('failed');
    expect(clusterStateOf('PREEMPTED')).toBe('failed');
    expect(clusterStateOf('BOGUS')).toBe('unknown');
    for (const s of Object.values(SLURM_STATES)) expect(CLUSTER_STATES).toContain(s);
  });

  it("say Slurm's words and find FreezeLab's error in a task's log", () => {
    expect(slurmWords({ state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '1:0' })).toBe(
      'FAILED (NonZeroExitCode), exit code 1:0',
    );
    expect(slurmWords({ state: 'COMPLETED', reason: null, exitCode: '0:0' })).toBe('COMPLETED');
    expect(freezelabErrorOf('run 1 queued\nfreezelab train: Dataset YAML not found: /d.yaml\n')).toBe(
      'Dataset YAML not found: /d.yaml',
    );
    expect(freezelabErrorOf('all fine\n')).toBeNull();
  });
});

describe("a cluster run's status", () => {
  it('queued while Slurm holds the task, running while it runs', () => {
    expect(
      clusterVerdict({
        ...at,
        slurmAsked: true,
        slurm: { state: 'PENDING', reason: 'Resources', exitCode: null, node: null },
      }),
    ).toMatchObject({ state: 'pending', status: 'queued', statusReason: 'Queued on Slurm (job 12_1): Resources.' });
    expect(
      clusterVerdict({
        ...at,
        slurmAsked: true,
        slurm: { state: 'RUNNING', reason: null, exitCode: null, node: 'gpu3' },
        shard: { status: 'running', reason: null, lastEpochDone: 0 },
      }),
    ).toMatchObject({ state: 'running', status: 'running', statusReason: 'Running on Slurm (job 12_1 on gpu3).' });
  });

  it("the shard's end wins; a failure carries FreezeLab's reason and Slurm's", () => {
    const failed = clusterVerdict({
      ...at,
      slurmAsked: true,
      slurm: { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '1:0', node: 'n1' },
      shard: { status: 'failed', reason: 'Out of memory in epoch 3', lastEpochDone: 1 },
    });
    expect(failed).toEqual({
      state: 'failed',
      reason: 'FAILED (NonZeroExitCode), exit code 1:0',
      exitCode: '1:0',
      status: 'failed',
      statusReason:
        'Failed on Slurm (job 12_1). FreezeLab: Out of memory in epoch 3. Slurm: FAILED (NonZeroExitCode), exit code 1:0.',
    });
    expect(
      clusterVerdict({
        ...at,
        slurmAsked: true,
        slurm: { state: 'COMPLETED', reason: null, exitCode: '0:0', node: 'n1' },
        shard: { status: 'completed', reason: null, lastEpochDone: 2 },
      }),
    ).toMatchObject({ state: 'completed', status: 'completed', statusReason: 'Completed on Slurm (job 12_1).' });
  });

  it('a task killed by Slurm (time limit) with its run still running in the shard is failed, saying so', () => {
    const v = clusterVerdict({
      ...at,
      slurmAsked: true,
      slurm: { state: 'TIMEOUT', reason: 'TimeLimit', exitCode: '0:15', node: 'n1' },
      shard: { status: 'running', reason: null, lastEpochDone: 4 },
    });
    expect(v.status).toBe('failed');
    expect(v.statusReason).toBe('Failed on Slurm (job 12_1). Slurm: TIMEOUT (TimeLimit), exit code 0:15.');
  });

  it("a task that failed before it recorded a run: FreezeLab's reason from its log", () => {
    const v = clusterVerdict({
      ...at,
      slurmAsked: true,
      slurm: { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '1:0', node: null },
      logError: 'The task config /s/tasks/1/config.json cannot be read',
    });
    expect(v.statusReason).toBe(
      'Failed on Slurm (job 12_1). FreezeLab: The task config /s/tasks/1/config.json cannot be read. ' +
        'Slurm: FAILED (NonZeroExitCode), exit code 1:0.',
    );
  });

  it('completed by Slurm without a finished run in the shard is a failure', () => {
    const v = clusterVerdict({
      ...at,
      slurmAsked: true,
      slurm: { state: 'COMPLETED', reason: null, exitCode: '0:0', node: null },
    });
    expect(v).toMatchObject({ state: 'completed', status: 'failed' });
    expect(v.statusReason).toContain('its shard records no finished run');
  });

  it('cancelled on Slurm is cancelled', () => {
    expect(
      clusterVerdict({
        ...at,
        slurmAsked: true,
        slurm: { state: 'CANCELLED', reason: null, exitCode: '0:0', node: null },
      }),
    ).toMatchObject({ state: 'cancelled', status: 'cancelled' });
  });

  it('forgotten by Slurm mid-run: failed; away from Slurm (no tools): the shard says; nothing known: unchanged', () => {
    const previous = {
      state: 'running' as const,
      reason: 'RUNNING',
      exitCode: null,
      status: 'running' as const,
      statusReason: 'Running on Slurm (job 12_1).',
    };
    const forgotten = clusterVerdict({
      ...at,
      slurmAsked: true,
      shard: { status: 'running', reason: null, lastEpochDone: 1 },
      previous,
    });
    expect(forgotten).toMatchObject({ state: 'unknown', status: 'failed' });
    expect(forgotten.statusReason).toContain('Slurm no longer knows job 12_1; its run stopped after epoch 2');
    const away = clusterVerdict({
      ...at,
      slurmAsked: false,
      shard: { status: 'running', reason: null, lastEpochDone: 1 },
      previous,
    });
    expect(away).toMatchObject({ state: 'running', status: 'running' });
    expect(away.statusReason).toContain('as its shard says');
    expect(clusterVerdict({ ...at, slurmAsked: false, previous })).toEqual(previous);
    // A final Slurm state stays final even when Slurm has since forgotten the job.
    const done = { ...previous, state: 'failed' as const, status: 'failed' as const, reason: 'FAILED' };
    expect(clusterVerdict({ ...at, slurmAsked: true, previous: done })).toMatchObject({
      state: 'failed',
      status: 'failed',
    });
  });
});
