import type { DatasetReport } from '../../../shared/report.js';
import { stringOption, type CliCommand } from '../cli.js';
import { table } from '../format.js';
import { serviceFor } from '../service-factory.js';

export function formatReport(r: DatasetReport): string {
  const out: string[] = [`${r.yamlFile}: ${r.nc} classes`, ''];
  out.push(
    table(
      ['split', 'images', 'skipped', 'backgrounds', 'instances', 'dropped rows'],
      r.splits.map((s) => [
        s.split,
        String(s.images),
        String(s.skippedImages),
        String(s.backgrounds),
        String(s.instances),
        String(s.droppedRows),
      ]),
      'lrrrrr',
    ),
  );
  for (const s of r.splits) {
    out.push('', `${s.split} per class:`);
    out.push(
      table(
        ['class', 'images', 'instances'],
        s.perClass.map((c) => [`${c.classId} ${c.name}`, String(c.images), String(c.instances)]),
        'lrr',
      ),
    );
  }
  const shown = r.problems.filter((p) => p.severity !== 'info');
  const info = r.problems.length - shown.length;
  out.push('', shown.length === 0 ? 'No problems found.' : `${shown.length} problem(s):`);
  for (const p of shown) out.push(`  ${p.severity === 'error' ? 'error  ' : 'warning'} ${p.text}`);
  if (info > 0) out.push(`(${info} informational note(s), e.g. background images without labels; see --json)`);
  return out.join('\n');
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'Check a YOLO-format dataset: counts per split and class, and every problem with file and line.',
  help: 'Usage: freezelab check --data D [--json]\n\nExit code 1 when the report has errors (bad lines or images are skipped in training).',
  options: { data: { type: 'string' } },
  async run(values, _positionals, io) {
    const data = stringOption(values, 'data');
    const service = serviceFor('cli', values, { runJobs: false });
    const result = await service.call('data.check', { data });
    await service.close();
    if (!result.ok) {
      io.err(`freezelab check: ${result.error.message}${result.error.hint ? ` ${result.error.hint}` : ''}\n`);
      return 1;
    }
    io.out(values.json ? `${JSON.stringify(result.value, null, 2)}\n` : `${formatReport(result.value)}\n`);
    return result.value.problems.some((p) => p.severity === 'error') ? 1 : 0;
  },
};
