// The module behind faults.childTransportModule: the child process imports it and calls
// createTransport(), then consumes until the suite kills it. It must reach the same broker
// as the parent (a real broker does; the in-memory sample reaches the parent through a bridge).
export { createTransport } from '../support/in-memory-child-transport.js';
