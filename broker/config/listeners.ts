/**
 * Config rows of the Kafka listeners, with Kafka's names and syntax (broker/security/listeners.ts parses them):
 * `listeners`, `advertised.listeners`, `listener.security.protocol.map`, `inter.broker.listener.name`. Without
 * `listeners`, `host` and `port` (and `advertised.host` / `advertised.port`) describe one PLAINTEXT listener.
 */
import type { ConfigDef } from '../config-model.js';

export const LISTENER_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'listeners',
    type: 'string',
    default: null,
    doc:
      'Kafka listeners as `NAME://host:port`, comma-separated (e.g. `PLAINTEXT://:9092,SASL_SSL://:9093`); an ' +
      'empty host binds every interface. Replaces `host`/`port` when set.',
  },
  {
    name: 'advertised.listeners',
    type: 'string',
    default: null,
    doc:
      'What clients are told per listener, `NAME://host:port`; default: `listeners` (a wildcard host advertised ' +
      'as `localhost`, port 0 as the bound port).',
  },
  {
    name: 'listener.security.protocol.map',
    type: 'string',
    default: 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    doc: 'Security protocol of each listener name, `NAME:PROTOCOL`, comma-separated.',
  },
  {
    name: 'inter.broker.listener.name',
    type: 'string',
    default: null,
    doc:
      'Listener other brokers reach this one on (replica fetches, transaction markers); default: the listener ' +
      'named PLAINTEXT, else the first one.',
  },
];
