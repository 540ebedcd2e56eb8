// Public API of @omnibus/nestjs. Explicit named exports only.
export { OmnibusModule } from './omnibus-module.js';
export { OmnibusLifecycle } from './omnibus-lifecycle.js';
export { NestHandlerResolver } from './nest-handler-resolver.js';
export { OMNIBUS_MODULE_OPTIONS } from './omnibus-module-options.js';
export type { OmnibusModuleOptions, OmnibusModuleAsyncOptions } from './omnibus-module-options.js';
