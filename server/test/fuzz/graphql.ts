import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  getNamedType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  isLeafType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Random } from './random.js';
import type { WireRequest } from './wire.js';

// Documents and variables generated from schema.graphql: random root fields with random
// selections and arguments whose values are drawn from lists of troublemakers per type (wrong
// JSON types, NUL and control characters, edge integers, unknown enum values…), sent as JSON
// POSTs or GETs, sometimes with the document or the JSON itself damaged.

const here = path.dirname(fileURLToPath(import.meta.url));
export const schema: GraphQLSchema = buildSchema(
  fs.readFileSync(path.join(here, '../../../schema.graphql'), 'utf8'),
);

export type Principal = 'user' | 'admin' | 'anonymous' | 'garbage' | 'readToken';

/** Ids that exist, so arguments sometimes hit real rows; and users the fuzzer must not touch. */
export interface IdPool {
  files: string[];
  tags: string[];
  /** A user the admin may ban, promote and demote at will. */
  victim: string;
}

// The session the fuzzer runs under must survive: these would end it.
const EXCLUDED_FIELDS = new Set(['logout', 'logoutEverywhere']);
// Mutations aimed at a user get the victim or nonexistent ids only, never the fuzzer's own users.
const USER_TARGETED = new Set(['banUser', 'unbanUser', 'setUserRole', 'setUserQuota']);

export interface GraphQLCase {
  labels: string[];
  principal: Principal;
  request(tokens: Record<'user' | 'admin' | 'readToken', string>): WireRequest;
}

/** Any value is allowed: wrong types are the point. */
type Value = unknown;

const STRINGS = (rng: Random): Value =>
  rng.weighted<() => Value>([
    [4, () => `w${rng.hex(3)}`],
    [1, () => ''],
    [3, () => `a\u0000b`],
    [1, () => '\u0000'],
    [1, () => '\u0001\u001b[2J\u007f'],
    [1, () => 'line\r\nbreak'],
    [1, () => 'x'.repeat(rng.pick([41, 300, 10_000, 200_000]))],
    [1, () => '\ud800'],
    [1, () => '🗄️ Grüße 文件'],
    [1, () => "%_' OR 1=1 --"],
    [1, () => '\\'],
    [1, () => `fz${rng.hex(6)}@example.com`],
    [1, () => 'A\u0000@example.com'],
    [1, () => '   '],
  ])();

const INTS = (rng: Random): Value =>
  rng.pick<Value>([
    0,
    1,
    -1,
    5,
    20,
    100,
    101,
    2147483647,
    -2147483648,
    2147483648,
    1e20,
    1.5,
    -0.5,
    '5',
    'many',
    true,
    [1],
    Number.MAX_SAFE_INTEGER,
  ]);

const SAFE_INTS = (rng: Random): Value =>
  rng.pick<Value>([0, 1, -1, 2 ** 53 - 1, 2 ** 53, 1e300, 1.5, '1', null]);

const DATES = (rng: Random): Value =>
  rng.pick<Value>([
    new Date(Date.now() - rng.int(0, 400) * 86_400_000).toISOString(),
    new Date(Date.now() + rng.int(0, 400) * 86_400_000).toISOString(),
    '2026-13-45T00:00:00Z',
    'garbage',
    '',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '2026-01-01',
    '2026-01-01T00:00:00+14:00',
    '2026-01-01T00:00:00\u0000Z',
    1_700_000_000_000,
    -1,
  ]);

function idValue(rng: Random, ids: IdPool, field: string): Value {
  if (USER_TARGETED.has(field)) return rng.pick([ids.victim, '999999', '0', 'abc']);
  return rng.weighted<() => Value>([
    [3, () => rng.pick(ids.files.length ? ids.files : ['1'])],
    [2, () => rng.pick(ids.tags.length ? ids.tags : ['1'])],
    [1, () => ids.victim],
    [1, () => rng.pick(['0', '-1', 'abc', '', '1.5', '1e3', ' 1', '0x10'])],
    [1, () => '99999999999999999999'],
    [1, () => '9223372036854775808'],
    [1, () => 'a\u0000'],
    [1, () => rng.pick([1, 1.5, true, -7, 2 ** 53])],
  ])();
}

/** A value for an input type: usually of the right shape, often not. */
function inputValue(
  rng: Random,
  type: GraphQLInputType,
  ids: IdPool,
  field: string,
  depth = 0,
): Value {
  if (type instanceof GraphQLNonNull) {
    return rng.chance(0.05) ? null : inputValue(rng, type.ofType, ids, field, depth);
  }
  if (rng.chance(0.08)) return null;
  if (rng.chance(0.05)) return rng.pick<Value>([{}, [], true, 3.25, 'str', { a: [1] }]);
  if (type instanceof GraphQLList) {
    if (rng.chance(0.1)) return inputValue(rng, type.ofType, ids, field, depth + 1);
    const n = rng.weighted<number>([
      [3, rng.int(0, 3)],
      [1, rng.pick([50, 500])],
    ]);
    return Array.from({ length: n }, () => inputValue(rng, type.ofType, ids, field, depth + 1));
  }
  if (type instanceof GraphQLEnumType) {
    const values = type.getValues().map((v) => v.name);
    return rng.weighted<() => Value>([
      [6, () => rng.pick(values)],
      [1, () => 'NOPE'],
      [1, () => rng.pick(values).toLowerCase()],
      [1, () => 5],
    ])();
  }
  if (type instanceof GraphQLInputObjectType) return {};
  if (type instanceof GraphQLScalarType) {
    switch (type.name) {
      case 'String':
        return STRINGS(rng);
      case 'Int':
        return INTS(rng);
      case 'SafeInt':
        return SAFE_INTS(rng);
      case 'Float':
        return rng.pick([0, 1.5, -1e308, 'x']);
      case 'Boolean':
        return rng.pick<Value>([true, false, 'true', 0]);
      case 'ID':
        return idValue(rng, ids, field);
      case 'DateTime':
        return DATES(rng);
      case 'Upload':
        return rng.pick<Value>(['file', {}, 0]);
    }
  }
  return null;
}

/** `value` as a GraphQL literal; values GraphQL cannot spell (lone surrogates) give parse errors. */
function literal(value: Value, enumLike: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string')
    return enumLike && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, enumLike)).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${literal(v, enumLike)}`)
    .join(', ')}}`;
}

class DocumentBuilder {
  readonly variables: Record<string, Value> = {};
  readonly definitions: string[] = [];
  private n = 0;
  constructor(
    private readonly rng: Random,
    private readonly ids: IdPool,
    readonly labels: string[],
    /** Deep mode prefers object fields, to reach past the depth limit through cycles. */
    private readonly deep: boolean,
  ) {}

  args(field: GraphQLField<unknown, unknown>): string {
    const rng = this.rng;
    const out: string[] = [];
    for (const arg of field.args) {
      const required = arg.type instanceof GraphQLNonNull;
      if (!(required ? rng.chance(0.97) : rng.chance(0.45))) continue;
      out.push(`${arg.name}: ${this.argValue(arg, field.name)}`);
    }
    if (rng.chance(0.02)) {
      out.push('nope: 1');
      this.labels.push('unknown argument');
    }
    return out.length ? `(${out.join(', ')})` : '';
  }

  private argValue(arg: GraphQLArgument, fieldName: string): string {
    const rng = this.rng;
    const value = inputValue(rng, arg.type, this.ids, fieldName);
    const enumLike = getNamedType(arg.type) instanceof GraphQLEnumType;
    if (rng.chance(0.45)) return literal(value, enumLike);
    const name = `v${this.n++}`;
    let declared = String(arg.type);
    if (rng.chance(0.04)) {
      declared = rng.pick(['Int', 'String!', '[ID!]!', 'Boolean', 'Nope']);
      this.labels.push('variable of another type');
    }
    let definition = `$${name}: ${declared}`;
    if (rng.chance(0.04)) {
      definition += ` = ${literal(inputValue(rng, arg.type, this.ids, fieldName), enumLike)}`;
      this.labels.push('variable default');
    }
    this.definitions.push(definition);
    if (!rng.chance(0.05)) this.variables[name] = value;
    return `$${name}`;
  }

  selection(type: GraphQLObjectType, depth: number): string {
    const rng = this.rng;
    const fields = Object.values(type.getFields()).filter((f) => !EXCLUDED_FIELDS.has(f.name));
    const objects = fields.filter((f) => !isLeafType(getNamedType(f.type)));
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const chosen: GraphQLField<unknown, unknown>[] = [];
    if (this.deep && objects.length && depth < 14) chosen.push(rng.pick(objects));
    else {
      chosen.push(...rng.sample(leaves, rng.int(1, Math.min(4, leaves.length))));
      if (objects.length && depth < 4 && rng.chance(0.5))
        chosen.push(...rng.sample(objects, rng.int(1, 2)));
    }
    if (chosen.length === 0) return '{ __typename }';
    return `{ ${chosen.map((f) => this.field(f, depth + 1)).join(' ')} }`;
  }

  field(field: GraphQLField<unknown, unknown>, depth: number, alias?: string): string {
    const named = getNamedType(field.type);
    const sub = named instanceof GraphQLObjectType ? ` ${this.selection(named, depth)}` : '';
    return `${alias ? `${alias}: ` : ''}${field.name}${this.args(field)}${sub}`;
  }
}

function documentFor(
  rng: Random,
  ids: IdPool,
  labels: string[],
): { query: string; variables: Record<string, Value> } {
  if (rng.chance(0.03)) {
    labels.push('introspection');
    return {
      query: rng.pick([
        '{ __schema { types { name kind fields { name args { name type { name } } } } } }',
        '{ __type(name: "File") { name fields { name } } }',
        '{ __typename }',
      ]),
      variables: {},
    };
  }
  const mutation = rng.chance(0.35);
  const root = (mutation ? schema.getMutationType() : schema.getQueryType())!;
  labels.push(mutation ? 'mutation' : 'query');
  const deep = rng.chance(0.05);
  if (deep) labels.push('deep nesting');
  const b = new DocumentBuilder(rng, ids, labels, deep);
  const candidates = Object.values(root.getFields()).filter((f) => !EXCLUDED_FIELDS.has(f.name));
  const selections: string[] = [];
  if (rng.chance(0.04)) {
    const f = rng.pick(candidates);
    const count = rng.pick([16, 30]);
    labels.push(`${count} aliases of ${f.name}`);
    for (let i = 0; i < count; i++) selections.push(b.field(f, 1, `a${i}`));
  } else {
    for (const f of rng.sample(candidates, rng.int(1, 3))) {
      labels.push(f.name);
      selections.push(b.field(f, 1, rng.chance(0.2) ? `x${rng.hex(3)}` : undefined));
    }
  }
  if (rng.chance(0.03)) {
    selections.push('__typename @skip(if: "no") @nope');
    labels.push('bad directives');
  }
  const defs = b.definitions.length ? `(${b.definitions.join(', ')})` : '';
  let query = `${mutation ? 'mutation' : 'query'} Fuzz${defs} { ${selections.join(' ')} }`;
  if (rng.chance(0.03)) {
    query += ' fragment A on User { ...B } fragment B on User { ...A }';
    labels.push('cyclic fragments');
  }
  if (rng.chance(0.05)) {
    const at = rng.int(0, query.length);
    const piece = rng.pick(['{', '}', '(', '"', '$', '\u0000', '...', '@', '#', '\\u']);
    query = rng.chance(0.5)
      ? query.slice(0, at) + piece + query.slice(at)
      : query.slice(0, at) + query.slice(at + 1);
    labels.push(`document damaged at ${at}`);
  }
  return { query, variables: b.variables };
}

export function graphqlCase(rng: Random, ids: IdPool): GraphQLCase {
  const labels: string[] = [];
  const principal = rng.weighted<Principal>([
    [9, 'user'],
    [7, 'admin'],
    [2, 'anonymous'],
    [1, 'garbage'],
    [1, 'readToken'],
  ]);
  labels.push(`as:${principal}`);
  const doc = documentFor(rng, ids, labels);
  const transport = rng.weighted<string>([
    [40, 'post'],
    [6, 'get'],
    [2, 'bad json'],
    [1, 'post shapes'],
    [1, 'other method'],
  ]);
  if (transport !== 'post') labels.push(`transport:${transport}`);
  const operationName = rng.chance(0.05) ? rng.pick(['Nope', '', 'Fuzz']) : undefined;
  if (operationName !== undefined) labels.push(`operationName:${JSON.stringify(operationName)}`);

  let method = 'POST';
  let target = '/graphql';
  let contentType: string | null = rng.chance(0.9)
    ? 'application/json'
    : rng.pick([
        'application/json; charset=utf-8',
        'application/graphql-response+json',
        'text/plain',
        'application/x-www-form-urlencoded',
      ]);
  let body: Buffer = Buffer.from(
    JSON.stringify({ query: doc.query, variables: doc.variables, operationName }),
  );
  if (transport === 'get') {
    method = 'GET';
    contentType = null;
    const params = new URLSearchParams({ query: doc.query });
    if (Object.keys(doc.variables).length)
      params.set('variables', rng.chance(0.15) ? '{"v0":' : JSON.stringify(doc.variables));
    if (operationName !== undefined) params.set('operationName', operationName);
    target = `/graphql?${params.toString()}`;
    body = Buffer.alloc(0);
  } else if (transport === 'bad json') {
    const [label, bytes] = rng.pick<[string, Buffer]>([
      ['truncated', body.subarray(0, rng.int(0, body.length - 1))],
      ['trailing garbage', Buffer.concat([body, Buffer.from('}x')])],
      [
        'invalid UTF-8',
        Buffer.concat([
          Buffer.from('{"query":"{ me { id } }", "x":"'),
          Buffer.from([0xff, 0xc3]),
          Buffer.from('"}'),
        ]),
      ],
      [
        'NUL byte',
        Buffer.concat([
          Buffer.from('{"query":"{ me'),
          Buffer.from([0]),
          Buffer.from(' { id } }"}'),
        ]),
      ],
      ['empty', Buffer.alloc(0)],
      [
        'deeply nested JSON',
        Buffer.from(`{"query":"{ me { id } }","variables":${'['.repeat(5000)}${']'.repeat(5000)}}`),
      ],
      ['number', Buffer.from('42')],
      [
        '__proto__',
        Buffer.from('{"query":"{ me { id } }","variables":{"__proto__":{"polluted":1}}}'),
      ],
    ]);
    labels.push(`json:${label}`);
    body = bytes;
  } else if (transport === 'post shapes') {
    const [label, value] = rng.pick<[string, unknown]>([
      ['batch', [{ query: doc.query }, { query: doc.query }]],
      ['variables string', { query: doc.query, variables: 'x' }],
      ['query number', { query: 5 }],
      [
        'extensions garbage',
        {
          query: doc.query,
          variables: doc.variables,
          extensions: { persistedQuery: { sha256Hash: 'x', version: 1 } },
        },
      ],
      ['no query', { variables: doc.variables }],
    ]);
    labels.push(`shape:${label}`);
    body = Buffer.from(JSON.stringify(value));
  } else if (transport === 'other method') {
    method = rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS']);
  }

  return {
    labels,
    principal,
    request(tokens) {
      const headers: WireRequest['headers'] = [
        ['Host', '127.0.0.1'],
        ['Connection', 'close'],
      ];
      if (contentType) headers.push(['Content-Type', contentType]);
      if (principal === 'user' || principal === 'admin' || principal === 'readToken') {
        headers.push(['Authorization', `Bearer ${tokens[principal]}`]);
      }
      if (principal === 'garbage')
        headers.push([
          'Authorization',
          rng.pick([
            'Bearer',
            'Bearer \u0001',
            `Basic ${'x'.repeat(40)}`,
            `Bearer ${'z'.repeat(5000)}`,
          ]),
        ]);
      if (method !== 'GET') headers.push(['Content-Length', String(body.length)]);
      return { method, path: target, headers, body, delivery: { kind: 'whole' } };
    },
  };
}
