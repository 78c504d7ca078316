import pg from 'pg';

/**
 * The JSON shape of a Dealix deal (see toDeal in src/deals/deals.store.ts), rebuilt from a
 * raw `deals`-shaped row with plain pg, for the like-for-like baselines. Kept separate from
 * Dealix's code on purpose: the baselines must not go through Dealix's layers.
 */
export interface DealRow {
  id: string;
  contact_id: string;
  title: string;
  stage: string;
  /** int8 arrives as a string from pg. */
  value_halalas: string | number;
  owner_user_id: string | null;
  /** A DATE stays a 'YYYY-MM-DD' string with dealRowTypes. */
  expected_close_date: string | null;
  stage_changed_at: Date;
  created_at: Date;
  updated_at: Date;
}

const DATE_OID = 1082;

/** pg.Pool `types`: a DATE stays the string Dealix returns (pg's default is a local-time Date). */
export const dealRowTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const sar = (halalas: number) => `${Math.trunc(halalas / 100)}.${String(halalas % 100).padStart(2, '0')}`;

export function toDealJson(row: DealRow) {
  const valueHalalas = Number(row.value_halalas);
  return {
    id: row.id,
    contact_id: row.contact_id,
    title: row.title,
    stage: row.stage,
    value_halalas: valueHalalas,
    value_sar: sar(valueHalalas),
    currency: 'SAR',
    owner_user_id: row.owner_user_id,
    expected_close_date: row.expected_close_date,
    stage_changed_at: row.stage_changed_at.toISOString(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
