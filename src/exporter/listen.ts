/**
 * listen.ts: the --listen value, ADDRESS:PORT with an IP literal (IPv6 in brackets). Loopback by
 * default: the metrics name every busy process on the host, so serving them beyond the host is a
 * choice the user writes out (0.0.0.0:9947, [::]:9947). Port 0 takes a free port (tests).
 */
import * as net from 'net';

export const DEFAULT_LISTEN = '127.0.0.1:9947';

export interface ListenAddress {
  host: string;
  port: number;
}

export class ListenError extends Error {}

/** Parse ADDRESS:PORT; a bad value throws a ListenError with a one-line reason. */
export function parseListen(text: string): ListenAddress {
  const shown = JSON.stringify(text).replace(/[\x7f-\x9f]/g, '?');
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (!m) throw new ListenError(`${shown} is not ADDRESS:PORT (e.g. 127.0.0.1:9947, [::1]:9947, 0.0.0.0:9947)`);
  const host = m[1] ?? m[2];
  if (m[1] !== undefined ? net.isIPv6(host) === false : net.isIPv4(host) === false) {
    throw new ListenError(`${shown}: the address must be an IPv4 address or an IPv6 address in brackets (e.g. 127.0.0.1:9947, [::1]:9947)`);
  }
  if (!/^\d{1,5}$/.test(m[3]) || Number(m[3]) > 65535) throw new ListenError(`${shown}: the port must be a number from 0 to 65535`);
  return { host, port: Number(m[3]) };
}

/** host:port as a URL authority. */
export function formatAddress(a: ListenAddress): string {
  return net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
