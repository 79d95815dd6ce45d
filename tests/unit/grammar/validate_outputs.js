// Reads JSON lines {"schema": ..., "output": "..."} and checks each output against its
// schema with ajv (draft 2020-12, formats from ajv-formats). Prints each failure; exits 1
// when any output is not valid JSON or does not validate.
'use strict';
const fs = require('fs');
const path = require('path');
const modules = process.env.LANTERN_NODE_MODULES;
const Ajv2020 = require(path.join(modules, 'ajv/dist/2020')).default;
const addFormats = require(path.join(modules, 'ajv-formats')).default;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
let failures = 0;
let checked = 0;
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const { schema, output } = JSON.parse(line);
  checked++;
  let value;
  try {
    value = JSON.parse(output);
  } catch (e) {
    console.log(`not JSON: ${JSON.stringify(output)} (${e.message}) for ${JSON.stringify(schema)}`);
    failures++;
    continue;
  }
  const validate = ajv.compile(schema);
  if (!validate(value)) {
    console.log(`invalid: ${output} for ${JSON.stringify(schema)}: ${ajv.errorsText(validate.errors)}`);
    failures++;
  }
}
console.log(`${checked} outputs checked, ${failures} failed`);
process.exit(failures ? 1 : 0);
