import type { Message } from 'rhea';

/**
 * Answers claims-based-security requests on `$cbs`. The emulator does not check tokens: every
 * `put-token` is accepted with status 202, which is all the SDK needs before it opens a link.
 */
export function handleCbsRequest(request: Message): Message {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  const operation = typeof props['operation'] === 'string' ? props['operation'] : '';
  const ok = operation === 'put-token';
  const response: Message = {
    correlation_id: request.message_id as string,
    application_properties: {
      'status-code': ok ? 202 : 400,
      'status-description': ok ? 'Accepted' : `unsupported operation '${operation}'`,
    },
    body: undefined,
  };
  if (request.reply_to !== undefined) response.to = request.reply_to;
  return response;
}
