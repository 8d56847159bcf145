"""kafka-python 2.0.2 KafkaAdminClient ACL calls.

Usage: admin_acls.py BOOTSTRAP [authorizer]
Without `authorizer` (a broker without one): prints the error class each call got (a disconnect would raise
instead). With it (a broker running the StandardAuthorizer, User:ANONYMOUS allowed to ALTER and DESCRIBE the
CLUSTER): creates a READ ACL on topic t1 for User:alice, describes it, deletes it. Then prints OK.
"""
import sys

from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                         KafkaAdminClient, ResourcePattern, ResourcePatternFilter, ResourceType)
from kafka.errors import SecurityDisabledError

admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id='acl-test', request_timeout_ms=10000)
with_authorizer = len(sys.argv) > 2 and sys.argv[2] == 'authorizer'
acl_filter = ACLFilter(principal=None, host='*', operation=ACLOperation.ANY,
                       permission_type=ACLPermissionType.ANY,
                       resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None,
                                                              ACLResourcePatternType.LITERAL))
acl = ACL(principal='User:alice', host='*', operation=ACLOperation.READ,
          permission_type=ACLPermissionType.ALLOW,
          resource_pattern=ResourcePattern(ResourceType.TOPIC, 't1', ACLResourcePatternType.LITERAL))

if with_authorizer:
    acl_filter = ACLFilter(principal=None, host='*', operation=ACLOperation.ANY,
                           permission_type=ACLPermissionType.ANY,
                           resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, 't1',
                                                                  ACLResourcePatternType.LITERAL))
    created = admin.create_acls([acl])
    print('create:', len(created['succeeded']), [err.__name__ for _, err in created['failed']])
    acls, err = admin.describe_acls(acl_filter)
    print('describe:', [(a.resource_pattern.resource_name, a.principal, a.operation.name) for a in acls])
    deleted = admin.delete_acls([acl_filter])
    print('delete:', [(len(matching), err.__name__) for _, matching, err in deleted])
else:
    try:
        admin.describe_acls(acl_filter)
        print('describe: no error')
    except SecurityDisabledError as e:
        print('describe:', type(e).__name__)
    created = admin.create_acls([acl])
    print('create:', len(created['succeeded']), [err.__name__ for _, err in created['failed']])
    deleted = admin.delete_acls([acl_filter])
    print('delete:', [(len(matching), err.__name__) for _, matching, err in deleted])
# The connection is still usable after the three answers.
print('topics:', isinstance(admin.list_topics(), list))
admin.close()
print('OK')
