/** What a runtime's inspect answer and DOCKER_HOST give (src/capture/container-names.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { dockerHostSocket, nameFromInspect } from '../../src/capture/container-names';

test('the name of an inspect document: leading slash dropped, bounded, anything else is no name', () => {
  assert.equal(nameFromInspect('{"Id":"abc","Name":"/web-1"}'), 'web-1');
  assert.equal(nameFromInspect('{"Name":"db"}'), 'db');
  assert.equal(nameFromInspect(`{"Name":"/${'x'.repeat(500)}"}`), 'x'.repeat(128));
  assert.equal(nameFromInspect('{"Name":"\\u001b[31mred"}'), '\u001b[31mred', 'kept as text: escaped by what shows it');
  for (const bad of ['', 'not json', 'null', '[]', '{"Name":3}', '{"Name":"/"}', '{}']) {
    assert.equal(nameFromInspect(bad), undefined, bad);
  }
});

test('DOCKER_HOST names a socket only when it is unix://', () => {
  assert.equal(dockerHostSocket('unix:///run/user/1000/docker.sock'), '/run/user/1000/docker.sock');
  assert.equal(dockerHostSocket('tcp://10.0.0.1:2375'), undefined);
  assert.equal(dockerHostSocket(undefined), undefined);
});
