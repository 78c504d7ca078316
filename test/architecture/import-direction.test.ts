import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOMAINS, KERNEL, KNOWN, PLATFORM, ROOTS, sourceFiles, SRC, unitOf } from './layers.ts';

/**
 * One direction of dependencies (ARCHITECTURE.md, "Layers"). A unit is a folder under src/
 * (src/whatsapp/<part> for the WhatsApp split). Kernel units import only kernel units listed
 * before them; platform units the kernel and each other; each domain the kernel, the platform
 * and domains listed before it; only the composition roots import everything, and nothing
 * imports them.
 */
/** Why an import from one unit into another is forbidden, or null when it is allowed. */
export function forbidden(from: string, to: string): string | null {
  if (from === to) return null;
  if (!KNOWN.has(from)) return `${from} is in no layer (add it to the table in this test and to ARCHITECTURE.md)`;
  if (!KNOWN.has(to)) return `${to} is in no layer (add it to the table in this test and to ARCHITECTURE.md)`;
  if (ROOTS.includes(from)) return null;
  if (ROOTS.includes(to)) return `${from} imports the composition root ${to}`;
  if (KERNEL.includes(from)) {
    if (!KERNEL.includes(to)) return `the kernel (${from}) imports ${to}`;
    return KERNEL.indexOf(to) < KERNEL.indexOf(from) ? null : `the kernel unit ${from} imports ${to}, which comes after it`;
  }
  if (PLATFORM.includes(from)) return KERNEL.includes(to) || PLATFORM.includes(to) ? null : `the platform unit ${from} imports the domain ${to}`;
  if (KERNEL.includes(to) || PLATFORM.includes(to)) return null;
  return DOMAINS.indexOf(to) < DOMAINS.indexOf(from) ? null : `${from} imports ${to}, which comes after it`;
}

function importEdges(): Array<{ file: string; target: string }> {
  return sourceFiles(SRC).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => ({ file, target: path.resolve(path.dirname(file), m[1]!) }));
  });
}

describe('import direction', () => {
  it('the rule table refuses what it should (so the check below can fail)', () => {
    expect(forbidden('deals', 'os')).toMatch(/comes after/);
    expect(forbidden('http', 'deals')).toMatch(/kernel/);
    expect(forbidden('http', 'auth')).toMatch(/comes after/);
    expect(forbidden('auth', 'http')).toBeNull();
    expect(forbidden('flows', 'gateway')).toMatch(/platform/);
    expect(forbidden('whatsapp/outbound', 'whatsapp/inbound')).toMatch(/comes after/);
    expect(forbidden('os', 'app')).toMatch(/composition root/);
    expect(forbidden('os', 'whatsapp/outbound')).toBeNull();
    expect(forbidden('app', 'os')).toBeNull();
  });

  it('every import in src/ points down the layers', () => {
    const violations = importEdges()
      .map(({ file, target }) => ({ file, target, why: forbidden(unitOf(file), unitOf(target)) }))
      .filter((edge) => edge.why !== null)
      .map((edge) => `${path.relative(SRC, edge.file)} → ${path.relative(SRC, edge.target)}: ${edge.why}`);
    expect(violations).toEqual([]);
  });

  it('the units form no cycle', () => {
    const graph = new Map<string, Set<string>>();
    for (const { file, target } of importEdges()) {
      const [a, b] = [unitOf(file), unitOf(target)];
      if (a !== b) graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (unit: string, trail: string[]) => {
      if (state.get(unit) === 'done') return;
      if (state.get(unit) === 'open') { cycles.push([...trail.slice(trail.indexOf(unit)), unit].join(' → ')); return; }
      state.set(unit, 'open');
      for (const next of graph.get(unit) ?? []) visit(next, [...trail, unit]);
      state.set(unit, 'done');
    };
    for (const unit of graph.keys()) visit(unit, []);
    expect(cycles).toEqual([]);
  });
});
