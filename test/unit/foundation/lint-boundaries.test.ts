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

  it('allows what each side may use', async () => {
    expect(
      await ruleIds("import { app } from 'electron';\nexport const a = app;\n", 'src/main/electron/ok.ts'),
    ).toEqual([]);
    expect(await ruleIds("import fs from 'node:fs';\nexport const x = fs;\n", 'src/main/engine/ok.ts')).toEqual([]);
    expect(await ruleIds("import { z } from 'zod';\nexport const s = z.string();\n", 'src/shared/ok.ts')).toEqual([]);
  });
});
