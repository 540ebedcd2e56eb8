// What the repository's scripts learn from the packages themselves, so adding a package needs
// (almost) no edit outside it. A package's package.json may carry an "omnibus" field:
//
//   "omnibus": {
//     "stageOrder": 10,                       // where its stages run among the packages' (default 100)
//     "testStages": [                          // test stages of `npm test` (scripts/test.mjs)
//       { "name": "rabbitmq", "brokers": ["rabbitmq"], "mocha": ["dist/test/**/*.int.test.js"] }
//     ],
//     "transport": {                           // a transport adapter: adds demo-<name> and docs-<name>
//       "name": "rabbitmq",                    // the registry name (OMNIBUS_TRANSPORT)
//       "brokers": ["rabbitmq"],               // brokers its demo and docs samples need
//       "localEnv": { "OMNIBUS_RABBITMQ_URL": "amqp://…" }  // points it at the local broker
//     }
//   }
//
// mocha globs are relative to the package folder. `workspaceProblems()` lists what a new
// package still has to be wired into by hand (root tsconfig.json references) and fields that are
// malformed; the docs stage fails on any.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every folder under packages/ with a package.json, in stage order (then folder name). */
export function workspacePackages() {
  const dir = path.join(root, 'packages');
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'package.json')))
    .map((entry) => {
      const manifest = JSON.parse(readFileSync(path.join(dir, entry.name, 'package.json'), 'utf8'));
      return {
        dir: `packages/${entry.name}`,
        name: manifest.name,
        manifest,
        omnibus: manifest.omnibus ?? {},
      };
    })
    .sort(
      (a, b) => (a.omnibus.stageOrder ?? 100) - (b.omnibus.stageOrder ?? 100) || a.dir.localeCompare(b.dir),
    );
}

/** The packages' own test stages, with mocha globs made relative to the repository root. */
export function packageTestStages() {
  return workspacePackages().flatMap((pkg) =>
    (pkg.omnibus.testStages ?? []).map((stage) => ({
      name: stage.name,
      brokers: stage.brokers ?? [],
      ...(stage.env === undefined ? {} : { env: stage.env }),
      mocha: stage.mocha.map((glob) => (glob.startsWith('-') ? glob : `${pkg.dir}/${glob}`)),
    })),
  );
}

/** The transport adapters: { name, brokers, localEnv, dir } in stage order. */
export function transportPackages() {
  return workspacePackages()
    .filter((pkg) => pkg.omnibus.transport !== undefined)
    .map((pkg) => ({
      name: pkg.omnibus.transport.name,
      brokers: pkg.omnibus.transport.brokers ?? [],
      localEnv: pkg.omnibus.transport.localEnv ?? {},
      dir: pkg.dir,
    }));
}

/** Wiring a new package still needs by hand, and malformed "omnibus" fields. Empty when all is well. */
export function workspaceProblems() {
  const problems = [];
  const rootConfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  const referenced = new Set((rootConfig.references ?? []).map((r) => path.normalize(r.path)));
  const stageNames = new Set();
  for (const pkg of workspacePackages()) {
    if (existsSync(path.join(root, pkg.dir, 'tsconfig.json')) && !referenced.has(path.normalize(pkg.dir)))
      problems.push(
        `${pkg.dir}: add { "path": "${pkg.dir}" } to the references of the root tsconfig.json (tsc -b builds only what is referenced)`,
      );
    if (!existsSync(path.join(root, pkg.dir, 'src', 'index.ts')))
      problems.push(
        `${pkg.dir}: src/index.ts is missing (the API reference documents each package's src/index.ts)`,
      );
    for (const stage of pkg.omnibus.testStages ?? []) {
      if (typeof stage.name !== 'string' || !Array.isArray(stage.mocha) || stage.mocha.length === 0)
        problems.push(`${pkg.dir}: every omnibus.testStages entry needs a name and a non-empty mocha list`);
      else if (stageNames.has(stage.name))
        problems.push(`${pkg.dir}: test stage "${stage.name}" is declared twice`);
      stageNames.add(stage.name);
    }
    const transport = pkg.omnibus.transport;
    if (pkg.dir.startsWith('packages/transport-') && transport === undefined)
      problems.push(`${pkg.dir}: a transport package declares omnibus.transport { name, brokers, localEnv }`);
    if (transport !== undefined && typeof transport.name !== 'string')
      problems.push(`${pkg.dir}: omnibus.transport.name must be the transport's registry name`);
  }
  return problems;
}
