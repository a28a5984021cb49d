/**
 * The local OpenSearch engine: unpacks the cached distribution, installs the plugins Maven Central publishes,
 * and runs named instances (the default one for `npm start`, throw-away ones for `npm test`) bound to
 * 127.0.0.1. As root it runs the engine as the system user `opensearch`, because OpenSearch refuses root.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { EngineConfig } from '../../../src/config.ts';
import { distributionArtifact, fetchArtifact, pluginArtifacts } from './artifacts.ts';
import { findJava } from './java.ts';

export const ENGINE_USER = 'opensearch';
const isRoot = () => process.getuid?.() === 0;

export interface InstanceState {
  name: string;
  pid: number;
  url: string;
  port: number;
  transportPort: number;
  version: string;
  plugins: string[];
  startedAt: string;
}

export interface EngineOptions {
  /** Instance name: `default` for the service, something unique for a test run. */
  instance: string;
  log?: (line: string) => void;
  /**
   * opensearch.yml settings over the single-node defaults (null removes one): how a node of a local cluster
   * (cluster.ts) names its cluster and finds its peers.
   */
  settings?: Record<string, string | number | boolean | string[] | null>;
}

export class EngineError extends Error {}

/** The ports an instance took at its first start and keeps for good (`ports.json`). */
interface InstancePorts {
  http: number;
  transport: number;
}

/** How long a restart waits for its recorded ports to be released (e.g. by a dying engine). */
const PORT_WAIT_MS = 30_000;

export class LocalEngine {
  readonly home: string;
  readonly instanceDir: string;
  private readonly log: (line: string) => void;

  constructor(
    readonly cfg: EngineConfig,
    readonly opts: EngineOptions,
  ) {
    this.home = path.join(cfg.dir, `opensearch-${cfg.version}`);
    this.instanceDir = path.join(cfg.dir, 'instances', opts.instance);
    this.log = opts.log ?? ((line) => console.error(`[engine] ${line}`));
  }

  private get stateFile() {
    return path.join(this.instanceDir, 'engine.json');
  }
  /** Outlives the process (unlike the state file), so a restart after a crash finds the same ports. */
  private get portsFile() {
    return path.join(this.instanceDir, 'ports.json');
  }
  private get pidFile() {
    return path.join(this.instanceDir, 'opensearch.pid');
  }
  get dataDir() {
    return path.join(this.instanceDir, 'data');
  }
  /** OpenSearch names its log file after the cluster. */
  get clusterName(): string {
    return String(this.opts.settings?.['cluster.name'] ?? `audit-local-${this.opts.instance}`);
  }
  get logFile() {
    return path.join(this.instanceDir, 'logs', `${this.clusterName}.log`);
  }

  /** Fetches (once) and unpacks the engine with its plugins; returns the installed plugin names. */
  install(): string[] {
    const downloads = path.join(this.cfg.dir, 'downloads');
    const dist = fetchArtifact(downloads, distributionArtifact(this.cfg.version), this.log);
    if (dist.status === 'unpublished') {
      throw new EngineError(
        `OpenSearch ${this.cfg.version} is not published on Maven Central (integ-test-zip).`,
      );
    }
    const plugins: string[] = [];
    for (const p of pluginArtifacts(this.cfg.version)) {
      const got = fetchArtifact(downloads, p, this.log);
      if (got.status === 'unpublished') {
        this.log(
          `${p.coords} is not published on Maven Central; running without it (see docs/operations.md: Lifecycle)`,
        );
        break; // index management cannot load without job scheduler, so stop at the first gap
      }
      plugins.push(got.path);
    }
    const marker = path.join(this.home, '.installed.json');
    const wanted = plugins.map((p) => path.basename(p));
    if (
      fs.existsSync(marker) &&
      JSON.stringify(JSON.parse(fs.readFileSync(marker, 'utf8'))) === JSON.stringify(wanted)
    ) {
      return this.installedPlugins();
    }
    this.log(`unpacking OpenSearch ${this.cfg.version} into ${this.home}`);
    const scratch = fs.mkdtempSync(path.join(this.cfg.dir, '.unpack-'));
    try {
      unzip(dist.path, scratch);
      const unpacked = path.join(scratch, `opensearch-${this.cfg.version}`);
      const java = findJava(this.cfg.version, this.cfg.javaHome);
      for (const zip of plugins) {
        this.log(`installing plugin ${path.basename(zip)}`);
        execFileSync(
          path.join(unpacked, 'bin', 'opensearch-plugin'),
          ['install', '--batch', `file://${zip}`],
          {
            env: { ...process.env, OPENSEARCH_JAVA_HOME: java, JAVA_HOME: java },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
      }
      fs.writeFileSync(path.join(unpacked, '.installed.json'), JSON.stringify(wanted));
      fs.rmSync(this.home, { recursive: true, force: true });
      fs.renameSync(unpacked, this.home);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    return this.installedPlugins();
  }

  installedPlugins(): string[] {
    try {
      return fs.readdirSync(path.join(this.home, 'plugins')).sort();
    } catch {
      return [];
    }
  }

  /** The running instance, or undefined (a stale state file is removed). */
  running(): InstanceState | undefined {
    let state: InstanceState;
    try {
      state = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as InstanceState;
    } catch {
      return undefined;
    }
    if (this.ownsProcess(state.pid)) return state;
    fs.rmSync(this.stateFile, { force: true });
    return undefined;
  }

  /** True when `pid` is an OpenSearch process of this instance (never some unrelated process). */
  private ownsProcess(pid: number): boolean {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(this.instanceDir);
    } catch {
      return false;
    }
  }

  /**
   * The instance's ports: on its first start the preferred port (else a free one), recorded; on every later
   * start exactly those, so a service connected to its URL reconnects after a restart.
   */
  private async claimPorts(): Promise<InstancePorts> {
    let recorded: InstancePorts | undefined;
    try {
      recorded = JSON.parse(fs.readFileSync(this.portsFile, 'utf8')) as InstancePorts;
    } catch {
      recorded = undefined;
    }
    if (!recorded) {
      const http = await freePort(this.cfg.port);
      const ports = { http, transport: await freePort(http + 100) };
      fs.mkdirSync(this.instanceDir, { recursive: true });
      fs.writeFileSync(this.portsFile, JSON.stringify(ports));
      return ports;
    }
    await this.waitForPort(recorded.http, 'HTTP');
    await this.waitForPort(recorded.transport, 'transport');
    return recorded;
  }

  /** Waits until `port` is free; fails at once when another engine serves there, since it will not leave. */
  private async waitForPort(port: number, what: string): Promise<void> {
    const deadline = Date.now() + PORT_WAIT_MS;
    let logged = false;
    for (;;) {
      if (await isFree(port)) return;
      const engine = what === 'HTTP' ? await identify(`http://127.0.0.1:${port}`) : undefined;
      if (engine || Date.now() >= deadline) {
        throw new EngineError(
          `Instance "${this.opts.instance}" keeps its ${what} port ${port} (recorded in ${this.portsFile}), ` +
            `but ${engine ? describeEngine(engine) : holderOf(port)} holds it` +
            (engine ? '' : ` after ${PORT_WAIT_MS / 1000} s of waiting`) +
            '. Stop that process, or remove the ports file to let this instance take new ports ' +
            '(clients must then be pointed at its new URL).',
        );
      }
      if (!logged) this.log(`waiting up to ${PORT_WAIT_MS / 1000} s for port ${port} (${what}) to be free`);
      logged = true;
      await sleep(500);
    }
  }

  /** Starts the instance unless it is already running; resolves when the cluster is healthy. */
  async start(): Promise<{ state: InstanceState; startedNow: boolean }> {
    const existing = this.running();
    if (existing) return { state: existing, startedNow: false };
    fs.mkdirSync(this.cfg.dir, { recursive: true });
    const plugins = this.install();
    const java = findJava(this.cfg.version, this.cfg.javaHome);
    const { http: port, transport: transportPort } = await this.claimPorts();
    const confDir = path.join(this.instanceDir, 'config');
    for (const d of [confDir, this.dataDir, path.dirname(this.logFile), path.join(this.instanceDir, 'tmp')]) {
      fs.mkdirSync(d, { recursive: true });
    }
    fs.copyFileSync(
      path.join(this.home, 'config', 'log4j2.properties'),
      path.join(confDir, 'log4j2.properties'),
    );
    // jvm.options names logs/ and data/ relative to the engine home, which the engine user may not write to.
    const logsDir = path.dirname(this.logFile);
    fs.writeFileSync(
      path.join(confDir, 'jvm.options'),
      fs
        .readFileSync(path.join(this.home, 'config', 'jvm.options'), 'utf8')
        .replaceAll('file=logs/', `file=${logsDir}/`)
        .replaceAll('ErrorFile=logs/', `ErrorFile=${logsDir}/`)
        .replaceAll('HeapDumpPath=data', `HeapDumpPath=${this.dataDir}`)
        .replace(/^-Xm[sx]\S+$/gm, ''),
    );
    fs.mkdirSync(path.join(confDir, 'jvm.options.d'), { recursive: true });
    fs.writeFileSync(
      path.join(confDir, 'jvm.options.d', 'heap.options'),
      `-Xms${this.cfg.heapMin}\n-Xmx${this.cfg.heapMax}\n`,
    );
    const settings: Record<string, string | number | boolean | string[] | null> = {
      'cluster.name': this.clusterName,
      'node.name': `audit-local-${this.opts.instance}`,
      'discovery.type': 'single-node',
      'network.host': '127.0.0.1',
      'http.port': port,
      'transport.port': transportPort,
      'path.data': this.dataDir,
      'path.logs': path.dirname(this.logFile),
      'cluster.routing.allocation.disk.threshold_enabled': false,
      'action.destructive_requires_name': true,
      'node.store.allow_mmap': false,
    };
    if (plugins.includes('opensearch-index-management')) {
      Object.assign(settings, {
        'plugins.index_state_management.job_interval': this.cfg.ismJobIntervalMinutes,
        'plugins.index_state_management.jitter': this.cfg.ismJitter,
        'plugins.index_state_management.history.number_of_replicas': 0,
      });
    }
    Object.assign(settings, this.opts.settings ?? {});
    fs.writeFileSync(
      path.join(confDir, 'opensearch.yml'),
      Object.entries(settings)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join('\n') + '\n',
    );
    if (isRoot()) {
      ensureEngineUser();
      // The engine user must reach its files: make every parent traversable and the instance its own.
      for (let d = this.cfg.dir; d !== path.dirname(d); d = path.dirname(d)) {
        const mode = fs.statSync(d).mode;
        if ((mode & 0o001) === 0) fs.chmodSync(d, mode | 0o001);
      }
      execFileSync('chown', ['-R', `${ENGINE_USER}:`, this.instanceDir]);
      execFileSync('chmod', ['-R', 'a+rX', this.home]);
    }
    fs.rmSync(this.pidFile, { force: true });
    this.log(`starting OpenSearch ${this.cfg.version} on http://127.0.0.1:${port} (Java: ${java})`);
    const env = {
      ...process.env,
      OPENSEARCH_JAVA_HOME: java,
      JAVA_HOME: java,
      OPENSEARCH_PATH_CONF: confDir,
      OPENSEARCH_TMPDIR: path.join(this.instanceDir, 'tmp'),
    };
    const launcher = [path.join(this.home, 'bin', 'opensearch'), '-d', '-p', this.pidFile];
    const [cmd, args] = isRoot()
      ? ['runuser', ['-u', ENGINE_USER, '--', ...launcher]]
      : [launcher[0]!, launcher.slice(1)];
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, args, { env, cwd: this.home, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', reject);
      child.on('exit', (c) => {
        // The daemonised engine inherits the pipe; stop reading it so this process can exit.
        child.stderr.destroy();
        if (c !== 0) this.log(err.trim());
        resolve(c ?? 1);
      });
    });
    if (code !== 0) throw new EngineError(`OpenSearch did not start (exit ${code}); see ${this.logFile}`);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 180_000;
    let pid = 0;
    while (Date.now() < deadline) {
      if (!pid && fs.existsSync(this.pidFile)) pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
      if (pid && !this.ownsProcess(pid)) break;
      const health = await getJson(`${url}/_cluster/health?wait_for_status=yellow&timeout=5s`).catch(
        () => undefined,
      );
      if (health && !health.timed_out && pid) {
        // Whatever answers must be this instance's process, not an engine that took the port meanwhile.
        const engine = await identify(url);
        if (!engine || engine.pid !== pid || engine.cluster !== this.clusterName) {
          if (this.ownsProcess(pid)) process.kill(pid, 'SIGKILL');
          throw new EngineError(
            `Port ${port} answers as ${engine ? describeEngine(engine) : 'something that is not OpenSearch'}, ` +
              `not as instance "${this.opts.instance}" (pid ${pid}); it was stopped. See ${this.logFile}`,
          );
        }
        const state: InstanceState = {
          name: this.opts.instance,
          pid,
          url,
          port,
          transportPort,
          version: engine.version,
          plugins: this.installedPlugins(),
          startedAt: new Date().toISOString(),
        };
        fs.writeFileSync(this.stateFile, JSON.stringify(state, null, 2));
        return { state, startedNow: true };
      }
      await sleep(500);
    }
    if (pid && this.ownsProcess(pid)) process.kill(pid, 'SIGKILL');
    throw new EngineError(`OpenSearch did not become healthy; last log lines:\n${this.tail(30)}`);
  }

  /** Stops the instance this manager started (identified by its pid file); a no-op when none runs. */
  async stop(): Promise<boolean> {
    const state = this.running();
    if (!state) return false;
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (this.ownsProcess(state.pid) && Date.now() < deadline) await sleep(200);
    if (this.ownsProcess(state.pid)) process.kill(state.pid, 'SIGKILL');
    while (this.ownsProcess(state.pid)) await sleep(100);
    fs.rmSync(this.stateFile, { force: true });
    return true;
  }

  /** Stops the instance and deletes its data (and, for throw-away instances, everything else of it). */
  async reset(removeInstance = false): Promise<void> {
    await this.stop();
    fs.rmSync(removeInstance ? this.instanceDir : this.dataDir, { recursive: true, force: true });
  }

  tail(lines: number): string {
    try {
      return fs
        .readFileSync(this.logFile, 'utf8')
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return `(no log at ${this.logFile})`;
    }
  }

  dataSizeBytes(): number {
    const r = spawnSync('du', ['-sb', this.dataDir], { encoding: 'utf8' });
    return Number(r.stdout.split('\t')[0]) || 0;
  }
}

function ensureEngineUser(): void {
  if (spawnSync('id', ['-u', ENGINE_USER]).status === 0) return;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ENGINE_USER]);
}

function unzip(zip: string, into: string): void {
  const r = spawnSync('unzip', ['-q', zip, '-d', into], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) {
    throw new EngineError('`unzip` is needed to unpack OpenSearch (Debian: apt-get install unzip).');
  }
  if (r.status !== 0) throw new EngineError(`unzip failed for ${zip}: ${r.stderr}`);
}

const tryListen = (port: number) =>
  new Promise<number | undefined>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });

const isFree = async (port: number) => (await tryListen(port)) !== undefined;

/** `preferred` when nothing listens there, else a free port the OS picks. */
export async function freePort(preferred = 0): Promise<number> {
  return (preferred && (await tryListen(preferred))) || (await tryListen(0))!;
}

interface EngineIdentity {
  cluster: string;
  node: string;
  pid: number;
  version: string;
}

/** Which OpenSearch node answers at `url` (cluster, node name, process id), or undefined when none does. */
async function identify(url: string): Promise<EngineIdentity | undefined> {
  try {
    const info = await getJson(`${url}/_nodes/_local/process`, 3000);
    const node = Object.values(info.nodes ?? {})[0] as { name: string; process: { id: number } } | undefined;
    if (!node) return undefined;
    const { version } = await getJson(url, 3000);
    return { cluster: info.cluster_name, node: node.name, pid: node.process.id, version: version.number };
  } catch {
    return undefined;
  }
}

const describeEngine = (e: EngineIdentity) =>
  `the OpenSearch node "${e.node}" of cluster "${e.cluster}" (pid ${e.pid})`;

/** The process listening on `port` as `ss` reports it (process names need root or the same user). */
function holderOf(port: number): string {
  const r = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout ?? '');
  if (m) return `process ${m[2]} (${m[1]})`;
  return r.stdout?.trim() ? 'a process this user cannot see' : 'a closing connection or another process';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getJson(url: string, timeoutMs = 10_000): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
