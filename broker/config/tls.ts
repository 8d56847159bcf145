/**
 * Config rows of TLS (SSL and SASL_SSL listeners, and the inter-broker client side), with Kafka's names and
 * meaning; broker/security/tls.ts reads them. Every row but the watch interval may be set per listener as
 * `listener.name.<listener>.<name>` (e.g. `listener.name.ssl.ssl.client.auth=required`).
 *
 * Runnel reads PEM only: `ssl.keystore.type` / `ssl.truststore.type` JKS and PKCS12 are refused at start with a
 * ConfigError. Keys and inline PEM values are sensitive: DescribeConfigs shows no value for them.
 */
import type { ConfigDef } from '../config-model.js';

const STORE_TYPES = ['PEM', 'JKS', 'PKCS12'];

export const TLS_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'ssl.keystore.type',
    type: 'string',
    default: 'PEM',
    oneOf: STORE_TYPES,
    perListener: 'listener',
    doc: 'Format of the keystore. Only PEM is read (JKS and PKCS12 are refused at start; convert them with openssl).',
  },
  {
    name: 'ssl.keystore.location',
    type: 'string',
    default: null,
    perListener: 'listener',
    doc:
      'PEM file holding the private key and the certificate chain (leaf first) of this broker; watched and ' +
      'reloaded when it changes.',
  },
  {
    name: 'ssl.keystore.certificate.chain',
    type: 'string',
    default: null,
    sensitive: true,
    perListener: 'listener',
    doc: 'The certificate chain as inline PEM (with `ssl.keystore.key`, instead of `ssl.keystore.location`).',
  },
  {
    name: 'ssl.keystore.key',
    type: 'string',
    default: null,
    sensitive: true,
    perListener: 'listener',
    doc: 'The private key as inline PEM (with `ssl.keystore.certificate.chain`).',
  },
  {
    name: 'ssl.key.password',
    type: 'string',
    default: null,
    sensitive: true,
    perListener: 'listener',
    doc: 'Password of an encrypted private key in the keystore.',
  },
  {
    name: 'ssl.truststore.type',
    type: 'string',
    default: 'PEM',
    oneOf: STORE_TYPES,
    perListener: 'listener',
    doc: 'Format of the truststore. Only PEM is read (JKS and PKCS12 are refused at start).',
  },
  {
    name: 'ssl.truststore.location',
    type: 'string',
    default: null,
    perListener: 'listener',
    doc:
      'PEM file of the CA certificates trusted to sign client certificates (and, inter-broker, other brokers); ' +
      "watched and reloaded when it changes. Default: Node's bundled CAs.",
  },
  {
    name: 'ssl.truststore.certificates',
    type: 'string',
    default: null,
    sensitive: true,
    perListener: 'listener',
    doc: 'The trusted CA certificates as inline PEM (instead of `ssl.truststore.location`).',
  },
  {
    name: 'ssl.client.auth',
    type: 'string',
    default: 'none',
    oneOf: ['none', 'requested', 'required'],
    perListener: 'listener',
    doc:
      'TLS client authentication: `required` refuses clients without a trusted certificate, `requested` asks ' +
      'for one (an untrusted one is refused, none is User:ANONYMOUS), `none` does not ask.',
  },
  {
    name: 'ssl.enabled.protocols',
    type: 'list',
    default: ['TLSv1.2', 'TLSv1.3'],
    oneOf: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
    perListener: 'listener',
    doc: 'TLS versions accepted (the lowest and highest listed bound the range).',
  },
  {
    name: 'ssl.cipher.suites',
    type: 'list',
    default: null,
    perListener: 'listener',
    doc:
      "Cipher suites allowed, IANA names as Kafka's (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`) or OpenSSL names; " +
      "default: Node's.",
  },
  {
    name: 'ssl.principal.mapping.rules',
    type: 'string',
    default: 'DEFAULT',
    perListener: 'listener',
    doc:
      'How the subject DN (RFC 2253) of a client certificate becomes the principal name: comma-separated ' +
      '`RULE:pattern/replacement/[LU]` (first whole match wins) and `DEFAULT` (the DN as is).',
  },
  {
    name: 'ssl.endpoint.identification.algorithm',
    type: 'string',
    default: 'https',
    perListener: 'listener',
    doc:
      "Client side (inter-broker): `https` checks the other broker's certificate names its host; empty " +
      'disables the check.',
  },
  {
    name: 'ssl.file.watch.interval.ms',
    type: 'int',
    default: 5000,
    min: 100,
    doc:
      "Runnel's own: how often keystore and truststore files are polled; new content that parses replaces the " +
      'TLS context for new connections without a restart.',
  },
];
