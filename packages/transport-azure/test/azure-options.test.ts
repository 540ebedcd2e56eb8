import { expect } from 'chai';
import { isOmnibusError, redactOptions } from '@omnibus/core';
import { azureOptionSchema, describeEndpoint, resolveAzureOptions } from '../src/azure-options.js';
import { azureTransport } from '../src/azure-transport-provider.js';
import { AzureServiceBusTransport } from '../src/azure-service-bus-transport.js';

const CONNECTION =
  'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2VjcmV0';

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('azure options', () => {
  it('fills defaults', () => {
    const options = resolveAzureOptions({ connectionString: CONNECTION });
    expect(options.provisioning).to.equal('admin-client');
    expect(options.provisionMode).to.equal('create');
    expect(options.maxMessageSizeBytes).to.equal(262144);
    expect(options.lockDurationMs).to.equal(30000);
    expect(options.maxDeliveryCount).to.equal(10);
    expect(options.prefix).to.equal('');
  });

  it('coerces environment-style strings', () => {
    const options = resolveAzureOptions({
      connectionString: CONNECTION,
      lockDurationMs: '60000',
      provisioning: 'emulator',
    });
    expect(options.lockDurationMs).to.equal(60000);
    expect(options.provisioning).to.equal('emulator');
  });

  it('reports every problem at once, without echoing the key', () => {
    const error = captured(() =>
      resolveAzureOptions({
        connectionString: 'Endpoint=http://x;SharedAccessKey=topsecret',
        provisioning: 'magic',
        lockDurationMs: 1,
        typo: 1,
      }),
    );
    expect(isOmnibusError(error)).to.equal(true);
    const message = (error as Error).message;
    expect((error as { code: string }).code).to.equal('CONFIGURATION_INVALID');
    expect(message).to.contain('azure.provisioning');
    expect(message).to.contain('azure.lockDurationMs');
    expect(message).to.contain('azure.typo');
    expect(message).not.to.contain('topsecret');
  });

  it('checks the connection string shape once the schema passes', () => {
    const error = captured(() =>
      resolveAzureOptions({ connectionString: 'Endpoint=http://x;SharedAccessKey=topsecret' }),
    );
    const message = (error as Error).message;
    expect(message).to.contain('Endpoint=sb://');
    expect(message).to.contain('SharedAccessKeyName');
    expect(message).not.to.contain('topsecret');
  });

  it('accepts the development emulator connection string', () => {
    const emulator =
      'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';
    expect(
      resolveAzureOptions({ connectionString: emulator, provisioning: 'emulator' }).connectionString,
    ).to.equal(emulator);
    expect(describeEndpoint(emulator)).to.equal('127.0.0.1:5673');
  });

  it('an emulator connection string with the default admin-client provisioning fails at once, naming the option', () => {
    const emulator =
      'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';
    const error = captured(() => resolveAzureOptions({ connectionString: emulator }));
    expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
    expect((error as Error).message).to.contain(
      "provisioning: 'emulator' (OMNIBUS_AZURE_PROVISIONING=emulator)",
    );
    expect((error as Error).message).not.to.contain('SAS_KEY_VALUE');
  });

  it('marks the connection string secret for redaction', () => {
    expect(redactOptions(azureOptionSchema, { connectionString: CONNECTION, prefix: 'p.' })).to.deep.equal({
      connectionString: '***',
      prefix: 'p.',
    });
  });

  it('provider creates an unconnected transport named azure with capabilities from its options', () => {
    expect(azureTransport.name).to.equal('azure');
    expect(azureTransport.packageName).to.equal('@omnibus/transport-azure');
    const transport = azureTransport.create({
      connectionString: CONNECTION,
      maxMessageSizeBytes: 1024 * 1024,
    });
    expect(transport).to.be.instanceOf(AzureServiceBusTransport);
    expect(transport.status).to.equal('idle');
    expect(transport.capabilities.maxPayloadBytes).to.equal(1024 * 1024 - 8192);
    expect(transport.capabilities.ordering).to.equal('per-key');
  });

  it('rejects publish and subscribe before connect with a typed error', async () => {
    const transport = new AzureServiceBusTransport({ connectionString: CONNECTION });
    const error = await transport.publish('d', []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code: string }).code).to.equal('BUS_NOT_STARTED');
    await transport.close();
    expect(transport.status).to.equal('closed');
    await transport.close();
  });
});
