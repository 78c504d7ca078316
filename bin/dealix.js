#!/usr/bin/env node
// `npx dealix …`: npm puts node_modules/.bin first on PATH, so `node` here is the pinned
// Node 24 from the `node` package, which runs our TypeScript sources directly.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`dealix needs Node.js 24 (found ${process.versions.node}). Run it through npx or npm scripts after npm ci.\n`);
  process.exit(1);
}
await import('../src/cli/main.ts');
