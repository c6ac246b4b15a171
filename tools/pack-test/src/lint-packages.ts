// `npm run lint:packages`: builds and packs every published package as a release would, and runs publint and
// are-the-types-wrong over each tarball. Exits non-zero when either reports a problem.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { checkShape, packAll } from './packages.js';

const destination = await mkdtemp(join(tmpdir(), 'tiercache-lint-packages-'));
try {
  const tarballs = await packAll(destination);
  let failed = 0;
  for (const tarball of tarballs.values()) {
    for (const report of await checkShape(tarball)) {
      if (!report.ok) failed += 1;
      console.log(`${report.ok ? 'ok  ' : 'FAIL'} ${report.tool} ${basename(tarball)}`);
      if (!report.ok) console.log(report.output.trim().replace(/^/gm, '     '));
    }
  }
  if (failed > 0) {
    console.error(`${failed} check(s) failed.`);
    process.exitCode = 1;
  }
} finally {
  await rm(destination, { recursive: true, force: true });
}
