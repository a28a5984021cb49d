/** CPU time used so far, for a benchmark's per-event figures: of a process of this machine, of the engine. */
import fs from 'node:fs';
import type { Store } from '../../../src/store/client.ts';

/** CPU seconds (user + system) a process of this machine has used so far. */
export function processCpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the engine (all its nodes) has used so far, as its node stats report them. */
export async function engineCpuSeconds(store: Store): Promise<number> {
  const res = await store.nodes.stats({ metric: ['process'] });
  const nodes = Object.values(
    (res.body as { nodes: Record<string, { process: { cpu: { total_in_millis: number } } }> }).nodes,
  );
  return nodes.reduce((s, n) => s + n.process.cpu.total_in_millis / 1000, 0);
}
