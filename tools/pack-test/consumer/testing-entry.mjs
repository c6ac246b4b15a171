// Imports one entry point of @tiercache/core's testing helpers, named on the command line, and says what
// loaded. Run with `--import ./vitest-from-workspace.mjs`: vitest is a peer the user installs; fast-check is not
// installed in the scratch project at all.
const entry = process.argv[2];
try {
  const loaded = await import(entry);
  console.log(JSON.stringify({ entry, exports: Object.keys(loaded).sort() }));
} catch (error) {
  console.log(JSON.stringify({ entry, error: error.code, message: error.message }));
}
