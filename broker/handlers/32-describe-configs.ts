/**
 * DescribeConfigs (key 32), versions 0-4 (v0 from Kafka 3.9.1's definition, for sarama; v4 flexible).
 *
 * Resources: type 2 = topic (empty name → INVALID_REQUEST, illegal name → INVALID_TOPIC_EXCEPTION, unknown
 * → UNKNOWN_TOPIC_OR_PARTITION), type 4 = broker ("" = the cluster-wide dynamic defaults that are set; this
 * node's id = every broker config, read-only unless dynamic; another id or a non-integer → INVALID_REQUEST,
 * as Kafka). Other types (broker loggers, client metrics, groups) → INVALID_REQUEST.
 * configurationKeys null = all, else only the names listed (unknown names are skipped, as Kafka).
 * v0 reports `isDefault` (source is DEFAULT_CONFIG); v1+ the config source, and synonyms when
 * includeSynonyms; v3+ the config type, and the documentation when includeDocumentation.
 * What is reported and how: topic-configs.ts (topics, synonyms) and broker-configs.ts (brokers).
 * Authorization (Kafka's KafkaApis): DESCRIBE_CONFIGS on the topic (before its existence or name checks), or on
 * the CLUSTER for broker and broker-logger resources; denied → TOPIC_AUTHORIZATION_FAILED /
 * CLUSTER_AUTHORIZATION_FAILED with Kafka's message and no configs; denied results come after the others.
 */
import {
  decodeDescribeConfigsRequest,
  type DescribeConfigsRequest,
} from '../../protocol/generated/describe-configs-request.js';
import {
  defaultDescribeConfigsResponse,
  defaultDescribeConfigsResult,
  encodeDescribeConfigsResponse,
  type DescribeConfigsResourceResult,
  type DescribeConfigsResult,
  type DescribeConfigsResponse,
} from '../../protocol/generated/describe-configs-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { checkBrokerResource, describeBrokerConfigs } from '../broker-configs.js';
import {
  checkTopicResource,
  ConfigSource,
  describeTopicConfigs,
  isApiErr,
  ResourceType,
  type DescribedConfig,
} from '../topic-configs.js';
import { AclOperation } from '../authorizer.js';
import { configResourceDenied, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

function entry(c: DescribedConfig, req: DescribeConfigsRequest, v: number): DescribeConfigsResourceResult {
  return {
    name: c.name,
    value: c.isSensitive ? null : c.value,
    readOnly: c.readOnly,
    configSource: c.source,
    isSensitive: c.isSensitive,
    synonyms: v >= 1 && req.includeSynonyms ? c.synonyms.map((s) => ({ ...s })) : [],
    configType: c.type,
    documentation: v >= 3 && req.includeDocumentation ? c.documentation : null,
    isDefault: c.source === ConfigSource.DEFAULT_CONFIG,
  };
}

export const describeConfigsHandler = registerHandler<DescribeConfigsRequest, DescribeConfigsResponse>({
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeDescribeConfigsRequest,
  encode: encodeDescribeConfigsResponse,
  handle(req, ctx) {
    const { services } = ctx;
    const v = ctx.apiVersion;
    const res = defaultDescribeConfigsResponse();
    const denied: DescribeConfigsResult[] = [];
    for (const r of req.resources) {
      const out = defaultDescribeConfigsResult();
      out.resourceType = r.resourceType;
      out.resourceName = r.resourceName;
      out.errorMessage = null;
      let configs: DescribedConfig[] = [];
      const refused = configResourceDenied(ctx, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
      if (refused !== undefined) {
        out.errorCode = refused;
        out.errorMessage = deniedMessage(refused);
        denied.push(out);
        continue;
      }
      res.results.push(out);
      if (r.resourceType === ResourceType.TOPIC) {
        const t = checkTopicResource(services, r.resourceName);
        if (isApiErr(t)) {
          out.errorCode = t.code;
          out.errorMessage = t.message;
          continue;
        }
        configs = describeTopicConfigs(services, t.configs, r.configurationKeys);
      } else if (r.resourceType === ResourceType.BROKER) {
        const b = checkBrokerResource(services, r.resourceName);
        if (isApiErr(b)) {
          out.errorCode = b.code;
          out.errorMessage = b.message;
          continue;
        }
        configs = describeBrokerConfigs(services, b.level, r.configurationKeys);
      } else {
        out.errorCode = ErrorCode.INVALID_REQUEST;
        out.errorMessage = `Unsupported resource type: ${r.resourceType}`;
        continue;
      }
      out.configs = configs.map((c) => entry(c, req, v));
    }
    res.results.push(...denied); // as Kafka: the authorized resources' results first, then the denied ones
    return res;
  },
});
