// Loads the broker plug-ins: every scripts/brokers/plugins/*.mjs (see index.mjs for the shape).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pluginDir = join(dirname(fileURLToPath(import.meta.url)), 'plugins');
const REQUIRED = ['name', 'ports', 'start', 'ready', 'stop'];

/** The plug-ins' broker definitions, by file name order; a malformed one throws, naming the file. */
export async function loadPlugins() {
  if (!existsSync(pluginDir)) return [];
  const files = readdirSync(pluginDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  const definitions = [];
  for (const file of files) {
    const { default: definition } = await import(pathToFileURL(join(pluginDir, file)).href);
    const missing = REQUIRED.filter((key) => definition?.[key] === undefined);
    if (missing.length > 0)
      throw new Error(
        `broker plug-in scripts/brokers/plugins/${file}: its default export lacks ${missing.join(', ')}`,
      );
    definitions.push(definition);
  }
  return definitions;
}
