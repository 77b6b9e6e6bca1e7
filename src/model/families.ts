/**
 * families.ts: which socket families socktop shows (`--family inet,unix`, the TUI's `u` key).
 * "inet" is IPv4 and IPv6 (TCP, UDP); "unix" is unix-domain sockets. Pure: the model applies it
 * as records come in, the JSON output per line.
 */
import { AF_INET, AF_INET6, AF_UNIX } from '../capture/layout';

export class FamilyFilterError extends Error {}

export const FAMILY_NAMES = ['inet', 'unix'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

/** The families shown: null for all of them. */
export type Families = ReadonlySet<FamilyName> | null;

/** Parse "inet,unix" (any order; "all" or empty: every family). Throws a one-line error. */
export function parseFamilies(text: string): Families {
  const items = text.split(/[,\s]+/).filter((s) => s.length > 0).map((s) => s.toLowerCase());
  if (items.length === 0 || items.includes('all')) return null;
  const out = new Set<FamilyName>();
  for (const item of items) {
    if (!(FAMILY_NAMES as readonly string[]).includes(item)) {
      throw new FamilyFilterError(`unknown family '${item}' (use inet, unix or all, e.g. --family inet,unix)`);
    }
    out.add(item as FamilyName);
  }
  return out.size === FAMILY_NAMES.length ? null : out;
}

/** Whether a record of this family byte passes (0: records of no family, e.g. exits, always do). */
export function familyShown(families: Families, family: number): boolean {
  if (families === null || family === 0) return true;
  if (family === AF_UNIX) return families.has('unix');
  if (family === AF_INET || family === AF_INET6) return families.has('inet');
  return true;
}

/** The TUI's `u` key: all -> inet only -> unix only -> all. */
export function nextFamilies(families: Families): Families {
  if (families === null) return new Set<FamilyName>(['inet']);
  if (families.has('inet')) return new Set<FamilyName>(['unix']);
  return null;
}

export function describeFamilies(families: Families): string {
  return families === null ? 'all' : [...families].join(',');
}
