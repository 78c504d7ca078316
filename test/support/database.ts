import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  name: string;
  superuserUrl: string;
  ownerUrl: string;
  appUrl: string;
  drop(): Promise<void>;
}

const url = (user: string, password: string, port: number, database: string) =>
  `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

/** A fresh database cloned from the migrated template: same schema, roles and policies. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const info = inject('postgres');
  const name = `t_${randomBytes(8).toString('hex')}`;
  const superuserUrl = url('postgres', info.superuserPassword, info.port, 'postgres');
  const admin = new pg.Client({ connectionString: superuserUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${info.template} OWNER dealix_owner`);
  } finally {
    await admin.end();
  }
  return {
    name,
    superuserUrl: url('postgres', info.superuserPassword, info.port, name),
    ownerUrl: url('dealix_owner', info.ownerPassword, info.port, name),
    appUrl: url('dealix_app', info.appPassword, info.port, name),
    async drop() {
      const client = new pg.Client({ connectionString: superuserUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
