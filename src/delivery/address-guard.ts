/**
 * Which addresses a push stream may connect to. Checked at every connection (a DNS lookup hook), not only
 * when a stream is saved, so a name that later resolves to an internal address is still refused.
 */
import dns from 'node:dns';
import net from 'node:net';

/** Cloud instance-metadata endpoints: refused always, whatever AUDIT_STREAM_ALLOW_PRIVATE says. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254']);

const blocked = new net.BlockList();
blocked.addSubnet('0.0.0.0', 8, 'ipv4');
blocked.addSubnet('10.0.0.0', 8, 'ipv4');
blocked.addSubnet('100.64.0.0', 10, 'ipv4');
blocked.addSubnet('127.0.0.0', 8, 'ipv4');
blocked.addSubnet('169.254.0.0', 16, 'ipv4');
blocked.addSubnet('172.16.0.0', 12, 'ipv4');
blocked.addSubnet('192.168.0.0', 16, 'ipv4');
blocked.addAddress('::', 'ipv6');
blocked.addAddress('::1', 'ipv6');
blocked.addSubnet('fc00::', 7, 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6');

function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address, family: net.isIPv6(address) ? 'ipv6' : 'ipv4' };
}

/** Why `address` may not be connected to, or undefined when it may. */
export function refusal(address: string, allowPrivate: boolean): string | undefined {
  const a = unmapped(address);
  if (METADATA.has(a.address.toLowerCase())) return `${address} is a cloud metadata address`;
  if (!allowPrivate && blocked.check(a.address, a.family)) {
    return `${address} is a loopback, private or link-local address (AUDIT_STREAM_ALLOW_PRIVATE is off)`;
  }
  return undefined;
}

export class AddressRefused extends Error {
  override name = 'AddressRefused';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls/http(s) connections that resolves as usual and fails with AddressRefused when any
 * resolved address is refused (all of them are checked, so a second A record cannot slip through).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = refusal(a.address, allowPrivate);
        if (why) return callback(new AddressRefused(`${hostname}: ${why}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Throws AddressRefused when `host` is an IP literal that is refused: Node connects to a literal without
 * calling `lookup`, so every destination calls this before connecting as well as passing guardedLookup.
 */
export function assertLiteralAllowed(host: string, allowPrivate: boolean): void {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (!net.isIP(bare)) return;
  const why = refusal(bare, allowPrivate);
  if (why) throw new AddressRefused(why);
}
