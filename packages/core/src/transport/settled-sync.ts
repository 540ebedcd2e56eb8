/**
 * A resolved promise that also means "this finished synchronously". A settlement port or a
 * delivery handler may return this very object instead of a promise of its own when its work
 * is already done; the router and the {@link KeyedDispatcher} then carry on at once instead of
 * allocating a `.then` and waiting a microtask. Awaiting it is awaiting a resolved promise, so
 * callers that do not know about it lose nothing. Only its identity matters: never build
 * another one. @internal
 */
export const SETTLED_SYNC: Promise<void> = Promise.resolve();
