// Regenerates conformance_cases.json.gz: every templated statement test of ADL's LRS
// conformance suite for xAPI 1.0.3 (test/v1_0_3/configs/*.js, the ones the Data* tests run),
// built with the suite's own template machinery, with the HTTP status the suite expects.
//
// Source: https://github.com/adlnet/lrs-conformance-test-suite (MIT licence), commit 2ec25f2.
//
//   cd <clone of the suite> && npm install
//   node <this file> <output path of conformance_cases.json.gz>
"use strict";

process.env.DIRECTORY = "v1_0_3";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const helper = require(path.resolve("test/helper.js"));

const cases = [];
for (const file of fs.readdirSync("./test/v1_0_3/configs").sort()) {
  for (const group of helper.getSingleTestConfiguration(file)) {
    for (const test of group.config) {
      let statement = test.json;
      if (test.templates) {
        const mock = helper.createTestObject(helper.convertTemplate(test.templates));
        statement = mock[Object.keys(mock)[0]];
      }
      cases.push({file, group: group.name, name: test.name, expect: test.expect[0], statement});
    }
  }
}
fs.writeFileSync(process.argv[2], zlib.gzipSync(JSON.stringify(cases)));
console.log(`${cases.length} cases`);
