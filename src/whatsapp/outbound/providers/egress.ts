import dns from 'node:dns';
import net from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import type { RealProviderName } from '../provider.ts';

/**
 * Where a provider adapter may send a request (issue 9, item 6). A tenant admin can set a
 * provider's `api_url`, and the send's answer comes back in the API and in `last_error`, so an
 * unchecked URL would let a tenant make this server call its own loopback, the cloud metadata
 * service or the private network and read the answer. Three checks:
 *
 * 1. the URL (when settings are saved, and again before each send): https, and a host the
 *    provider documents, unless its origin is one the operator allows (WHATSAPP_ALLOWED_API_HOSTS);
 * 2. at connect time, after DNS: every address the host resolves to must be public (a documented
 *    host name could still resolve to 127.0.0.1 through a hostile or split-horizon resolver);
 * 3. no redirects (postToProvider), so an answer only ever comes from the host that was checked.
 *
 * Operator-allowed origins skip check 2: the operator points providers at a local fake or an
 * internal proxy on purpose.
 */

/**
 * The API hosts each provider documents. `*.` stands for exactly one label: Green API gives each
 * instance its own host (`7103.api.greenapi.com`, older ones `1101.api.green-api.com`).
 */
export const DOCUMENTED_API_HOSTS: Readonly<Record<RealProviderName, readonly string[]>> = {
  'green-api': ['api.green-api.com', '*.api.green-api.com', 'api.greenapi.com', '*.api.greenapi.com'],
  ultramsg: ['api.ultramsg.com'],
  fonnte: ['api.fonnte.com'],
  'meta-cloud': ['graph.facebook.com'],
};

const ALLOWED_HOSTS_VARIABLE = 'WHATSAPP_ALLOWED_API_HOSTS';

/**
 * Why `url` may not be a provider's API URL, or undefined when it may. The message names no
 * host, so it can go into a send's reason as it is.
 *
 * @example
 * apiUrlProblem('fonnte', 'http://169.254.169.254/', []) // 'must be an https URL …'
 * apiUrlProblem('fonnte', 'https://api.fonnte.com', []) // undefined
 */
export function apiUrlProblem(provider: RealProviderName, url: string, allowedOrigins: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return 'must not carry credentials, a query or a fragment';
  if (allowedOrigins.includes(parsed.origin)) return undefined;
  if (parsed.protocol !== 'https:') return `must be an https URL (http only for an origin listed in ${ALLOWED_HOSTS_VARIABLE})`;
  if (net.isIP(bare(parsed.hostname)) !== 0) return `must be a host name, not an IP address (or an origin listed in ${ALLOWED_HOSTS_VARIABLE})`;
  const hosts = DOCUMENTED_API_HOSTS[provider];
  if (parsed.port !== '' || !hosts.some((pattern) => hostMatches(pattern, parsed.hostname))) {
    return `must be a ${provider} API host (${hosts.join(', ')}) or an origin listed in ${ALLOWED_HOSTS_VARIABLE}`;
  }
  return undefined;
}

function hostMatches(pattern: string, hostname: string): boolean {
  if (!pattern.startsWith('*.')) return hostname === pattern;
  const suffix = pattern.slice(1);
  return hostname.endsWith(suffix) && /^[a-z0-9-]+$/.test(hostname.slice(0, -suffix.length));
}

/** `[::1]` → `::1`: URL keeps the brackets of an IPv6 host. */
const bare = (hostname: string) => (hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname);

/**
 * Addresses no provider lives at: unspecified, loopback, private (RFC 1918), CGNAT (100.64/10,
 * where Alibaba's metadata service sits), link-local (169.254/16: the AWS, GCP and Azure metadata
 * service), IETF, documentation and benchmark ranges, multicast and reserved; IPv6 loopback,
 * unspecified, ULA (fc00::/7, AWS's fd00:ec2::254 metadata), link-local, site-local, multicast
 * and documentation. IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) is judged as the IPv4.
 */
const NOT_PUBLIC = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(address, prefix, 'ipv6');
}

/**
 * Whether a provider may be reached at this IP address (see NOT_PUBLIC).
 *
 * @example
 * isPublicAddress('169.254.169.254') // false
 * isPublicAddress('::ffff:127.0.0.1') // false
 * isPublicAddress('157.240.0.1') // true
 */
export function isPublicAddress(address: string): boolean {
  const ip = bare(address);
  const family = net.isIP(ip);
  if (family === 4) return !NOT_PUBLIC.check(ip, 'ipv4');
  if (family !== 6) return false;
  const embedded = embeddedIpv4(ip);
  if (embedded !== undefined) return embedded !== null && isPublicAddress(embedded);
  return !NOT_PUBLIC.check(ip, 'ipv6');
}

/**
 * The IPv4 address an IPv6 address carries: ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible),
 * 64:ff9b::a.b.c.d (NAT64) and 2002:aabb:ccdd:: (6to4). undefined: none; null: unreadable.
 */
function embeddedIpv4(ip: string): string | null | undefined {
  const groups = expandIpv6(ip);
  if (!groups) return null;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6] ?? 0, groups[7] ?? 0);
  if (zeros(0, 6) && !(groups[6] === 0 && (groups[7] ?? 0) <= 1)) return v4(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x2002) return v4(groups[1] ?? 0, groups[2] ?? 0);
  return undefined;
}

/** Eight 16-bit groups, or undefined when the text is not an IPv6 address. */
function expandIpv6(ip: string): number[] | undefined {
  let text = ip.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (half: string | undefined) => (half ? half.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<number>(Math.max(0, fill)).fill(0), ...tail];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

/** The connect-time refusal; postToProvider names it by its code. */
export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'EDEALIX_BLOCKED_ADDRESS';
  constructor() {
    // No host and no address in the message: it can reach a reason.
    super('the API host resolves to an address that is not public');
  }
}

/**
 * A DNS lookup that fails when any address of the host is not public: an attacker who controls a
 * name's records could otherwise answer with a public address and a private one, and the connect
 * would try both.
 *
 * @example
 * const lookup = guardedLookup(); // dns.lookup, checked
 */
export function guardedLookup(resolve: net.LookupFunction = dns.lookup): net.LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '');
        return;
      }
      const list = Array.isArray(addresses) ? addresses : [{ address: addresses, family: net.isIP(addresses) }];
      const first = list[0];
      if (!first || list.some((entry) => !isPublicAddress(entry.address))) {
        callback(new BlockedAddressError(), '');
        return;
      }
      if (options.all) callback(null, list);
      else callback(null, first.address, first.family);
    });
  };
}

export interface ProviderEgress {
  /** Why a request to `url` must not be made, or undefined when it may (check 1, again before each send). */
  refusal(provider: RealProviderName, url: URL): string | undefined;
  /** The HTTP client for `url`: the address guard, except for an operator-allowed origin. */
  dispatcher(url: URL): Dispatcher;
}

export interface ProviderEgressOptions {
  /** Origins the operator allows (WHATSAPP_ALLOWED_API_HOSTS, and the environment's own *_URL for its providers). */
  allowedOrigins: readonly string[];
  /** DNS for the guarded client; tests pass one that answers what they need. Default dns.lookup. */
  lookup?: net.LookupFunction;
}

/** Keep-alive connections to operator-allowed origins, shared by every egress. */
let trustedAgent: Agent | undefined;

/**
 * The egress policy for one set of allowed origins. Its guarded client keeps connections alive
 * (a send reuses the checked socket); a new connection is checked again.
 *
 * @example
 * const egress = createProviderEgress({ allowedOrigins: config.whatsapp.allowedApiOrigins });
 * createFonnteProvider({ token, egress });
 */
export function createProviderEgress(options: ProviderEgressOptions): ProviderEgress {
  const allowed = new Set(options.allowedOrigins);
  const guarded = new Agent({ connect: { lookup: guardedLookup(options.lookup) } });
  return {
    refusal(provider, url) {
      const problem = apiUrlProblem(provider, url.href, [...allowed]);
      if (problem) return `the api_url ${problem}`;
      // An IP literal never reaches the lookup; only an allowed origin can be one (check 1).
      if (!allowed.has(url.origin) && net.isIP(bare(url.hostname)) !== 0 && !isPublicAddress(url.hostname)) return 'the api_url is not a public address';
      return undefined;
    },
    dispatcher(url) {
      if (!allowed.has(url.origin)) return guarded;
      trustedAgent ??= new Agent();
      return trustedAgent;
    },
  };
}

/** The egress of a provider built without one: documented hosts only, every address checked. */
export const DEFAULT_EGRESS: ProviderEgress = createProviderEgress({ allowedOrigins: [] });

