/**
 * `npm run bench [-- ingest read realtime rowsync]`: drives real servers from this separate process
 * and prints each figure beside its baseline measured in the same run, as a ratio; the figures also
 * go to bench/results/<start time>.json, to compare runs. Without arguments every section runs.
 */
import { runIngestBench } from './ingest.ts';
import { printTable, type ReportRow, SECONDS, writeResults } from './lib.ts';
import { runReadBench } from './read.ts';
import { runRealtimeBench } from './realtime.ts';
import { runRowSyncBench } from './rowsync.ts';

const sections: Record<string, () => Promise<ReportRow[]>> = {
  ingest: runIngestBench,
  read: runReadBench,
  realtime: runRealtimeBench,
  rowsync: () => runRowSyncBench((line) => process.stdout.write(`${line}\n`)),
};

const chosen = process.argv.slice(2).filter((arg) => arg !== '--');
for (const name of chosen) {
  if (!sections[name]) throw new Error(`unknown section ${name}; known: ${Object.keys(sections).join(', ')}`);
}
process.stdout.write(`Syncdeck benchmark, ${SECONDS} s per load run\n`);
const startedAt = new Date();
const run = chosen.length > 0 ? chosen : Object.keys(sections);
const rows: ReportRow[] = [];
for (const name of run) rows.push(...(await sections[name]!()));
printTable(rows);
const file = await writeResults(rows, { startedAt, sections: run, seconds: SECONDS });
process.stdout.write(`\nresults: ${file}\n`);
