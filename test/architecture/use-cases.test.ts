import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOMAINS, sourceFiles, SRC, unitOf } from './layers.ts';

/**
 * One use case per file (the developers' guide, "Design rules"): in a domain, an exported async
 * function taking an options object with the transaction (`tx`, or the `pool` for one that
 * opens its own tenant transactions) is a use case. A file holds one, named after the file
 * (approve-request.ts: approveRequest), taking the exported interface `<Name>Options`. Routes,
 * schemas, stores, plugins and flows are not use cases; helpers that take a transaction
 * positionally (`(tx, id)`) are store code.
 */
const NOT_USE_CASES = /\.(routes|schemas|store|plugin|flow)\.ts$/;

/** The members of the options a function takes: its inline type, or the interface it names in this file. */
function optionMembers(text: string, type: string, from: number): string {
  if (type !== '{') return new RegExp(`^export interface ${type}\\b[^{]*\\{([\\s\\S]*?)^\\}`, 'm').exec(text)?.[1] ?? '';
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(from, i);
  }
  return '';
}

export function useCaseProblems(fileName: string, text: string): string[] {
  const exported = [...text.matchAll(/^export async function (\w+)\s*(?:<[^>]*>)?\(\s*(\{[^)]*?\}|\w+)\s*:\s*(\{|\w+)/gm)];
  // A use case takes an options object that carries the transaction (or the pool it opens them on).
  const useCases = exported.filter((m) => /(^|[\s{;])(tx|pool)\??:/.test(optionMembers(text, m[3]!, m.index + m[0].length - 1)));
  if (useCases.length === 0) return [];
  const base = path.basename(fileName, '.ts');
  const camel = base.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const options = `${camel[0]!.toUpperCase()}${camel.slice(1)}Options`;
  const problems: string[] = [];
  if (useCases.length !== 1) problems.push(`holds ${useCases.length} use cases (${useCases.map((m) => m[1]).join(', ')}); one per file`);
  if (!useCases.some((m) => m[1] === camel)) problems.push(`its use case should be named ${camel}, after the file`);
  if (!useCases.every((m) => m[3] === options)) problems.push(`the use case should take ${options}`);
  if (!new RegExp(`^export interface ${options}\\b`, 'm').test(text)) problems.push(`exports no interface ${options}`);
  return problems;
}

describe('one use case per file, taking its exported options', () => {
  it('refuses what it should (so the check below can fail)', () => {
    const two = 'export interface ApproveOptions {\n  tx: TenantTx;\n}\nexport async function approve(options: ApproveOptions) {}\nexport async function reject(options: { tx: TenantTx }) {}\n';
    expect(useCaseProblems('approve.ts', two)).toEqual(expect.arrayContaining([expect.stringMatching(/2 use cases/), expect.stringMatching(/take ApproveOptions/)]));
    expect(useCaseProblems('mint.ts', 'export async function sign(options: { key: string }) {}\n')).toEqual([]);
    expect(useCaseProblems('get-deal.ts', 'export async function getDeal({ tx, id }: { tx: TenantTx; id: string }) {}\n')).toEqual([
      'the use case should take GetDealOptions',
      'exports no interface GetDealOptions',
    ]);
    const good = 'export interface GetDealOptions {\n  tx: TenantTx;\n  id: string;\n}\n\nexport async function getDeal({ tx, id }: GetDealOptions) {}\n';
    expect(useCaseProblems('get-deal.ts', good)).toEqual([]);
    expect(useCaseProblems('deals.ts', 'export async function findDeal(tx: TenantTx, id: string) {}\n')).toEqual([]);
  });

  it('every use case file in the domains follows the rule', () => {
    const problems = sourceFiles(SRC)
      .filter((file) => DOMAINS.includes(unitOf(file)) && !NOT_USE_CASES.test(file))
      .flatMap((file) => useCaseProblems(file, readFileSync(file, 'utf8')).map((problem) => `${path.relative(SRC, file)}: ${problem}`));
    expect(problems).toEqual([]);
  });
});
