import { describe, expect, it } from 'vitest';
import { BACKENDS, backendSchema } from '../../../src/shared/backend.js';
import {
  BN_POLICIES,
  RESUMABLE_STATUSES,
  RUN_STATUSES,
  bnPolicySchema,
  canTransition,
  isResumable,
  runStatusSchema,
} from '../../../src/shared/runs.js';
import { sweepRequestSchema, trainConfigSchema } from '../../../src/shared/train-config.js';

/** Concepts defined once in src/shared: these pin what every importer relies on. */
describe('shared concepts', () => {
  it('backends: fastest first, and the training config accepts exactly these', () => {
    expect(BACKENDS).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    const base = { data: 'd.yaml', model: 'n' };
    for (const backend of BACKENDS) expect(trainConfigSchema.parse({ ...base, backend }).backend).toBe(backend);
    expect(trainConfigSchema.safeParse({ ...base, backend: 'webgl' }).success).toBe(false);
    expect(backendSchema.safeParse('webgpu').success).toBe(false);
  });

  it('BN policy: update (the default) or freeze, for runs and sweeps alike', () => {
    expect(BN_POLICIES).toEqual(['update', 'freeze']);
    expect(trainConfigSchema.parse({ data: 'd.yaml', model: 'n' }).bnFrozen).toBe('update');
    expect(trainConfigSchema.safeParse({ data: 'd.yaml', model: 'n', bnFrozen: 'eval' }).success).toBe(false);
    const sweep = { data: 'd.yaml', model: 'n', freezes: ['none'] };
    expect(sweepRequestSchema.parse({ ...sweep, bnPolicies: [...BN_POLICIES] }).bnPolicies).toEqual(BN_POLICIES);
    expect(sweepRequestSchema.safeParse({ ...sweep, bnPolicies: ['eval'] }).success).toBe(false);
    expect(bnPolicySchema.safeParse('Update').success).toBe(false);
  });

  it('resumable statuses are exactly those the lifecycle lets go back to queued', () => {
    expect([...RESUMABLE_STATUSES].sort()).toEqual(['cancelled', 'failed', 'interrupted']);
    for (const s of RUN_STATUSES) {
      expect(isResumable(s)).toBe(canTransition(s, 'queued'));
      expect(runStatusSchema.parse(s)).toBe(s);
    }
    expect(isResumable('completed')).toBe(false);
    expect(isResumable('running')).toBe(false);
    expect(isResumable('queued')).toBe(false);
    expect(runStatusSchema.safeParse('paused').success).toBe(false);
  });
});
