/**
 * rsyslog (Debian's rsyslogd with the gtls driver) as a real TLS syslog receiver, started by the test in a
 * temp dir as the current user: imtcp on an ephemeral port with TLS (anonymous clients: the server proves
 * itself, as our destination requires), octet-counted framing accepted, each message's raw text written
 * to a file, one line per message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Rsyslog {
  port: number;
  /** The raw RFC 5424 messages received so far (framing removed by rsyslog), in order. */
  messages(): string[];
  /** Waits until at least `n` messages arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Starts rsyslogd on `port` (0: any free port). */
export async function startRsyslog(
  dir: string,
  files: { ca: string; cert: string; key: string },
  port = 0,
): Promise<Rsyslog> {
  const out = path.join(dir, 'received.log');
  const portFile = path.join(dir, 'port');
  const conf = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(
    conf,
    `global(
  workDirectory="${dir}"
  DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="${files.ca}"
  DefaultNetstreamDriverCertFile="${files.cert}"
  DefaultNetstreamDriverKeyFile="${files.key}"
  maxMessageSize="128k"
)
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" port="${port}" address="127.0.0.1" listenPortFileName="${portFile}")
template(name="raw" type="string" string="%rawmsg%\\n")
action(type="omfile" file="${out}" template="raw")
`,
  );
  const child: ChildProcess = spawn(
    '/usr/sbin/rsyslogd',
    ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 15_000;
  let bound = 0;
  while (!bound) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`rsyslogd did not listen: ${stderr}`);
    const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
    if (/^\d+$/.test(text) && text !== '0') bound = Number(text);
    else if (port && (await listening(port))) bound = port;
    else await sleep(50);
  }
  const messages = () =>
    fs.existsSync(out)
      ? fs
          .readFileSync(out, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
      : [];
  return {
    port: bound,
    messages,
    async waitFor(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const got = messages();
        if (got.length >= n) return got;
        if (Date.now() > until)
          throw new Error(`rsyslog holds ${got.length} messages, expected ${n}: ${stderr}`);
        await sleep(50);
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
