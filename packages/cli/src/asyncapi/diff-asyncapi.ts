import { isDeepStrictEqual } from 'node:util';
import type { Json } from './generate-asyncapi.js';

/** One difference between two documents. */
export interface AsyncApiChange {
  readonly breaking: boolean;
  readonly event: string;
  readonly change: string;
}

type Schema = { readonly [key: string]: Json };

function isObject(value: Json | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messagesOf(doc: Json): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const messages = isObject(doc) && isObject(doc['components']) ? doc['components']['messages'] : undefined;
  if (!isObject(messages)) return out;
  for (const message of Object.values(messages)) {
    if (isObject(message) && typeof message['name'] === 'string') out.set(message['name'], message);
  }
  return out;
}

/**
 * Compare a payload schema with its previous version from a consumer's point of view, and push
 * each change: a removed property, a changed type, a new required property, or any other
 * changed keyword (enum, bounds, format…) is breaking; a new optional property is not. Pure.
 */
function comparePayload(
  path: string,
  before: Json | undefined,
  after: Json | undefined,
  out: string[][],
): void {
  if (isDeepStrictEqual(before, after)) return;
  if (!isObject(before) || !isObject(after)) {
    out.push([
      'breaking',
      `${path === '' ? 'payload' : path.slice(0, -1)} schema ${before === undefined ? 'added' : after === undefined ? 'removed' : 'changed'}`,
    ]);
    return;
  }
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const name of keys) {
    if (name === 'properties' || name === 'required' || name === 'description' || name === 'title') continue;
    if (isDeepStrictEqual(before[name], after[name])) continue;
    const where = path === '' ? 'payload' : path.slice(0, -1);
    const change =
      before[name] === undefined
        ? `added ${JSON.stringify(after[name])}`
        : after[name] === undefined
          ? `removed (was ${JSON.stringify(before[name])})`
          : `changed from ${JSON.stringify(before[name])} to ${JSON.stringify(after[name])}`;
    out.push(['breaking', `${where}: "${name}" ${change}`]);
  }
  const beforeProps = isObject(before['properties']) ? before['properties'] : {};
  const afterProps = isObject(after['properties']) ? after['properties'] : {};
  const beforeRequired = new Set(Array.isArray(before['required']) ? before['required'] : []);
  const afterRequired = Array.isArray(after['required']) ? after['required'] : [];
  for (const [name, schema] of Object.entries(beforeProps)) {
    if (!(name in afterProps)) out.push(['breaking', `${path}${name}: property removed`]);
    else comparePayload(`${path}${name}.`, schema, afterProps[name], out);
  }
  for (const name of Object.keys(afterProps))
    if (!(name in beforeProps))
      out.push(
        afterRequired.includes(name)
          ? ['breaking', `${path}${name}: new required property`]
          : ['compatible', `${path}${name}: new optional property`],
      );
  for (const name of afterRequired)
    if (typeof name === 'string' && name in beforeProps && !beforeRequired.has(name))
      out.push(['breaking', `${path}${name}: now required`]);
}

/**
 * What changed between a previously released AsyncAPI document and the current one, per event
 * (message name). A breaking change to an existing event name (removal, incompatible payload)
 * means it should have been released as a new event version (`….v2`). Pure.
 */
export function diffAsyncApi(previous: Json, current: Json): AsyncApiChange[] {
  const before = messagesOf(previous);
  const after = messagesOf(current);
  const changes: AsyncApiChange[] = [];
  for (const [event, message] of before) {
    const now = after.get(event);
    if (now === undefined) {
      changes.push({ breaking: true, event, change: 'event removed' });
      continue;
    }
    const found: string[][] = [];
    comparePayload('', message['payload'], now['payload'], found);
    for (const [kind, change] of found)
      changes.push({ breaking: kind === 'breaking', event, change: change ?? '' });
  }
  for (const event of after.keys())
    if (!before.has(event)) changes.push({ breaking: false, event, change: 'new event' });
  return changes;
}
