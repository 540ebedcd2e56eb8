// One implementation for applications, tests and adapters: the adapter kit's.
export { waitFor, WaitTimeoutError } from '../adapter-kit/wait-for.js';
export type { WaitForOptions } from '../adapter-kit/wait-for.js';
