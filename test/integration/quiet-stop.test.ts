/**
 * Stopping while OpenSearch goes away too (a Ctrl-C or a SIGTERM reaching the engine and the service at once):
 * the round the stop cuts short is not logged as a failure, and the service still stops.
 */
import { expect } from 'chai';
import net from 'node:net';
import { memoryLogger } from '../../src/observe/log.ts';
import { startService } from '../../src/server.ts';
import { opensearchUrl, testConfig } from '../helpers.ts';

/** A TCP proxy to the engine; `hold()` stops forwarding requests, `cut()` drops every connection and refuses more. */
async function engineProxy() {
  const target = new URL(opensearchUrl());
  const sockets = new Set<net.Socket>();
  let holding = false;
  let held = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d) => {
      if (holding) held++;
      else upstream.write(d);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: () => (holding = true),
    held: () => held,
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe('stopping while the engine stops: no failure logged', function () {
  this.timeout(60_000);

  it('a sealer round cut short by the stop is not reported as a failed round', async () => {
    const proxy = await engineProxy();
    const mem = memoryLogger('info');
    const cfg = testConfig({ AUDIT_SEAL_INTERVAL_SECONDS: '1' });
    const svc = await startService({ ...cfg, opensearchUrl: proxy.url }, { log: mem.log });
    let closed = false;
    try {
      // Wait for a round to begin while the engine no longer answers: it is in flight at the stop.
      proxy.hold();
      for (let i = 0; i < 100 && proxy.held() === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(proxy.held(), 'a request of the sealer reached the engine').to.be.above(0);
      const stopping = svc.close(1000);
      proxy.cut(); // the engine goes away with the service
      await stopping;
      closed = true;
    } finally {
      if (!closed) await svc.kill();
      proxy.cut();
    }
    const failures = mem.lines.filter((l) => /round failed|sweep failed/.test(String(l.msg)));
    expect(failures, JSON.stringify(failures)).to.deep.equal([]);
  });
});
