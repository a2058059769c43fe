import type { ArchArg } from '../../../shared/arch.js';
import type { ModelArchInfo } from '../../../shared/contract.js';
import { estimateTrainingMemory } from '../../../shared/memory-estimate.js';
import { intOption, type CliCommand } from '../cli.js';
import { bytes, compactList, table, thousands } from '../format.js';
import { serviceFor } from '../service-factory.js';

const argText = (a: ArchArg): string => (Array.isArray(a) ? `[${a.map(argText).join(', ')}]` : String(a));
const fromText = (f: number | readonly number[]): string => (Array.isArray(f) ? `[${f.join(', ')}]` : String(f));
/** Widest arguments cell; longer ones are cut (the full list is in --json), so rows fit a terminal. */
const MAX_ARGS_WIDTH = 30;

/** A module's arguments; Detect's anchor table becomes 'anchors LxA' (levels x anchors per level). */
export function argsCell(type: string, args: readonly ArchArg[]): string {
  const parts = args.map((a, i) => {
    if (type === 'Detect' && i === 1 && Array.isArray(a) && a.every(Array.isArray)) {
      const levels = a as readonly ArchArg[][];
      return `anchors ${levels.length}x${(levels[0]?.length ?? 0) / 2}`;
    }
    return argText(a);
  });
  const text = `[${parts.join(', ')}]`;
  return text.length > MAX_ARGS_WIDTH ? `${text.slice(0, MAX_ARGS_WIDTH - 2)}…]` : text;
}

export const archCommand: CliCommand = {
  name: 'arch',
  summary: 'Show a model architecture: modules, parameters, output shapes, FLOPs, and what a freeze spec freezes.',
  help: [
    'Usage: freezelab arch --model <n|s|m|l|x|FILE.yaml|FILE.pt> [--nc N] [--img 640] [--freeze SPEC] [--batch 16] [--json]',
    '',
    '  --model   a built-in size (n, s, m, l, x or yolov5n...), a model YAML, or a .pt/.safetensors file',
    '  --nc      number of classes (default: the YAML or the weights)',
    '  --img     image size for output shapes, FLOPs and the memory estimate (default 640)',
    "  --freeze  N (modules 0..N-1), a list '0,1,5', a range '0-9', or none | backbone | all-but-detect",
    '  --batch   batch size for the training-memory estimate (default 16)',
    '  --json    the full description as JSON (modules, parameters, buffers, presets; arguments uncut)',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    nc: { type: 'string' },
    img: { type: 'string' },
    freeze: { type: 'string' },
    batch: { type: 'string' },
  },
  async run(values, _positionals, io) {
    if (typeof values.model !== 'string') {
      io.err("freezelab arch: --model is required (e.g. --model n). Run 'freezelab arch --help'.\n");
      return 2;
    }
    const nc = values.nc === undefined ? undefined : intOption(values, 'nc', 80, 1, 1000);
    const imgSize = intOption(values, 'img', 640, 32, 2048);
    const batch = intOption(values, 'batch', 16, 1, 1024);
    const result = await serviceFor('cli', values).call('model.arch', {
      model: values.model,
      imgSize,
      ...(nc !== undefined ? { nc } : {}),
      ...(typeof values.freeze === 'string' ? { freeze: values.freeze } : {}),
    });
    if (!result.ok) {
      io.err(`freezelab arch: ${result.error.message}\n${result.error.hint ? `${result.error.hint}\n` : ''}`);
      return 1;
    }
    if (values.json) {
      io.out(`${JSON.stringify(result.value, null, 2)}\n`);
      return 0;
    }
    io.out(`${formatArch(result.value, batch)}\n`);
    return 0;
  },
};

export function formatArch(info: ModelArchInfo, batch: number): string {
  const { arch } = info;
  const frozen = new Set(arch.frozenModules);
  const rows = arch.modules.map((m) => [
    `${frozen.has(m.index) ? '*' : ' '}${m.index}`,
    fromText(m.from),
    String(m.repeats),
    thousands(m.params),
    m.type,
    argsCell(m.type, m.args),
    `[${m.outShape.join(', ')}]`,
    (m.flops / 1e9).toFixed(2),
  ]);
  const out = [
    `${arch.name}: nc ${arch.nc}, depth ${arch.depthMultiple}, width ${arch.widthMultiple}, strides ${arch.strides.join('/')}`,
    '',
    table(['#', 'from', 'n', 'params', 'module', 'arguments', `out @${arch.imgSize}`, 'GFLOPs'], rows, 'rrrrllll'),
    '',
    `${arch.modules.length} modules, ${thousands(arch.totalParams)} parameters, ${(arch.totalFlops / 1e9).toFixed(1)} GFLOPs at ${arch.imgSize}`,
  ];
  if (arch.frozenModules.length > 0) {
    const est = estimateTrainingMemory(arch, arch.frozenModules, { batch, imgSize: arch.imgSize });
    out.push(
      `Frozen (*): modules ${compactList(arch.frozenModules)}: ${thousands(arch.frozenParams)} frozen, ${thousands(arch.trainableParams)} trainable`,
      `Estimated training memory at batch ${batch}: ${bytes(est.total)} (rough estimate; runs record the real peak)`,
    );
  }
  out.push('', 'Freeze presets:');
  for (const p of info.presets) {
    out.push(
      `  ${p.id.padEnd(15)} ${thousands(p.trainableParams).padStart(12)} trainable   modules ${compactList(p.frozenModules) || '-'}`,
    );
  }
  return out.join('\n');
}
