import type { AzureServiceBusOptions } from '../azure-options.js';
import { AdminClientProvisioner } from './admin-client-provisioner.js';
import { EmulatorProvisioner } from './emulator-provisioner.js';
import { NoopProvisioner } from './entity-provisioner.js';
import type { EntityProvisioner } from './entity-provisioner.js';

/** The provisioner selected by the `provisioning` option. Pure (no I/O until used). */
export function createProvisioner(options: AzureServiceBusOptions): EntityProvisioner {
  switch (options.provisioning) {
    case 'emulator':
      return new EmulatorProvisioner(options.emulatorAdminUrl);
    case 'none':
      return new NoopProvisioner();
    default:
      return new AdminClientProvisioner(
        options.connectionString,
        options.provisionMode === 'verify' ? 'verify' : 'create',
      );
  }
}
