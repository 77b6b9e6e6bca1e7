/**
 * The C <-> TypeScript contract beyond offsets (layout.test.ts checks those against the addon):
 * every kind, drop stage, flag and backend code in bpf/socktop.h has the same value in
 * src/capture/layout.ts, and nothing is defined on one side only.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  Backend, BACKEND_NAMES, COMM_LEN, DropStage, EventKind, FAIL_REASONS, Flag, Flag2, KIND_MAX, KIND_NAMES, Reason, REASON_NAMES,
  RECORD_SIZE, RECORD_SIZE_V2, RECORD_VERSION, STAGE_NAMES,
} from '../../src/capture/layout';
import { TRACEPOINTS } from '../../src/capture/kernel';
import { decodeEvent, stringifyEvent } from '../../src/capture/decode';
import { jsonLine } from '../../src/capture/json-line';
import { makeRecord } from './helpers/records';

const HEADER = fs.readFileSync(path.resolve(__dirname, '../../../bpf/socktop.h'), 'utf8');

/** NAME = value pairs of enum members and #defines whose name starts with `prefix`. */
function cValues(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`(?:#define\\s+|^\\s*)(${prefix}\\w+)\\s*=?\\s*(0x[0-9a-fA-F]+|\\d+)`, 'gm');
  for (const m of HEADER.matchAll(re)) out.set(m[1].slice(prefix.length), Number(m[2]));
  return out;
}

/** CONNECT_START -> ConnectStart */
const pascal = (s: string): string => s.toLowerCase().split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

function numericEnum(e: Record<string, string | number>): Map<string, number> {
  return new Map(Object.entries(e).filter(([, v]) => typeof v === 'number') as [string, number][]);
}

test('event kinds: socktop.h and layout.ts agree, with a JSON name each', () => {
  const c = cValues('SK_');
  const kinds = [...c].filter(([k]) => !/^(STAGE|BACKEND|KIND_MAX|REASON)/.test(k) && !/^(RECORD|COMM)/.test(k));
  const ts = numericEnum(EventKind as unknown as Record<string, string | number>);
  assert.deepEqual(new Map(kinds.map(([k, v]) => [pascal(k), v])), ts);
  assert.equal(c.get('KIND_MAX'), KIND_MAX);
  for (const v of ts.values()) assert.ok(KIND_NAMES[v], `kind ${v} has a JSON name`);
});

test('failure reasons: socktop.h and layout.ts agree, with a JSON name each but none', () => {
  const c = new Map([...cValues('SK_REASON_')].map(([k, v]) => [pascal(k), v]));
  assert.deepEqual(c, numericEnum(Reason as unknown as Record<string, string | number>));
  for (const [k, v] of c) assert.equal(REASON_NAMES[v], k === 'None' ? '' : k.toLowerCase());
  assert.deepEqual([...FAIL_REASONS].sort(), [...c.values()].filter((v) => v !== 0).sort());
});

test('drop stages: socktop.h and layout.ts agree, with a name each', () => {
  const c = new Map([...cValues('SK_STAGE_')].map(([k, v]) => [pascal(k), v]));
  assert.deepEqual(c, numericEnum(DropStage as unknown as Record<string, string | number>));
  for (const v of c.values()) assert.ok(STAGE_NAMES[v], `stage ${v} has a name`);
});

test('flags: socktop.h and layout.ts agree', () => {
  const c = new Map([...cValues('SKF_')].map(([k, v]) => [pascal(k), v]));
  assert.deepEqual(c, new Map(Object.entries(Flag)));
});

test('flags2: socktop.h and layout.ts agree; an unknown duration is null in both JSON encoders', () => {
  const c = new Map([...cValues('SKF2_')].map(([k, v]) => [pascal(k), v]));
  assert.deepEqual(c, new Map(Object.entries(Flag2)));
  for (const [kind, field] of [[EventKind.Close, 'duration_us'], [EventKind.Connect, 'latency_us']] as const) {
    for (const [flags2, want] of [[Flag2.StartUnknown, null], [0, 5]] as const) {
      const view = new DataView(makeRecord({ kind, pid: 1, duration_ns: flags2 ? 0 : 5000, flags2 }).buffer);
      const line = jsonLine(view, 0);
      assert.equal(line, stringifyEvent(decodeEvent(view, 0)));
      assert.equal(JSON.parse(line)[field], want);
    }
  }
});

test('backend codes: socktop.h and layout.ts agree, with a name for each program backend', () => {
  const c = new Map([...cValues('SK_BACKEND_')].map(([k, v]) => [pascal(k), v]));
  assert.deepEqual(c, new Map(Object.entries(Backend)));
  for (const [k, v] of c) if (k !== 'Common') assert.equal(BACKEND_NAMES[v], k.toLowerCase());
});

test('the tracepoints kernel.ts checks are those of the tracepoint backend\'s programs, optional where the program is *_opt', () => {
  const source = fs.readFileSync(path.resolve(__dirname, '../../../bpf/socktop.bpf.c'), 'utf8');
  const fromBpf = new Map<string, boolean>();
  for (const m of source.matchAll(/SEC\("tracepoint\/([\w/]+)"\)\s*\nint (\w+)\(/g)) {
    const [, target, program] = m;
    if (!/^(tp_|kt_)/.test(program)) continue; // the tracepoint backend loads these
    fromBpf.set(target, !program.endsWith('_opt'));
  }
  assert.ok(fromBpf.size >= 10, 'programs found in the BPF source');
  assert.deepEqual(new Map(TRACEPOINTS.map((t) => [t.name, t.required])), fromBpf);
});

test('record size, version and COMM_LEN: socktop.h and layout.ts agree', () => {
  const define = (name: string): number => Number(new RegExp(`#define ${name} (\\d+)`).exec(HEADER)![1]);
  assert.equal(define('SOCKTOP_RECORD_SIZE'), RECORD_SIZE);
  assert.equal(define('SOCKTOP_RECORD_VERSION'), RECORD_VERSION);
  assert.equal(define('SOCKTOP_RECORD_SIZE_V2'), RECORD_SIZE_V2);
  assert.equal(define('SOCKTOP_COMM_LEN'), COMM_LEN);
});

test('SKF_NO_TASK: no tid, shown as "tid": null by both JSON encoders; the owner\'s pid stays', () => {
  assert.match(HEADER, /#define SKF_NO_TASK 0x80\b/);
  for (const [flags, tid] of [[Flag.NoTask, null], [0, 77]] as const) {
    const bytes = makeRecord({ kind: EventKind.Close, pid: 42, tid: flags ? 0 : 77, comm: 'srv', flags });
    const view = new DataView(bytes.buffer);
    const line = jsonLine(view, 0);
    assert.equal(line, stringifyEvent(decodeEvent(view, 0)));
    assert.deepEqual([JSON.parse(line).tid, JSON.parse(line).pid], [tid, 42]);
  }
});
