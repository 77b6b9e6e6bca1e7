/**
 * exporter.ts: `socktop exporter`, a yargs command module (command, describe, builder, handler).
 * Loading it is cheap: the exporter itself (src/exporter) is imported only when the command runs.
 */
import type { Argv } from 'yargs';
import { CliArgs, probeOption, SocktopCommand } from '../command';
import { UsageError } from '../errors';
import { normalizeOptions, RawArgs } from '../options';
import { stopSignal } from '../shutdown';
import { DEFAULT_LISTEN, ListenError, ListenAddress, parseListen } from '../../exporter/listen';

export const DEFAULT_TOP_COMMS = 50;
export const MAX_TOP_COMMS = 10_000;

export function builder(y: Argv): Argv {
  return probeOption(y)
    .option('listen', {
      type: 'string', default: DEFAULT_LISTEN, requiresArg: true,
      description: 'ADDRESS:PORT to serve /metrics on (0.0.0.0:9947 to serve beyond this host)',
    })
    .option('top-comms', {
      type: 'number', default: DEFAULT_TOP_COMMS, requiresArg: true,
      description: 'commands labelled by name (the most active); the rest count under comm="~other"',
    });
}

export interface ExporterArgs {
  listen: ListenAddress;
  topComms: number;
}

/** Check the command line; a bad value is a one-line UsageError. */
export function exporterArgs(argv: Record<string, unknown>): ExporterArgs {
  const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);
  let listen: ListenAddress;
  try {
    listen = parseListen(String(last(argv.listen) ?? DEFAULT_LISTEN));
  } catch (e) {
    if (e instanceof ListenError) throw new UsageError(`--listen: ${e.message}`);
    throw e;
  }
  const top = Number(last(argv['top-comms'] ?? argv.topComms ?? DEFAULT_TOP_COMMS));
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP_COMMS) {
    throw new UsageError(`--top-comms: '${String(last(argv['top-comms']))}' is not a whole number from 1 to ${MAX_TOP_COMMS}`);
  }
  return { listen, topComms: top };
}

export const exporter: SocktopCommand = {
  name: 'exporter',
  command: 'exporter',
  describe: `headless Prometheus exporter: socket metrics at http://${DEFAULT_LISTEN}/metrics`,
  builder,
  async handler(argv: CliArgs): Promise<number> {
    const args = exporterArgs(argv);
    const { probe } = normalizeOptions(argv as RawArgs);
    const { runExporter } = await import('../run/exporter');
    await runExporter({ ...args, probe, signal: stopSignal });
    return 0;
  },
};
