/**
 * A local multi-node OpenSearch cluster on loopback: N LocalEngine nodes, each with its own data folder and
 * ports, finding each other through `discovery.seed_hosts` (see /work/shared/design/local-engine.md). The
 * ports are chosen once and kept in `cluster.json`, so a node stopped or killed comes back where its peers
 * expect it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EngineConfig } from '../../../src/config.ts';
import { EngineError, LocalEngine, freePort, getJson, sleep, type InstanceState } from './engine.ts';

export interface ClusterLayout {
  name: string;
  nodes: { name: string; port: number; transportPort: number }[];
}

export interface ClusterOptions {
  /** Folder name under the engine's instances/ (`<instance>-cluster`). */
  instance: string;
  log?: (line: string) => void;
}

export class LocalCluster {
  readonly dir: string;
  private readonly log: (line: string) => void;

  constructor(
    readonly cfg: EngineConfig,
    readonly opts: ClusterOptions,
  ) {
    this.dir = path.join(cfg.dir, 'instances', `${opts.instance}-cluster`);
    this.log = opts.log ?? ((line) => console.error(`[cluster] ${line}`));
  }

  private get layoutFile() {
    return path.join(this.dir, 'cluster.json');
  }

  /** The layout chosen at the first start, or undefined when this cluster was never started. */
  layout(): ClusterLayout | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.layoutFile, 'utf8')) as ClusterLayout;
    } catch {
      return undefined;
    }
  }

  /** Node `i` (0-based) as a LocalEngine: its own instance folder, ports and the cluster's discovery. */
  node(i: number, layout = this.layout()): LocalEngine {
    if (!layout || !layout.nodes[i]) throw new EngineError(`the cluster has no node ${i + 1}`);
    const n = layout.nodes[i]!;
    return new LocalEngine(
      // Each node its own 512 MB heap: three fit on a small machine next to the service.
      { ...this.cfg, port: n.port, heapMin: '512m', heapMax: '512m' },
      {
        instance: `${this.opts.instance}-cluster/${n.name}`,
        log: (line) => this.log(`${n.name}: ${line}`),
        settings: {
          'cluster.name': layout.name,
          'node.name': n.name,
          'discovery.type': null,
          'transport.port': n.transportPort,
          'discovery.seed_hosts': layout.nodes.map((m) => `127.0.0.1:${m.transportPort}`),
          // Read only when the cluster first forms; ignored once it has a state.
          'cluster.initial_cluster_manager_nodes': layout.nodes.map((m) => m.name),
        },
      },
    );
  }

  /** Starts every node not running (all in parallel: the cluster forms once a majority is up). */
  async start(nodes: number): Promise<{ urls: string[]; startedNow: boolean }> {
    let layout = this.layout();
    if (layout && layout.nodes.length !== nodes) {
      throw new EngineError(
        `the local cluster has ${layout.nodes.length} nodes; stop and reset it to start ${nodes}`,
      );
    }
    if (!layout) {
      if (nodes < 1 || nodes > 9) throw new EngineError('--nodes must be between 1 and 9');
      layout = { name: `audit-local-${this.opts.instance}-cluster`, nodes: [] };
      const taken = new Set<number>();
      const pick = async (preferred: number) => {
        let p = await freePort(preferred);
        while (taken.has(p)) p = await freePort(0);
        taken.add(p);
        return p;
      };
      // Port 0 (tests): any free ports; else the configured port and the ones after it where free.
      const base = this.cfg.port;
      for (let i = 0; i < nodes; i++) {
        const port = await pick(base ? base + i : 0);
        layout.nodes.push({ name: `node-${i + 1}`, port, transportPort: await pick(base ? port + 100 : 0) });
      }
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(this.layoutFile, JSON.stringify(layout, null, 2));
    }
    const before = this.running().length;
    // Installing is shared by the nodes: do it once before they start side by side.
    this.node(0, layout).install();
    await Promise.all(layout.nodes.map((_, i) => this.node(i, layout).start()));
    await this.waitForNodes(layout.nodes.length);
    return { urls: this.urls(), startedNow: before < layout.nodes.length };
  }

  /** Starts node `i` again (after stopNode/killNode); resolves when it has rejoined. */
  async startNode(i: number): Promise<InstanceState> {
    const { state } = await this.node(i).start();
    await this.waitForNodes(this.layout()!.nodes.length);
    return state;
  }

  /** Kills node `i` with SIGKILL, as a crash would; resolves when the process is gone. */
  async killNode(i: number): Promise<void> {
    const node = this.node(i);
    const state = node.running();
    if (!state) return;
    process.kill(state.pid, 'SIGKILL');
    while (node.running()) await sleep(100);
  }

  /** The running nodes' states, in node order. */
  running(): InstanceState[] {
    const layout = this.layout();
    if (!layout) return [];
    return layout.nodes.flatMap((_, i) => this.node(i, layout).running() ?? []);
  }

  /** The HTTP URLs of the running nodes. */
  urls(): string[] {
    return this.running().map((s) => s.url);
  }

  async stop(): Promise<number> {
    const layout = this.layout();
    if (!layout) return 0;
    const stopped = await Promise.all(layout.nodes.map((_, i) => this.node(i, layout).stop()));
    return stopped.filter(Boolean).length;
  }

  /** Stops every node and deletes the cluster's data (and, with `removeAll`, its layout and configuration). */
  async reset(removeAll = false): Promise<void> {
    await this.stop();
    const layout = this.layout();
    if (removeAll || !layout) fs.rmSync(this.dir, { recursive: true, force: true });
    else
      for (let i = 0; i < layout.nodes.length; i++)
        fs.rmSync(this.node(i, layout).dataDir, { recursive: true, force: true });
  }

  /** Waits until the cluster counts `n` nodes (a restarted node has rejoined). */
  async waitForNodes(n: number, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const url of this.urls()) {
        const health = await getJson(`${url}/_cluster/health?wait_for_nodes=${n}&timeout=5s`).catch(
          () => undefined,
        );
        if (health && !health.timed_out) return;
      }
      await sleep(500);
    }
    throw new EngineError(`the local cluster did not reach ${n} nodes within ${timeoutMs / 1000} s`);
  }
}
