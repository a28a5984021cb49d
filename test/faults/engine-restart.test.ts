/**
 * The local engine keeps its port across restarts: a service connected to an instance's URL reconnects after
 * the engine crashed and was started again, and an instance never claims an engine that is not its own.
 * Starts real engines (two instances of their own, small heaps), so it takes a few minutes.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { loadConfig } from '../../src/config.ts';
import { EngineError, LocalEngine } from '../../scripts/lib/engine/engine.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kills the engine's java process as a crash would, and waits until it is gone. */
async function crash(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  while (fs.existsSync(`/proc/${pid}`)) await sleep(100);
}

async function clusterAt(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { cluster_name: string }).cluster_name;
}

describe('local engine restarts', function () {
  this.timeout(600_000);
  // A random first port (like `npm test`'s instances), so only the recorded port can bring it back.
  const engineCfg = { ...loadConfig().engine, heapMin: '512m', heapMax: '512m', port: 0 };
  const quiet = { log: () => {} };
  const a = new LocalEngine(engineCfg, { instance: `restart-a-${process.pid}`, ...quiet });
  let b: LocalEngine | undefined;

  after(async () => {
    await a.reset(true);
    await b?.reset(true);
  });

  it('comes back on the same URL after its java process was killed', async () => {
    const first = await a.start();
    expect(await clusterAt(first.state.url)).to.equal(`audit-local-restart-a-${process.pid}`);
    await crash(first.state.pid);

    const again = await a.start();
    expect(again.startedNow).to.equal(true);
    expect(again.state.pid).to.not.equal(first.state.pid);
    expect(again.state.url).to.equal(first.state.url);
    expect(again.state.transportPort).to.equal(first.state.transportPort);
    expect(await clusterAt(first.state.url)).to.equal(`audit-local-restart-a-${process.pid}`);
  });

  it('fails, naming the port and its holder, when another engine took its recorded port', async () => {
    const held = a.running()!;
    await crash(held.pid);
    // Another instance whose first start prefers that port gets it while the first one is down.
    b = new LocalEngine(
      { ...engineCfg, port: held.port },
      { instance: `restart-b-${process.pid}`, ...quiet },
    );
    const other = await b.start();
    expect(other.state.url).to.equal(held.url);

    let err: unknown;
    await a.start().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(EngineError);
    const message = (err as Error).message;
    expect(message).to.include(`port ${held.port}`);
    expect(message).to.include(`"audit-local-restart-b-${process.pid}"`);
    expect(message).to.include(`pid ${other.state.pid}`);
    // The other engine was left alone and still answers as itself.
    expect(await clusterAt(held.url)).to.equal(`audit-local-restart-b-${process.pid}`);
    expect(a.running()).to.equal(undefined);
  });
});
