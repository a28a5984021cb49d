/**
 * The service as a process of its own for benchmarks (dist/start.mjs, as `npm start` runs it), so that its
 * RSS and CPU are its own: started on a free port with the environment given, sampled for RSS, called
 * through its operator API, stopped with SIGTERM (so a `--cpu-prof` profile is written).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { serviceNodeArgs } from '../../service-args.ts';
import { processCpuSeconds } from './cpu.ts';
import { freePort } from '../engine/engine.ts';

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private readonly output: string[] = [];
  /** RSS samples in MB, one per `sampleMs` since `sampleRss()`. */
  rss: number[] = [];
  url = '';

  constructor(
    private readonly env: Record<string, string>,
    private readonly adminToken: string,
    /** More Node options, e.g. `--cpu-prof`. */
    private readonly nodeArgs: string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [...this.nodeArgs, ...serviceNodeArgs()], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...this.env, PORT: String(port) },
    });
    this.child = child;
    for (const s of [child.stdout!, child.stderr!]) {
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        this.output.push(...d.split('\n').filter(Boolean));
        this.output.splice(0, this.output.length - 200);
      });
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited: ${this.output.slice(-5).join(' | ')}`);
      const up = await fetch(`${this.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      if (Date.now() > deadline) throw new Error('the service did not become healthy within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The process's resident memory now, in MB. */
  rssMb(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.child!.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  }

  /** Starts (again) sampling RSS into `rss`. */
  sampleRss(sampleMs = 200): void {
    clearInterval(this.sampler);
    this.rss = [];
    this.sampler = setInterval(() => {
      try {
        this.rss.push(this.rssMb());
      } catch {
        // exited
      }
    }, sampleMs);
  }

  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number {
    return processCpuSeconds(this.child!.pid!);
  }

  /** Warnings and errors the service logged (its last lines). */
  lastLines(n = 10): string[] {
    return this.output.slice(-n);
  }

  /** An operator API call (`/api/v1/admin…`); throws on an answer of 300 or more. */
  async admin<T = Record<string, unknown>>(method: string, p: string, body?: object): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/admin${p}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? {} : await res.json()) as T;
  }

  /** Orderly stop (SIGTERM), a kill after 20 s. */
  async stop(): Promise<void> {
    clearInterval(this.sampler);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(kill);
  }
}
