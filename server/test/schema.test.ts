import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../src/graphql/schema.js';

describe('schema.graphql', () => {
  it('matches the schema printed from Pothos (run `npm run schema` after API changes)', () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema.graphql');
    expect(fs.readFileSync(file, 'utf8')).toBe(printedSchema());
  });
});
