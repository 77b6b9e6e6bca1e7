/** UDP flows in the model, the detail view and JSON: the latest UDP_FLOW record of a flow holds its
 *  totals; a flow whose peer is unknown says so. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AF_INET, EventKind as K, Flag2, IPPROTO_UDP, Offset } from '../../src/capture/layout';
import { decodeEvent } from '../../src/capture/decode';
import { jsonLine } from '../../src/capture/json-line';
import { SocketModel } from '../../src/model/model';
import { detailLines } from '../../src/ui/views/detail';
import { Theme } from '../../src/ui/views/theme';
import { feed, kernelSock, makeRecord, SEC } from './helpers/records';

function flow(ts: number, sentDgrams: number, receivedDgrams: number, peerUnknown = false): Uint8Array {
  const r = makeRecord({
    kind: K.UdpFlow, ts_ns: ts, sock: kernelSock(3), serial: 7, pid: 42, comm: 'dnsd', family: AF_INET, proto: IPPROTO_UDP,
    laddr: '127.0.0.1', lport: 5353, raddr: peerUnknown ? '0.0.0.0' : '10.1.2.3', rport: peerUnknown ? 0 : 53,
    bytes_sent: sentDgrams * 100, bytes_received: receivedDgrams * 10, duration_ns: ts - SEC, count: sentDgrams,
    flags2: peerUnknown ? Flag2.PeerUnknown : 0,
  });
  new DataView(r.buffer).setUint32(Offset.path_id, receivedDgrams, true);
  return r;
}

test('udp flows: totals from the latest record, per peer; JSON both ways the same', () => {
  const m = new SocketModel();
  feed(m, [flow(2 * SEC, 1, 0), flow(3 * SEC, 5, 2), flow(3 * SEC, 0, 4, true)]);
  m.refresh(4 * SEC);
  const flows = m.udpFlowsOf(42);
  assert.equal(flows.length, 2);
  const known = flows.find((f) => f.peer === '10.1.2.3:53')!;
  assert.deepEqual([known.datagramsSent, known.bytesSent, known.datagramsReceived, known.bytesReceived, known.firstNs, known.lastNs],
    [5, 500, 2, 20, SEC, 3 * SEC]);
  assert.equal(flows.filter((f) => f.peer === null).length, 1);
  const text = detailLines({ model: m, pid: 42, info: undefined, theme: new Theme(false), width: 120, nowNs: m.now }).join('\n');
  assert.match(text, /UDP FLOWS: 2/);
  assert.match(text, /10\.1\.2\.3:53\s+5\s+500B?\s+2\s+20B?/);
  assert.match(text, /peer unknown\s+0/);
  const r = flow(3 * SEC, 5, 2);
  const view = new DataView(r.buffer);
  const ev = decodeEvent(view, 0);
  assert.deepEqual([ev.kind, ev.datagrams_sent, ev.datagrams_received, ev.first_seen_ns, ev.last_seen_ns, ev.peer], ['udp_flow', 5, 2, SEC, 3 * SEC, undefined]);
  assert.equal(jsonLine(view, 0), JSON.stringify(ev));
  const unknown = new DataView(flow(3 * SEC, 0, 4, true).buffer);
  assert.equal(decodeEvent(unknown, 0).peer, 'unknown');
  assert.equal(jsonLine(unknown, 0), JSON.stringify(decodeEvent(unknown, 0)));
});
