import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { injectable } from 'inversify';

/** Result of a charge attempt. */
export type ChargeResult = { readonly status: 'captured'; readonly paymentId: string } | { readonly status: 'declined'; readonly reason: string };

/**
 * A fake payment provider with scripted behaviour so the demo shows every path: cards ending
 * in `0002` time out once (a transient failure, retried), `0003` always crash the provider
 * (retries exhausted, dead-lettered) and `0004` are declined (a business outcome).
 */
@injectable()
export class PaymentGateway {
  readonly #attempts = new Map<string, number>();
  /** Every capture made, in order: what customers were actually charged. */
  readonly captures: { readonly orderId: string; readonly amountCents: number }[] = [];

  /**
   * Charge a card. Throws on provider failures; resolves with `declined` for refusals. Traced as
   * a CLIENT span (a no-op unless an OpenTelemetry SDK is registered), which nests under the
   * handler's consumer span.
   */
  charge(orderId: string, card: string, amountCents: number): Promise<ChargeResult> {
    return trace.getTracer('ecommerce-demo').startActiveSpan('payment-provider charge', { kind: SpanKind.CLIENT }, async (span) => {
      try {
        return await this.#charge(orderId, card, amountCents);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  #charge(orderId: string, card: string, amountCents: number): Promise<ChargeResult> {
    const attempt = (this.#attempts.get(orderId) ?? 0) + 1;
    this.#attempts.set(orderId, attempt);
    if (card.endsWith('0002') && attempt === 1) return Promise.reject(new Error('payment provider timed out'));
    if (card.endsWith('0003')) return Promise.reject(new Error('payment provider returned HTTP 500'));
    if (card.endsWith('0004')) return Promise.resolve({ status: 'declined', reason: 'insufficient funds' });
    this.captures.push({ orderId, amountCents });
    return Promise.resolve({ status: 'captured', paymentId: `pay_${orderId}_${String(amountCents)}` });
  }
}
