import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * Secrets that embedded mode generates on first start and keeps in the data dir, so a
 * restart reuses them (tokens printed yesterday still verify). File mode 0600, owner only.
 */
const ZLocalSecrets = z.object({
  superuserPassword: z.string().min(24),
  ownerPassword: z.string().min(24),
  appPassword: z.string().min(24),
  jwtSecret: z.string().min(32),
  // Added after the first release: older data dirs get one on their next start.
  masterKey: z.string().min(43).optional(),
});
export type TLocalSecrets = z.infer<typeof ZLocalSecrets> & { masterKey: string };

const secret = () => randomBytes(32).toString('base64url');

export async function loadOrCreateLocalSecrets(dataDir: string): Promise<TLocalSecrets> {
  const file = path.join(dataDir, 'secrets.json');
  // 0755 on the dir: as root, PostgreSQL runs as the postgres user and must traverse it.
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  let existing: unknown;
  try {
    existing = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`Cannot read ${file}: ${(error as Error).message}. Fix or delete it (a new one means new database passwords).`, { cause: error });
    }
  }
  if (existing !== undefined) {
    const parsed = ZLocalSecrets.safeParse(existing);
    if (!parsed.success) throw new Error(`${file} is corrupt: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    if (parsed.data.masterKey) return { ...parsed.data, masterKey: parsed.data.masterKey };
    const upgraded = { ...parsed.data, masterKey: secret() };
    await writeFile(file, JSON.stringify(upgraded, null, 2), { mode: 0o600 });
    return upgraded;
  }
  const created: TLocalSecrets = { superuserPassword: secret(), ownerPassword: secret(), appPassword: secret(), jwtSecret: secret(), masterKey: secret() };
  await writeFile(file, JSON.stringify(created, null, 2), { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return created;
}
