// Moves files (git mv) and rewrites every relative import that points at them or comes from them.
// usage: node .notes/move.mjs map.json   (map: { "src/old/a.ts": "src/new/b.ts", ... })
import fs from 'node:fs'; import path from 'node:path'; import { execFileSync } from 'node:child_process';
const map = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const root = process.cwd();
const files = [];
(function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) { if (['node_modules', '.git', '.dealix', 'dist', '.notes'].includes(e.name)) continue; const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (/\.(ts|mts|js|mjs)$/.test(p)) files.push(path.relative(root, p)); } })(root);
for (const k of Object.keys(map)) if (!fs.existsSync(k)) { console.error('missing source', k); process.exit(1); }
const moved = (f) => map[f] ?? f;
const rel = (from, to) => { let r = path.relative(path.dirname(from), to); if (!r.startsWith('.')) r = './' + r; return r; };
const re = /((?:from|import)\s*\(?\s*|vi\.mock\(\s*|new URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;
for (const f of files) {
  const src = fs.readFileSync(f, 'utf8');
  const nf = moved(f);
  const out = src.replace(re, (all, pre, q, spec) => {
    const target = path.normalize(path.join(path.dirname(f), spec));
    const nt = moved(target);
    if (nt === target && nf === f) return all;
    return `${pre}${q}${rel(nf, nt)}${q}`;
  });
  if (out !== src) fs.writeFileSync(f, out);
}
for (const [a, b] of Object.entries(map)) { fs.mkdirSync(path.dirname(b), { recursive: true }); execFileSync('git', ['mv', a, b]); }
console.log('moved', Object.keys(map).length);
