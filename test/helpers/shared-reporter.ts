/**
 * Says once, under the test summary, why suites were skipped for want of `../shared` (their
 * names carry SHARED_SKIP_MARK), so a fresh clone's `npm test` explains its skips.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { SHARED_SKIP_MARK } from './shared-mark.js';

export class SharedSkipReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    let suites = 0;
    const files = new Set<string>();
    for (const module of testModules) {
      for (const suite of module.children.allSuites()) {
        if (suite.name.endsWith(SHARED_SKIP_MARK)) {
          suites += 1;
          files.add(module.moduleId);
        }
      }
    }
    if (suites === 0) return;
    const where = process.env.FREEZELAB_SHARED ?? '../shared (next to this folder)';
    console.log(
      `\n ${suites} suite${suites === 1 ? '' : 's'} in ${files.size} file${files.size === 1 ? '' : 's'} skipped: ` +
        `they compare against the official YOLOv5 reference figures in ${where}, which was not found. ` +
        'Put the shared folder there or set FREEZELAB_SHARED to run them.\n',
    );
  }
}
