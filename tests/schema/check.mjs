#!/usr/bin/env node
// The JSON Schema half of the validator agreement test.
//
// Loads every schema/*.json (draft 2020-12), reads each manifest fixture and example the way
// `plumb validate` reads manifests (strict UTF-8, every YAML document of every *.yaml/*.yml file,
// null documents skipped, a file without documents is an error) and validates each document
// against schema/plumb.json. Prints one JSON line per fixture:
//
//   {"fixture": "tests/fixtures/invalid/foo.yaml", "valid": false, "errors": ["..."]}
//
// Usage: node tests/schema/check.mjs [PATH...]
//   With no PATH: every entry of tests/fixtures/{valid,invalid}, every file of
//   tests/fixtures/{hash-equal,hash-differ}/*/, manifests/examples and each directory in it.
//   A PATH is a file or a directory (read recursively); paths print as given.
// Exit status: 0 when it ran (whatever the verdicts), 2 on a usage or setup problem.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import yaml from 'js-yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

// Aliases in js-yaml share one object; a billion-laughs document is small in memory but huge
// once expanded (as the C validator, and every JSON consumer, would expand it). Count the nodes
// of the expanded tree and give up past this many.
const MAX_NODES = 100000;

function loadSchemas() {
  const ajv = new Ajv2020({ allErrors: true, strict: false, unicodeRegExp: true });
  const dir = path.join(repo, 'schema');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  }
  const validate = ajv.getSchema('https://plumb.dev/schema/plumb.json');
  if (!validate) throw new Error('schema/plumb.json not found (its $id must be https://plumb.dev/schema/plumb.json)');
  return validate;
}

function yamlFiles(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  const out = [];
  for (const e of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const q = path.join(p, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(q));
    else if (/\.ya?ml$/.test(e.name)) out.push(q);
  }
  return out;
}

// Node count of the fully expanded value, or Infinity once past MAX_NODES.
function countNodes(v) {
  let n = 0;
  const stack = [v];
  while (stack.length) {
    const x = stack.pop();
    if (++n > MAX_NODES) return Infinity;
    if (x !== null && typeof x === 'object') {
      if (Array.isArray(x)) for (const y of x) stack.push(y);
      else for (const k of Object.keys(x)) stack.push(x[k]);
    }
  }
  return n;
}

function checkFixture(validate, p) {
  const errors = [];
  let docs = 0;
  let files;
  try {
    files = yamlFiles(p);
  } catch (e) {
    return { valid: false, errors: [`${p}: ${e.message}`] };
  }
  if (files.length === 0) errors.push(`${p}: no *.yaml or *.yml files`);
  for (const f of files) {
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(f));
    } catch (e) {
      errors.push(`${f}: invalid UTF-8: ${e.message}`);
      continue;
    }
    let parsed;
    try {
      parsed = yaml.loadAll(text, null, { schema: yaml.CORE_SCHEMA, filename: f });
    } catch (e) {
      errors.push(`${f}: YAML: ${String(e.message).split('\n')[0]}`);
      continue;
    }
    let fileDocs = 0;
    parsed.forEach((doc, i) => {
      if (doc === null || doc === undefined) return;
      fileDocs++;
      if (countNodes(doc) === Infinity) {
        errors.push(`${f}: document ${i + 1}: anchors and aliases expand to more than ${MAX_NODES} nodes`);
        return;
      }
      if (!validate(doc)) {
        for (const e of validate.errors) {
          errors.push(`${f}: document ${i + 1}: ${e.instancePath || '/'} ${e.message}` +
            (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''));
        }
      }
    });
    if (fileDocs === 0) errors.push(`${f}: no documents`);
    docs += fileDocs;
  }
  return { valid: errors.length === 0 && docs > 0, errors };
}

function defaultFixtures() {
  const rel = (...a) => path.join(...a);
  const out = [];
  const entries = (d) => {
    const abs = path.join(repo, d);
    if (!fs.existsSync(abs)) return [];
    return fs.readdirSync(abs).sort().map((n) => rel(d, n));
  };
  for (const d of ['tests/fixtures/valid', 'tests/fixtures/invalid']) {
    for (const e of entries(d)) {
      const st = fs.statSync(path.join(repo, e));
      if (st.isDirectory() || /\.ya?ml$/.test(e)) out.push(e);
    }
  }
  for (const d of ['tests/fixtures/hash-equal', 'tests/fixtures/hash-differ']) {
    for (const e of entries(d)) {
      for (const f of entries(e)) if (/\.ya?ml$/.test(f)) out.push(f);
    }
  }
  if (fs.existsSync(path.join(repo, 'manifests/examples'))) {
    out.push('manifests/examples');
    for (const e of entries('manifests/examples')) {
      if (fs.statSync(path.join(repo, e)).isDirectory()) out.push(e);
    }
  }
  return out;
}

function main() {
  let validate;
  try {
    validate = loadSchemas();
  } catch (e) {
    process.stderr.write(`check.mjs: ${e.message}\n`);
    process.exit(2);
  }
  const args = process.argv.slice(2);
  const fixtures = args.length ? args : defaultFixtures();
  if (!args.length) process.chdir(repo);
  for (const p of fixtures) {
    const r = checkFixture(validate, p);
    process.stdout.write(JSON.stringify({ fixture: p, valid: r.valid, errors: r.errors }) + '\n');
  }
}

main();
