/** Small helpers shared by the bench modules. */

/** A positive number from the environment, or `fallback` when unset or empty. */
export const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

export const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
