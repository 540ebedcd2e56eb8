// Public API of @omnibus/cli (the `omnibus` command and the pieces it is built from).
export { runCli, USAGE } from './run-cli.js';
export { processIo } from './cli-io.js';
export type { CliIo } from './cli-io.js';
export { loadAppConfig } from './load-app-config.js';
export type { LoadedAppConfig } from './load-app-config.js';
export { CAPABILITY_PRESETS, presetSelection } from './capability-presets.js';
export { generateAsyncApi, payloadJsonSchema } from './asyncapi/generate-asyncapi.js';
export type { AsyncApiOptions, Json } from './asyncapi/generate-asyncapi.js';
export { diffAsyncApi } from './asyncapi/diff-asyncapi.js';
export type { AsyncApiChange } from './asyncapi/diff-asyncapi.js';
