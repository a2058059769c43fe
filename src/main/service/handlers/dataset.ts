import path from 'node:path';
import type { Handlers } from '../../../shared/contract.js';
import type { datasetCommands } from '../../../shared/commands/dataset.js';
import { BrowseCache, filterBrowse } from '../../engine/data/browse.js';
import { THUMB_MAX_SIZE, cachedPreview, renderPreview } from '../../engine/infer/preview.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof datasetCommands>;

/** One in-memory cache of scanned splits per service. */
const browseCaches = new WeakMap<ServiceContext, BrowseCache>();
function browseCache(ctx: ServiceContext): BrowseCache {
  let cache = browseCaches.get(ctx);
  if (!cache) {
    cache = new BrowseCache();
    browseCaches.set(ctx, cache);
  }
  return cache;
}

/** Where thumbnails are cached: `<dataDir>/thumbs` (see engine/infer/preview.ts). */
export function thumbsDir(ctx: ServiceContext): string {
  return path.join(ctx.paths.dataDir, 'thumbs');
}

export const datasetHandlers: AreaHandlers = {
  async 'data.image'(args, ctx) {
    // sharp decodes only images: any other file (served mode asking for /etc/passwd) is an
    // ImageReadError, and its bytes never leave the process.
    const { jpeg, width, height } =
      args.maxSize <= THUMB_MAX_SIZE
        ? await cachedPreview(thumbsDir(ctx), args.path, args.maxSize)
        : await renderPreview(args.path, args.maxSize);
    return { dataUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width, height };
  },

  async 'data.browse'(args, ctx) {
    const { index, cached } = await browseCache(ctx).get(args.data, args.split, args.refresh);
    const matching = filterBrowse(index, { class: args.class, problem: args.problem, background: args.background });
    const offset = Math.min(args.offset, matching.length);
    return {
      yamlFile: index.yamlFile,
      root: index.root,
      split: index.split,
      splits: index.splits,
      names: index.names,
      splitImages: index.images.length,
      total: matching.length,
      offset,
      images: matching.slice(offset, offset + args.limit),
      classCounts: index.classCounts,
      backgrounds: index.backgrounds,
      problemKinds: index.problemKinds,
      scanMs: cached ? 0 : index.scanMs,
    };
  },
};
