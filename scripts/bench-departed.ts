/**
 * `npx tsx scripts/bench-departed.ts --org <id>`: what leaving out departed members' events costs the read path
 * for one org, with and without the exclusion (docs/benchmarks.md, "Departed members dropped in the read path").
 */
import { formatTable, intFlag, runCli, stringFlag } from './lib/cli.ts';
import { connectForScript } from './lib/connect.ts';
import { loadConfig } from '../src/config.ts';
import { searchPage } from '../src/query/search.ts';
import type { ListFilters } from '../src/query/query-params.ts';
import { membershipDocs } from '../src/store/directory.ts';

const HELP = `Usage: npx tsx scripts/bench-departed.ts --org <id> [--runs R] [--word W] [--common C]

Times searchPage (limit 50, in-process, the function GET /api/v1/audit-logs runs) for the org: the first page,
a search for the word W (default "transferred") and for C (default "updated"), each with departed members'
events left out (the default) and shown (includeDeparted=true); R runs after one warm-up (default 5), p50 and
max in ms. Also times reading the org's departed list. Talks to OPENSEARCH_URL, else the local engine; the
bench data of npm run bench -- --only query is in its own engine: npm run engine -- start --instance qbench
prints the URL to set.`;

const OPTIONS = {
  org: { type: 'string' },
  runs: { type: 'string' },
  word: { type: 'string' },
  common: { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const orgId = stringFlag(args, 'org', true);
  const runs = intFlag(args, 'runs', { default: 5 });
  const word = stringFlag(args, 'word') ?? 'transferred';
  const common = stringFlag(args, 'common') ?? 'updated';
  const { store, close } = await connectForScript(loadConfig());
  try {
    const time = async (fn: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let r = 0; r <= runs; r++) {
        const t = performance.now();
        await fn();
        if (r > 0) ms.push(performance.now() - t);
      }
      ms.sort((a, b) => a - b);
      return [ms[Math.floor(ms.length / 2)]!.toFixed(1), ms[ms.length - 1]!.toFixed(1)];
    };
    const departed = await membershipDocs.departed(store, orgId);
    const rows: (string | number)[][] = [
      [
        'read the departed list',
        departed.length,
        ...(await time(() => membershipDocs.departed(store, orgId))),
      ],
    ];
    const reads: [string, Omit<ListFilters, 'includeDeparted'>][] = [
      ['first page', {}],
      [`search "${word}"`, { search: word }],
      [`search "${common}"`, { search: common }],
    ];
    for (const [name, filters] of reads) {
      for (const includeDeparted of [false, true]) {
        let entries = 0;
        const t = await time(async () => {
          entries = (await searchPage(store, { ...filters, includeDeparted }, { orgId }, 50)).entries.length;
        });
        rows.push([`${name}${includeDeparted ? ', departed shown' : ''}`, entries, ...t]);
      }
    }
    console.log(formatTable(['read', 'entries', 'p50 ms', 'max ms'], rows));
  } finally {
    await close();
  }
});
