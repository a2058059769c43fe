/**
 * A one-page, self-contained HTML report of a grouped comparison (tables, recommendation, rule and
 * the trade-off charts as embedded PNGs), to pass around a lab: no script, no external file.
 */
import { CONFIG_FIELD_LABELS, CONFIG_FIELDS, meanSdText, metricName } from '../../../shared/compare.js';
import type { ComparisonResult } from '../../../shared/contract.js';
import { bytes } from '../../../shared/format.js';
import { memoryTitle } from '../../lib/compare.svelte.js';

const esc = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const pm = meanSdText;

/** The report; `charts` maps a set id to PNG data URLs of its charts. */
export function comparisonReportHtml(
  c: ComparisonResult,
  charts: ReadonlyMap<number, readonly string[]>,
  generatedAt: Date,
): string {
  const f3 = (v: number) => v.toFixed(3);
  const sets = c.sets.map((set) => {
    const groups = c.groups.filter((g) => g.setId === set.id);
    const rec = set.recommendation;
    const rows = groups
      .map(
        (g) =>
          `<tr${g.id === rec.groupId ? ' class="rec"' : ''}><td>${esc(g.label)}${g.id === rec.groupId ? ' ★ recommended' : ''}</td>` +
          `<td>${g.runIds.map((id) => `#${id}`).join(', ')}</td><td>${g.n}</td>` +
          `<td>${pm(g, 'bestMap50', f3)}</td><td>${pm(g, 'bestMap50_95', f3)}</td>` +
          `<td>${esc(pm(g, 'memoryBytes', bytes))}</td><td>${pm(g, 'secondsPerEpoch', (v) => v.toFixed(1))}</td></tr>`,
      )
      .join('\n');
    const config = CONFIG_FIELDS.map((f) => `${esc(CONFIG_FIELD_LABELS[f])}: ${esc(set.config[f])}`).join(' · ');
    const images = (charts.get(set.id) ?? []).map((src) => `<img src="${src}" alt="trade-off chart">`).join('');
    return `<section>
<h2>${c.sets.length > 1 ? `Set ${set.id} of ${c.sets.length}: ` : ''}${esc(set.label)}</h2>
<p class="muted">${config}</p>
<p class="rec-line"><strong>Recommendation:</strong> ${esc(rec.line)}</p>
${rec.noise ? `<p><strong>Noise:</strong> ${esc(rec.noise)}</p>` : ''}
${set.maxSeeds <= 1 ? '<p class="warn">One seed per configuration: differences of a few hundredths of mAP can be seed noise.</p>' : ''}
<table><thead><tr><th>Freeze</th><th>Runs</th><th>n</th><th>mAP50</th><th>mAP50-95</th><th>${esc(memoryTitle(set.memoryKind))}</th><th>s/epoch</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<div class="charts">${images}</div>
</section>`;
  });
  const rule = c.recommendation.rule;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FreezeLab comparison</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1c2330}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #d9dee6;padding:3px 8px;text-align:left}
tr.rec td{background:#fdf3c4}.muted{color:#5d6778}.warn{color:#a15c00}
.rec-line{border-left:4px solid #edc948;padding:6px 10px;background:#f7f8fa}
.charts img{width:49%;margin-right:1%}
</style></head><body>
<h1>FreezeLab comparison</h1>
<p class="muted">${esc(generatedAt.toISOString().slice(0, 16).replace('T', ' '))} UTC · ${c.rows.length} runs · metric ${metricName(c.recommendation.metric)} · tolerance ${c.recommendation.tolerance} · saving ${c.recommendation.save}</p>
${c.sets.length > 1 ? `<p class="warn">${esc(c.recommendation.line)}</p>` : ''}
${sets.join('\n')}
<p><strong>Rule:</strong> ${esc(rule)}</p>
<p class="muted">Memory: GPU memory where measured, else the peak in-step tensor memory. Error bars: 95% interval of the group mean.</p>
</body></html>
`;
}
