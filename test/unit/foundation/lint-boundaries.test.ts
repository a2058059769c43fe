import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The process boundaries are lint rules; these cases prove the rules can fail. */
const eslint = new ESLint({ cwd: new URL('../../..', import.meta.url).pathname });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('process boundaries', () => {
  it.each([
    ["import fs from 'node:fs';\nexport const x = fs;\n", 'src/shared/leak.ts', 'no-restricted-imports'],
    ["import path from 'path';\nexport const x = path;\n", 'src/shared/leak.ts', 'no-restricted-imports'],
    ['export const w = window.innerWidth;\n', 'src/shared/leak.ts', 'no-restricted-globals'],
    ['export const v = process.env.X;\n', 'src/shared/leak.ts', 'no-restricted-globals'],
    ["import { app } from 'electron';\nexport const a = app;\n", 'src/main/engine/leak.ts', 'no-restricted-imports'],
    ["import { app } from 'electron';\nexport const a = app;\n", 'src/main/service/leak.ts', 'no-restricted-imports'],
    ['export const d = document.title;\n', 'src/main/engine/leak.ts', 'no-restricted-globals'],
    ["import fs from 'node:fs';\nexport const x = fs;\n", 'src/renderer/lib/leak.ts', 'no-restricted-imports'],
    [
      "import { x } from '../../main/paths.js';\nexport const y = x;\n",
      'src/renderer/lib/leak.ts',
      'no-restricted-imports',
    ],
    ['export const v = process.platform;\n', 'src/renderer/lib/leak.ts', 'no-restricted-globals'],
  ])('flags %j in %s', async (code, file, rule) => {
    expect(await ruleIds(code, file)).toContain(rule);
  });

  /** One import per banned room, from each room of src/main (and src/shared), at two depths. */
  const leak = (specifier: string): string => `import { x } from '${specifier}';\nexport const y = x;\n`;
  it.each([
    ['src/shared/leak.ts', '../main/paths.js'],
    ['src/shared/leak.ts', '../renderer/lib/client.js'],
    ['src/main/engine/leak.ts', '../store/index.js'],
    ['src/main/engine/train/leak.ts', '../../store/queries/runs.js'],
    ['src/main/engine/train/leak.ts', '../../service/service.js'],
    ['src/main/engine/parallel/leak.ts', '../../jobs/runner.js'],
    ['src/main/engine/leak.ts', '../cli/cli.js'],
    ['src/main/engine/infer/leak.ts', '../../web/server.js'],
    ['src/main/engine/leak.ts', '../electron/ipc.js'],
    ['src/main/store/leak.ts', '../engine/tf/backend.js'],
    ['src/main/store/queries/leak.ts', '../../service/service.js'],
    ['src/main/store/leak.ts', '../jobs/runner.js'],
    ['src/main/store/leak.ts', '../cli/cli.js'],
    ['src/main/store/leak.ts', '../web/server.js'],
    ['src/main/store/leak.ts', '../electron/ipc.js'],
    ['src/main/jobs/leak.ts', '../service/service.js'],
    ['src/main/jobs/leak.ts', '../service/handlers/runs.js'],
    ['src/main/jobs/leak.ts', '../cli/cli.js'],
    ['src/main/jobs/leak.ts', '../web/server.js'],
    ['src/main/jobs/leak.ts', '../electron/ipc.js'],
    ['src/main/service/leak.ts', '../cli/cli.js'],
    ['src/main/service/handlers/leak.ts', '../../web/server.js'],
    ['src/main/service/tasks/leak.ts', '../../electron/ipc.js'],
    ['src/renderer/leak.ts', '../scripts/start.js'],
    ['src/renderer/lib/leak.ts', '../../../test/unit/store/fixtures.js'],
    ['src/renderer/components/charts/leak.ts', '../../../paths.js'],
  ])('flags %s importing %s', async (file, specifier) => {
    expect(await ruleIds(leak(specifier), file)).toContain('no-restricted-imports');
  });

  it('flags type-only imports across a boundary too', async () => {
    const code = "import type { Service } from '../service/service.js';\nexport type S = Service;\n";
    expect(await ruleIds(code, 'src/main/jobs/leak.ts')).toContain('no-restricted-imports');
  });

  it('flags an import cycle', async () => {
    // src/shared/train-config.ts imports ./runs.js: runs.ts importing it back closes a cycle.
    const code = "import { trainConfigSchema } from './train-config.js';\nexport const s = trainConfigSchema;\n";
    expect(await ruleIds(code, 'src/shared/runs.ts')).toContain('import-x/no-cycle');
  });

  it('allows each room to import the rooms below it, and the renderer src/shared', async () => {
    for (const [file, specifier] of [
      ['src/main/engine/train/ok.ts', '../../../shared/runs.js'],
      ['src/main/store/queries/ok.ts', '../../../shared/runs.js'],
      ['src/main/jobs/ok.ts', '../engine/tf/backend.js'],
      ['src/main/jobs/ok.ts', '../store/index.js'],
      ['src/main/service/ok.ts', '../jobs/events.js'],
      ['src/main/service/handlers/ok.ts', '../../store/index.js'],
      ['src/main/service/handlers/ok.ts', '../../engine/tf/backend.js'],
      ['src/main/cli/ok.ts', '../service/service.js'],
      ['src/main/web/ok.ts', '../service/service.js'],
      ['src/renderer/ok.ts', '../shared/format.js'],
      ['src/renderer/components/charts/ok.ts', '../../../shared/format.js'],
      ['src/renderer/components/charts/ok.ts', '../../lib/charts.js'],
    ]) {
      expect(await ruleIds(leak(specifier!), file!), `${file} -> ${specifier}`).toEqual([]);
    }
  });

  it('allows what each side may use', async () => {
    expect(
      await ruleIds("import { app } from 'electron';\nexport const a = app;\n", 'src/main/electron/ok.ts'),
    ).toEqual([]);
    expect(await ruleIds("import fs from 'node:fs';\nexport const x = fs;\n", 'src/main/engine/ok.ts')).toEqual([]);
    expect(await ruleIds("import { z } from 'zod';\nexport const s = z.string();\n", 'src/shared/ok.ts')).toEqual([]);
  });
});
