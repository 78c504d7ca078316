import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DrizzleQueryError } from 'drizzle-orm';
import { createLogger, scrubText } from './logger.ts';

describe('scrubText', () => {
  it('masks JWTs, bearer tokens, URL passwords and phone numbers', () => {
    const text = scrubText(
      'Bearer abc.def.ghi eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig postgres://u:s3cret@h/db call +966 55 123 4567 or 0551234567',
    );
    expect(text).not.toMatch(/abc\.def|eyJ|s3cret|551234567|55 123/);
    expect(text).toContain('postgres://u:[redacted]@h/db');
  });

  it('leaves ordinary text, uuids and timestamps alone', () => {
    for (const text of [
      'deal 01a1ff9e-b053-76af-9af4-54c33d322e5e moved at 2026-11-21T19:39:12.202Z, 12 items',
      '2026-11-21 19:44:32.002 UTC [123] LOG:  checkpoint starting',
      'value 1500000.50 SAR',
    ]) {
      expect(scrubText(text)).toBe(text);
    }
    expect(scrubText('call me on 0551234567.')).toBe('call me on [phone …67].');
  });
});

describe('createLogger', () => {
  it('redacts secret fields by path and by pattern', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    logger.info({ password: 'pw1', contact: { phone: '+966551234567', token: 't0k' }, note: 'ring 0551234567' }, 'sent to +966551234567');
    const out = lines.join('');
    expect(out).not.toMatch(/pw1|t0k|551234567/);
    expect(out).toContain('[redacted]');
  });
});

describe('query errors', () => {
  it('log the SQL and SQLSTATE, never the bound values, not even one that looks like a stack frame', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const cause = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505', severity: 'ERROR' });
    const error = new DrizzleQueryError('insert into contacts (name, note) values ($1, $2)', ['Ahmed Alharbi', 'hello\n    at Riyadh secret street'], cause);
    logger.error({ err: error }, 'unhandled error');
    const out = lines.join('');
    expect(out).not.toMatch(/Alharbi|Riyadh|hello/);
    expect(out).toContain('insert into contacts (name, note) values ($1, $2)');
    expect(out).toContain('<string 13>');
    expect(out).toContain('23505');
  });
});
