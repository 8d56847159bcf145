/**
 * `--command-config` (client/cli/command-config.ts): Kafka's client properties files parsed into TLS and SASL
 * options, and the `runnel` CLI reaching a SASL_SSL listener with an authorizer through one — as admin (a super
 * user) it creates a topic and an ACL; as alice without ACLs it sees nothing; with a wrong password it fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testBroker } from '../../helpers/test-broker.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';
import type { RunningBroker } from '../../../broker/index.js';
import { parseProperties, securityFromProperties } from '../../../client/cli/command-config.js';
import { runCli } from './run-cli.js';

test('properties: comments, separators, continuations; SASL from JAAS or librdkafka names', () => {
  const p = parseProperties(
    '# a comment\n! another\nsecurity.protocol = SASL_PLAINTEXT\nsasl.mechanism: SCRAM-SHA-512\n' +
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n' +
      '  username="alice" password="a \\"b\\" c";\n',
  );
  assert.equal(p.get('security.protocol'), 'SASL_PLAINTEXT');
  assert.equal(p.get('sasl.mechanism'), 'SCRAM-SHA-512');
  assert.deepEqual(securityFromProperties(p), {
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'a "b" c' },
  });
  const rd = parseProperties(
    'security.protocol=sasl_plaintext\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=p',
  );
  assert.deepEqual(securityFromProperties(rd).sasl, { mechanism: 'PLAIN', username: 'u', password: 'p' });
  assert.deepEqual(securityFromProperties(parseProperties('client.id=x')), {});
  assert.throws(() => securityFromProperties(parseProperties('security.protocol=SASL_SSL')), /username and password/);
  assert.throws(() => securityFromProperties(parseProperties('security.protocol=KERBEROS')), /security.protocol/);
  assert.throws(
    () => securityFromProperties(parseProperties('security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI')),
    /GSSAPI/,
  );
});

let certs: TestCerts;
let b: RunningBroker;
let port: number;
before(async () => {
  certs = makeTestCerts();
  b = await testBroker({
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.truststore.location': certs.ca,
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
    },
    scramUsers: [
      { mechanism: 'SCRAM-SHA-512', name: 'admin', password: 'admin-secret' },
      { mechanism: 'SCRAM-SHA-512', name: 'alice', password: 'alice-secret' },
    ],
  });
  port = b.listeners.SASL_SSL!.port;
});
after(async () => {
  await b?.stop();
  certs?.remove();
});

function props(user: string, password: string): string {
  const file = join(certs.dir, `${user}-${password}.properties`);
  writeFileSync(
    file,
    'security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n' +
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" ` +
      `password="${password}";\nssl.truststore.type=PEM\nssl.truststore.location=${certs.ca}\n`,
  );
  return file;
}

test('the CLI over SASL_SSL: admin creates a topic and an ACL; alice sees only what the ACL allows', async () => {
  const bootstrap = `localhost:${port}`;
  const admin = ['--bootstrap', bootstrap, '--command-config', props('admin', 'admin-secret')];
  const alice = ['--bootstrap', bootstrap, '--command-config', props('alice', 'alice-secret')];

  const created = await runCli(['topic', 'create', 'secured', '--partitions', '1', ...admin]);
  assert.equal(created.code, 0, created.stderr);
  assert.ok(b.broker.metadata.image.topic('secured'));

  const before = await runCli(['topic', 'list', ...alice]);
  assert.equal(before.code, 0, before.stderr);
  assert.doesNotMatch(before.stdout, /secured/, 'alice may not describe the topic yet');

  const acl = await runCli([
    'acl',
    'add',
    '--allow-principal',
    'User:alice',
    '--operation',
    'Describe',
    '--topic',
    'secured',
    ...admin,
  ]);
  assert.equal(acl.code, 0, acl.stderr);
  const after = await runCli(['topic', 'list', ...alice]);
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /secured/);

  const wrong = await runCli(['topic', 'list', '--bootstrap', bootstrap, '--command-config', props('alice', 'nope')]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /auth/i);
});
