/**
 * Every keyed-record section (records.ts) the metadata stores carry: the local store loads each one's file at
 * open, the etcd image decodes each one's keys. A new section is declared beside its facade and added here.
 */
import { ACL_SECTION } from './acls.js';
import { QUOTA_SECTION } from './client-quotas.js';
import { CONFIG_SECTION } from './dynamic-configs.js';
import type { RecordSection } from './records.js';
import { SCRAM_SECTION } from './scram-credentials.js';

export const RECORD_SECTIONS: readonly RecordSection<unknown>[] = [
  SCRAM_SECTION as RecordSection<unknown>,
  QUOTA_SECTION as RecordSection<unknown>,
  CONFIG_SECTION as RecordSection<unknown>,
  ACL_SECTION as RecordSection<unknown>,
];

export function recordSection(name: string): RecordSection<unknown> | undefined {
  return RECORD_SECTIONS.find((s) => s.name === name);
}
