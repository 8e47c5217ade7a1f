// Run every named SQL query of a Markdown file with DuckDB and print the answers as JSON.
//
//   node tests/analysis/run_sql.mjs NPM_DIR DOC.md    (in the folder the queries read)
//
// A query is a ```sql block whose first line is "-- name: NAME". Output: one JSON object,
// {NAME: [row objects, integers as decimal strings], ...}. Exit 1 on any failed query.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [npmDir, doc] = process.argv.slice(2);
const require = createRequire(join(npmDir, 'node_modules', 'x.js'));
const { DuckDBInstance } = require('@duckdb/node-api');

const queries = {};
for (const m of readFileSync(doc, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)) {
	const name = /^-- name: (\S+)/.exec(m[1]);
	if (name)
		queries[name[1]] = m[1];
}
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const out = {};
let failed = 0;
for (const [name, sql] of Object.entries(queries)) {
	try {
		out[name] = (await con.runAndReadAll(sql)).getRowObjectsJson();
	} catch (e) {
		console.error(`${name}: ${e.message}`);
		failed++;
	}
}
console.log(JSON.stringify(out));
process.exit(failed ? 1 : 0);
