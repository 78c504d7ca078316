import fc from 'fast-check';

/**
 * fast-check arbitraries built from the JSON schemas of /openapi.json: mostly values the schema
 * accepts, with hostile ones mixed in at every leaf (see HOSTILE_STRINGS, HOSTILE_NUMBERS, RAW).
 * Values JSON cannot express as a JS value (1e400, 10,000-deep nesting, `__proto__` keys) are
 * placeholders that {@link toJsonText} swaps for their raw text.
 */

// A JSON Schema as /openapi.json writes it; only the keywords below are read.
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
}

export interface SchemaContext {
  /** components.schemas of the document, for $ref. */
  components: Record<string, JsonSchema>;
  /** Real record ids: a uuid is one of them most of the time, so calls reach rows. */
  ids: string[];
  /** Only values the schema accepts: no hostile leaves, no missing or unknown keys (a base for the sweeps). */
  clean?: boolean;
}

const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Raw JSON texts, written into a body where their placeholder string stands. */
export const RAW: Record<string, string> = {
  '1e400': '1e400',
  '-1e400': '-1e400',
  '2^53+1': '9007199254740993',
  deepArrays: deep(10_000),
  deepObjects: deepObject(10_000),
  protoKeys: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}}',
};
const placeholder = (name: string) => `\u0007raw:${name}\u0007`;
export const RAW_VALUES = Object.keys(RAW).map(placeholder);

/** The body's JSON text, with every raw placeholder replaced by its raw JSON. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0007raw:([^"\\]+)\\u0007"/g, (_match, name: string) => RAW[name] ?? 'null');
}

export const ONE_MEGABYTE = 'a'.repeat(1 << 20);

export const HOSTILE_STRINGS: string[] = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\ud83d',
  '\u202Eevil\u202C',
  '\u200f\u061c',
  ONE_MEGABYTE,
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  "'; DROP TABLE deals; --",
  '../../etc/passwd',
  '{{name}}',
  '%00',
  '\r\n',
  '9007199254740993',
  '1e400',
  '00000000-0000-0000-0000-000000000000',
];

export const HOSTILE_NUMBERS: unknown[] = [
  2 ** 53,
  -(2 ** 53),
  2 ** 53 - 1,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  -0,
  0.5,
  -1,
  placeholder('1e400'),
  placeholder('-1e400'),
  placeholder('2^53+1'),
];

const HOSTILE_SHAPES: unknown[] = [null, true, [], {}, placeholder('deepArrays'), placeholder('deepObjects'), placeholder('protoKeys'), [null], { __proto__: null, toString: 1 }];

/** Any hostile value: a leaf of any declared type may be replaced by one. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom(...HOSTILE_NUMBERS), fc.constantFrom(...HOSTILE_SHAPES));

function resolve(schema: JsonSchema, ctx: SchemaContext): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 10; hops++) {
    const name = current.$ref.split('/').at(-1)!;
    const target = ctx.components[name];
    if (!target) throw new Error(`unresolved ${current.$ref}`);
    const { $ref: _ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  if (current.allOf) {
    const { allOf, ...rest } = current;
    return allOf.map((part) => resolve(part, ctx)).reduce<JsonSchema>((merged, part) => ({ ...merged, ...part, properties: { ...merged.properties, ...part.properties } }), rest);
  }
  return current;
}

const isoDate = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });

function stringArbitrary(schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return ctx.ids.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ctx.ids) }, { weight: 1, arbitrary: fc.uuid() }) : fc.uuid();
    case 'date':
      return isoDate.map((d) => d.toISOString().slice(0, 10));
    case 'date-time':
      return isoDate.map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
    case 'uri':
      return fc.webUrl();
    default:
      break;
  }
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 40, 40));
  return fc.oneof(fc.string({ minLength, maxLength }), fc.string({ minLength, maxLength, unit: 'grapheme' }), fc.string({ minLength, maxLength, unit: 'binary' }));
}

function integerArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  const min = schema.minimum ?? -(2 ** 31);
  const max = schema.maximum ?? 2 ** 31 - 1;
  const small = fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) });
  return fc.oneof({ weight: 4, arbitrary: small }, { weight: 1, arbitrary: fc.constantFrom(min, max) });
}

function typedArbitrary(type: string, schema: JsonSchema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringArbitrary(schema, ctx);
    case 'integer':
      return integerArbitrary(schema);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, ...(schema.minimum !== undefined ? { min: schema.minimum } : {}), ...(schema.maximum !== undefined ? { max: schema.maximum } : {}) });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 3, 3));
      return fc.array(schema.items ? arbitraryFromSchema(schema.items, ctx, depth + 1) : fc.jsonValue({ maxDepth: 1 }), { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(schema, ctx, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectArbitrary(schema: JsonSchema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = schema.required ?? [];
  const known = fc.record(
    Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, arbitraryFromSchema(property, ctx, depth + 1)])),
    { requiredKeys: required.filter((name) => name in properties) },
  );
  const open = schema.additionalProperties !== false && !ctx.clean;
  const extra = open
    ? fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'deal_id', 'partner', 'tags', 'to')), depth < 3 ? fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileValue) : fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })
    : fc.constant({});
  // Sometimes a required key goes missing, or an unknown one comes along: both must be a 4xx.
  const broken = fc.oneof(
    { weight: 6, arbitrary: fc.constant((value: Record<string, unknown>) => value) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...(required.length > 0 ? required : ['-'])).map((name) => (value: Record<string, unknown>) => {
        const { [name]: _dropped, ...rest } = value;
        return rest;
      }),
    },
    { weight: 1, arbitrary: fc.constant((value: Record<string, unknown>) => ({ ...value, unexpected_field: 1 })) },
  );
  return fc.tuple(known, extra, ctx.clean ? fc.constant((value: Record<string, unknown>) => value) : broken).map(([value, more, mutate]) => {
    const merged: Record<string, unknown> = {};
    // defineProperty: a generated `__proto__` key stays an own key, as JSON.parse would make it.
    for (const [key, item] of [...Object.entries(more), ...Object.entries(value as Record<string, unknown>)]) Object.defineProperty(merged, key, { value: item, enumerable: true, writable: true, configurable: true });
    return mutate(merged);
  });
}

/** Values for `schema`: mostly valid, and at each leaf, now and then, a hostile value instead. */
export function arbitraryFromSchema(input: JsonSchema, ctx: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(input, ctx);
  let base: fc.Arbitrary<unknown>;
  if (schema.const !== undefined) base = fc.constant(schema.const);
  else if (schema.enum) base = fc.constantFrom(...schema.enum);
  else if (schema.anyOf ?? schema.oneOf) base = fc.oneof(...(schema.anyOf ?? schema.oneOf)!.map((part) => arbitraryFromSchema(part, ctx, depth + 1)));
  else if (Array.isArray(schema.type)) base = fc.oneof(...schema.type.map((type) => typedArbitrary(type, schema, ctx, depth)));
  else if (schema.type) base = typedArbitrary(schema.type, schema, ctx, depth);
  else if (schema.properties) base = objectArbitrary(schema, ctx, depth);
  else base = fc.jsonValue({ maxDepth: 2 });
  return ctx.clean ? base : fc.oneof({ weight: 5, arbitrary: base }, { weight: 1, arbitrary: hostileValue });
}

/** encodeURIComponent, except that a lone surrogate is sent as its WTF-8 bytes (a client can send any bytes). */
export function encodeLoose(text: string): string {
  if (text.isWellFormed()) return encodeURIComponent(text);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const next = text.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(text[i]!);
  }
  return out;
}
