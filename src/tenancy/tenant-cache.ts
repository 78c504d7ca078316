import { LRUCache } from 'lru-cache';
import { afterCommit, type TenantTx } from './with-tenant.ts';

export interface TenantCacheOptions {
  /** Most entries kept; the least recently used goes first. */
  max: number;
  /** How long an entry is served; other processes' writes show within it. */
  ttlMs: number;
}

/**
 * A bounded, expiring cache of something read per tenant and changed rarely (lru-cache). A write
 * drops what it changes once its transaction commits (`forgetAfterCommit`), and a value loaded
 * while a forget happened is served but not kept: the load may have read the rows just before
 * the write committed, and keeping it would outlive the write by a TTL.
 *
 * @example
 * const cache = new TenantCache<Config>({ max: 10_000, ttlMs: 2_000 });
 * const config = await cache.get(tenantId, () => readConfig(tx));
 * cache.forgetAfterCommit(tx, (_value, key) => key === tenantId);
 */
export class TenantCache<V extends object> {
  readonly #entries: LRUCache<string, V>;
  /** Counts forgets; a load that saw it change keeps nothing. */
  #forgets = 0;

  constructor(options: TenantCacheOptions) {
    this.#entries = new LRUCache<string, V>({ max: options.max, ttl: options.ttlMs });
  }

  /** The fresh cached value, or `load()`'s; `undefined` from `load` is returned and not cached. */
  async get<R extends V | undefined>(key: string, load: () => Promise<R>): Promise<V | R> {
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const forgets = this.#forgets;
    const value = await load();
    if (value !== undefined && forgets === this.#forgets) this.#entries.set(key, value);
    return value;
  }

  /** Drops the matching entries now and again once `tx` commits (nothing more if it rolls back). */
  forgetAfterCommit(tx: TenantTx, matches: (value: V, key: string) => boolean): void {
    this.forget(matches);
    afterCommit(tx, () => this.forget(matches));
  }

  /** Drops the matching entries now. */
  forget(matches: (value: V, key: string) => boolean): void {
    this.#forgets += 1;
    const doomed: string[] = [];
    for (const [key, value] of this.#entries.entries()) if (matches(value, key)) doomed.push(key);
    for (const key of doomed) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
