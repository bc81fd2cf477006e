#!/usr/bin/env node
// Validates one JSON document against one JSON Schema (draft 2020-12) with the pinned ajv.
// Used by the integration tests for plumb's own JSON outputs (plan, drift).
//
// Usage: node tests/schema/validate.mjs SCHEMA.json DOC.json
// Exit status: 0 valid, 1 invalid (errors on stdout), 2 usage or setup problem.

import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';

if (process.argv.length !== 4) {
  console.error('usage: validate.mjs SCHEMA.json DOC.json');
  process.exit(2);
}
let schema, doc;
try {
  schema = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  doc = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
} catch (e) {
  console.error(String(e));
  process.exit(2);
}
const ajv = new Ajv2020({ allErrors: true, strict: false });
let validate;
try {
  validate = ajv.compile(schema);
} catch (e) {
  console.error(`invalid schema: ${e.message}`);
  process.exit(2);
}
if (validate(doc)) process.exit(0);
for (const e of validate.errors) console.log(`${e.instancePath || '/'}: ${e.message}`);
process.exit(1);
