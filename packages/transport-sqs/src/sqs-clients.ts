import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsTransportOptions } from './sqs-options.js';

/** The AWS SDK clients one transport uses. `sns` is absent when fanOut is "none". */
export interface SqsClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient | undefined;
}

const LOCAL_REGION = 'us-east-1';

/**
 * Build the SDK clients from options. On AWS (no `endpoint`) region and credentials come from
 * the SDK default chain unless given; with an `endpoint` (ElasticMQ, fauxqs, LocalStack) the
 * region defaults to us-east-1 and `useQueueUrlAsEndpoint` to false, because local servers hand
 * out queue URLs whose host may not resolve. No network I/O happens here.
 */
export function createSqsClients(options: SqsTransportOptions): SqsClients {
  const local = options.endpoint !== undefined;
  const region = options.region ?? (local ? LOCAL_REGION : undefined);
  const credentials =
    options.accessKeyId !== undefined && options.secretAccessKey !== undefined
      ? {
          accessKeyId: options.accessKeyId,
          secretAccessKey: options.secretAccessKey,
          ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
        }
      : undefined;
  const common = {
    ...(region === undefined ? {} : { region }),
    ...(credentials === undefined ? {} : { credentials }),
    maxAttempts: options.sdkMaxAttempts,
    requestHandler: {
      connectionTimeout: Math.min(options.requestTimeoutMs, 5000),
      requestTimeout: options.requestTimeoutMs + options.waitTimeSeconds * 1000,
    },
  };
  const sqs = new SQSClient({
    ...common,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    useQueueUrlAsEndpoint: options.useQueueUrlAsEndpoint ?? !local,
  });
  const snsEndpoint = options.snsEndpoint ?? options.endpoint;
  const sns =
    options.fanOut === 'sns'
      ? new SNSClient({ ...common, ...(snsEndpoint === undefined ? {} : { endpoint: snsEndpoint }) })
      : undefined;
  return { sqs, sns };
}
