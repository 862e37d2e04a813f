/**
 * `npm run bench [-- ingest read realtime rowsync]`: drives real servers from this separate process
 * and prints each figure beside its baseline measured in the same run, as a ratio.
 * Without arguments every section runs.
 */
import { runIngestBench } from './ingest.ts';
import { printTable, type ReportRow } from './lib.ts';
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
process.stdout.write(`Syncdeck benchmark, ${process.env.BENCH_SECONDS ?? 10} s per load run\n`);
const rows: ReportRow[] = [];
for (const name of chosen.length > 0 ? chosen : Object.keys(sections))
  rows.push(...(await sections[name]!()));
printTable(rows);
