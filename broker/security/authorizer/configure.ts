/**
 * The authorizer the composition root (broker.ts) plugs in, from `authorizer.class.name`: none when empty;
 * the StandardAuthorizer over the metadata store's ACLs (replication/metadata/acls.ts: a single node's
 * `<data dir>/acls.json`, a cluster's etcd keys) for Kafka's StandardAuthorizer or AclAuthorizer class names;
 * any other name refuses start-up (ConfigError), as Kafka fails to load an unknown class.
 */
import type { Authorizer } from '../../authorizer.js';
import { ConfigError, type EffectiveConfig } from '../../config-model.js';
import type { Logger } from '../../logger.js';
import { AclStore } from '../../../replication/metadata/acls.js';
import type { MetadataStore } from '../../../replication/metadata/store.js';
import { AUTHORIZER_CLASS_NAMES, StandardAuthorizer } from './standard-authorizer.js';

export function openAuthorizer(config: EffectiveConfig, store: MetadataStore, log: Logger): Authorizer | undefined {
  const className = config.str('authorizer.class.name').trim();
  if (className === '') return undefined;
  if (!(AUTHORIZER_CLASS_NAMES as readonly string[]).includes(className))
    throw new ConfigError(
      `authorizer.class.name ${className} is not supported: Runnel serves ${AUTHORIZER_CLASS_NAMES.join(' and ')} ` +
        '(its StandardAuthorizer), or leave it empty for no authorizer',
    );
  return new StandardAuthorizer({
    store: new AclStore(store),
    superUsers: config.str('super.users'),
    allowEveryoneIfNoAclFound: config.bool('allow.everyone.if.no.acl.found'),
    log,
  });
}
