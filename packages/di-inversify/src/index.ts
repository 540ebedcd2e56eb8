// Public API of @omnibus/di-inversify.
export { InversifyHandlerResolver } from './inversify-handler-resolver.js';
export type { InversifyHandlerResolverOptions } from './inversify-handler-resolver.js';
