// Public API of @omnibus/di-tsyringe.
export { TsyringeHandlerResolver } from './tsyringe-handler-resolver.js';
