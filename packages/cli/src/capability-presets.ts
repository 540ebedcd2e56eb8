import type { TransportSelection } from '@omnibus/core';

/**
 * Named transport configurations for `omnibus check --against`, each a transport name plus the
 * options that change its capabilities. Placeholders stand in for required connection options:
 * capabilities never depend on them and no connection is made. `name:variant` selects a variant.
 */
export const CAPABILITY_PRESETS: Readonly<Record<string, TransportSelection>> = {
  'in-memory': { name: 'in-memory' },
  rabbitmq: { name: 'rabbitmq' },
  'rabbitmq:classic': { name: 'rabbitmq', options: { queueType: 'classic' } },
  kafka: { name: 'kafka' },
  sqs: { name: 'sqs' },
  'sqs:fifo': { name: 'sqs', options: { fifo: true } },
  'sqs:queues': { name: 'sqs', options: { fanOut: 'none' } },
  'sqs:queues-fifo': { name: 'sqs', options: { fanOut: 'none', fifo: true } },
  azure: {
    name: 'azure',
    options: {
      connectionString: 'Endpoint=sb://placeholder.invalid/;SharedAccessKeyName=check;SharedAccessKey=check',
    },
  },
};

/** The selection for a preset name, or a plain transport name with default options. */
export function presetSelection(name: string): TransportSelection {
  return CAPABILITY_PRESETS[name] ?? { name };
}
