/**
 * The cgroup path parser (src/model/container.ts): one case per layout a runtime or systemd makes,
 * and the walk of a real cgroup v2 tree (src/capture/cgroups.ts) on directories made here.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { parseCgroupPath, placementMatches, PlacementBook } from '../../src/model/container';
import { CgroupPaths, cgroupIdOfPath, cgroupPathOfPid, hostCgroupRoot } from '../../src/capture/cgroups';

const ID = '3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899';
const POD = '0d2b5c1e-7f3a-4b6c-9d8e-1a2b3c4d5e6f';

const CASES: Array<[string, string, Record<string, unknown>]> = [
  ['host root', '/', { name: '' }],
  ['docker, systemd driver', `/system.slice/docker-${ID}.scope`, { runtime: 'docker', containerId: ID, name: ID.slice(0, 12) }],
  ['docker, cgroupfs driver', `/docker/${ID}`, { runtime: 'docker', containerId: ID }],
  ['containerd CRI', `/system.slice/cri-containerd-${ID}.scope`, { runtime: 'containerd', containerId: ID }],
  ['CRI-O', `/machine.slice/crio-${ID}.scope`, { runtime: 'cri-o', containerId: ID }],
  ['CRI-O conmon', `/machine.slice/crio-conmon-${ID}.scope`, { runtime: 'cri-o', containerId: ID, monitor: true, name: `conmon-${ID.slice(0, 12)}` }],
  ['podman', `/machine.slice/libpod-${ID}.scope/container`, { runtime: 'podman', containerId: ID }],
  ['podman conmon', `/machine.slice/libpod-conmon-${ID}.scope`, { runtime: 'podman', monitor: true }],
  ['podman cgroupfs', `/libpod_parent/libpod-${ID}`, { runtime: 'podman', containerId: ID }],
  ['kubepods burstable, systemd driver, containerd',
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`,
    { runtime: 'containerd', containerId: ID, podUid: POD, qos: 'burstable', name: ID.slice(0, 12) }],
  ['kubepods besteffort, CRI-O',
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice/crio-${ID}.scope`,
    { runtime: 'cri-o', podUid: POD, qos: 'besteffort' }],
  ['kubepods guaranteed, systemd driver', `/kubepods.slice/kubepods-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`,
    { podUid: POD, qos: 'guaranteed', containerId: ID }],
  ['kubepods, cgroupfs driver', `/kubepods/burstable/pod${POD}/${ID}`, { runtime: 'cri', containerId: ID, podUid: POD, qos: 'burstable' }],
  ['kubepods guaranteed, cgroupfs driver', `/kubepods/pod${POD}/${ID}`, { containerId: ID, podUid: POD, qos: 'guaranteed' }],
  ['a pod slice itself', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice`,
    { podUid: POD, containerId: undefined, name: `pod-${POD.slice(0, 8)}` }],
  ['systemd service', '/system.slice/nginx.service', { unit: 'nginx.service', name: 'nginx.service', runtime: undefined }],
  ['templated service', '/system.slice/system-getty.slice/getty@tty1.service', { unit: 'getty@tty1.service' }],
  ['user session', '/user.slice/user-1000.slice/session-3.scope', { unit: 'session-3.scope', userUid: 1000, name: 'session-3.scope' }],
  ['user service', '/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service', { unit: 'foo.service', userUid: 1000 }],
  ['user manager init.scope', '/user.slice/user-1000.slice/user@1000.service/init.scope', { unit: 'user@1000.service' }],
  ['other leaf', '/socktop-test/leaf', { name: 'leaf', unit: undefined, containerId: undefined }],
  ['not a container: 63 hex digits', `/docker/${ID.slice(1)}`, { containerId: undefined, name: ID.slice(1) }],
  ['not a container: hex under another parent', `/other/${ID}`, { containerId: undefined }],
];

for (const [what, cgPath, want] of CASES) {
  test(`parseCgroupPath: ${what}`, () => {
    const p = parseCgroupPath(cgPath);
    for (const [k, v] of Object.entries(want)) assert.equal((p as unknown as Record<string, unknown>)[k], v, `${k} of ${cgPath}`);
  });
}

test('placementMatches: id and pod prefixes, names, units', () => {
  const k8s = parseCgroupPath(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`);
  assert.ok(placementMatches('3f4e5d', k8s));
  assert.ok(placementMatches(POD.slice(0, 10), k8s));
  assert.ok(!placementMatches('3f4e5e', k8s));
  const nginx = parseCgroupPath('/system.slice/nginx.service');
  assert.ok(placementMatches('nginx', nginx));
  assert.ok(placementMatches('NGINX.service', nginx));
  assert.ok(!placementMatches('redis', nginx));
  assert.ok(!placementMatches('x', undefined));
});

test('PlacementBook: parses once per id, asks again for an unknown one', () => {
  const known = new Map<number, string>();
  let asks = 0;
  const book = new PlacementBook((id) => {
    asks++;
    return known.get(id);
  }, 2);
  assert.equal(book.get(0), undefined);
  assert.equal(asks, 0, 'id 0 is "not known", never looked up');
  assert.equal(book.get(7), undefined);
  known.set(7, '/system.slice/a.service');
  assert.equal(book.get(7)?.unit, 'a.service');
  assert.equal(book.get(7)?.unit, 'a.service');
  assert.equal(asks, 2, 'the second hit came from the table');
  known.set(8, '/b').set(9, '/c');
  assert.equal(book.get(8)?.name, 'b');
  assert.equal(book.get(9)?.name, 'c', 'over the bound: the table starts over');
});

const root = hostCgroupRoot();

test('CgroupPaths: walks a real cgroup v2 tree made here, ids = directory inodes', { skip: root === null || process.getuid?.() !== 0 ? 'needs root and cgroup v2' : false }, () => {
  const top = fs.mkdtempSync(path.join(root!, 'socktop-unit-'));
  const rel = `/${path.basename(top)}`;
  const leafRel = `${rel}/kubepods.slice/kubepods-besteffort.slice/cri-containerd-${ID}.scope`;
  try {
    let now = 0;
    const paths = new CgroupPaths(root, { now: () => now, minRescanMs: 1000 });
    assert.equal(paths.pathOf(cgroupIdOfPath(root, '/')), '/');
    const scans = paths.scans;
    fs.mkdirSync(root + leafRel, { recursive: true });
    const leafId = cgroupIdOfPath(root, leafRel);
    assert.ok(leafId > 0);
    now = 500;
    assert.equal(paths.pathOf(leafId), undefined, 'a miss within a second of the last walk waits');
    assert.equal(paths.scans, scans);
    now = 1500;
    assert.equal(paths.pathOf(leafId), leafRel, 'the next miss walks again');
    assert.equal(parseCgroupPath(paths.pathOf(leafId)!).containerId, ID);
    assert.equal(paths.pathOf(leafId), leafRel);
    assert.equal(paths.scans, scans + 1, 'hits come from the cache');
    // Bounded: a walk capped at 2 directories keeps the root and one more, and says so.
    const small = new CgroupPaths(root, { maxEntries: 2 });
    small.rescan();
    assert.equal(small.size, 2);
    assert.ok(small.truncated);
    assert.equal(cgroupPathOfPid(process.pid)?.startsWith('/'), true, 'this process has a cgroup v2 path');
  } finally {
    for (let p = root + leafRel; p.length > root!.length && p.startsWith(top); p = path.dirname(p)) fs.rmdirSync(p);
  }
});
