import { readdirSync } from 'node:fs';
import path from 'node:path';

/** The layers of src/ (ARCHITECTURE.md, "Layers"), lowest first within each. */
export const KERNEL = ['crypto', 'config', 'http', 'auth', 'db', 'tenancy', 'idempotency'];
export const PLATFORM = ['flows', 'policy', 'intents'];
export const DOMAINS = ['contacts', 'deals', 'os-settings', 'approvals', 'gateway', 'whatsapp/outbound', 'drafts', 'whatsapp/inbound', 'whatsapp/admin', 'os', 'plugins'];
export const ROOTS = ['app', 'cli', 'main'];
export const KNOWN = new Set([...KERNEL, ...PLATFORM, ...DOMAINS, ...ROOTS]);


export const SRC = path.resolve(import.meta.dirname, '../../src');

export function unitOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (parts[0] === 'whatsapp') return `whatsapp/${parts[1]}`;
  return parts[0]!;
}

/** Every source file under `dir`, tests left out. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}
