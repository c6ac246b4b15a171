// Lets the scratch project resolve `vitest` (a peer dependency of @tiercache/core/testing) from the workspace
// instead of installing it: `vitest` is resolved as if imported from VITEST_PARENT, a file of the workspace.
// Nothing else is redirected, so fast-check stays missing.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      if (specifier !== 'vitest') return next(specifier, context);
      return next(specifier, { ...context, parentURL: ${JSON.stringify(process.env.VITEST_PARENT)} });
    }
  `)}`,
);
