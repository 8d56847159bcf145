/**
 * Config rows of the ACL authorizer (broker/security/authorizer/): which authorizer serves (none by default,
 * when every action is allowed and the ACL APIs answer SECURITY_DISABLED), the super users and the rule for
 * resources without ACLs. Part of the one config table (../config.ts).
 */
import type { ConfigDef } from '../config-model.js';

export const AUTHORIZER_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'authorizer.class.name',
    type: 'string',
    default: '',
    doc:
      'ACL authorizer: empty for none (all allowed, ACL APIs SECURITY_DISABLED); ' +
      'org.apache.kafka.metadata.authorizer.StandardAuthorizer or kafka.security.authorizer.AclAuthorizer ' +
      "for ACLs kept in the cluster metadata (a single node: the data dir's acls.json; a cluster: etcd, shared " +
      'by every node). Any other value refuses start-up.',
  },
  {
    name: 'super.users',
    type: 'string',
    default: '',
    doc: 'Principals allowed everything whatever the ACLs say, separated by semicolons: User:admin;User:ops.',
  },
  {
    name: 'allow.everyone.if.no.acl.found',
    type: 'boolean',
    default: false,
    doc:
      'With an authorizer: whether an action on a resource that no ACL applies to (for anyone) is allowed. ' +
      'Off, such actions are denied except to super users.',
  },
];
