// JVM brokers (Kafka, ElasticMQ): find java, resolve runtime jars from Maven Central with a tiny pom.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, logFile } from './paths.mjs';
import { logLine, run } from './process-utils.mjs';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** java executable: $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH. */
export function javaBin() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

let javaVersionPromise;
/** Major version of javaBin() (e.g. 17); cached. */
export function javaMajor() {
  javaVersionPromise ??= run(javaBin(), ['-version']).then(({ output }) => {
    const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
    if (!m) throw new Error(`cannot parse "java -version" output: ${output}`);
    return m[1] === '1' ? Number(m[2]) : Number(m[1]);
  });
  return javaVersionPromise;
}

export async function requireJava(min) {
  const major = await javaMajor();
  if (major < min) throw new Error(`Java ${min}+ is required, ${javaBin()} is Java ${major} (set JAVA_HOME)`);
  return major;
}

// One mvn at a time in this process: Maven 3.8's local repository (~/.m2) is not safe for
// concurrent writers, and Kafka and ElasticMQ share artifacts (scala-library).
let mavenQueue = Promise.resolve();

/**
 * Ensures `libDir` holds the runtime dependencies of `pom`. Skips Maven entirely when the
 * directory was filled from the same pom before (stamp = sha256 of the pom).
 * Returns true when it had to download/copy.
 */
export async function ensureJars(broker, pom, libDir) {
  const stamp = createHash('sha256').update(readFileSync(pom)).digest('hex');
  const stampFile = join(libDir, '.stamp');
  const fresh = () => existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp;
  if (fresh()) return false;
  const job = mavenQueue.then(async () => {
    if (fresh()) return false;
    const log = logFile(broker);
    const tmp = `${libDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    ensureDir(tmp);
    logLine(log, `resolving runtime jars of ${pom} into ${libDir}`);
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        pom,
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${tmp}`,
      ],
      { log, timeoutMs: 15 * 60_000 },
    );
    if (readdirSync(tmp).filter((f) => f.endsWith('.jar')).length === 0) {
      throw new Error(`mvn copied no jars into ${tmp}`);
    }
    writeFileSync(join(tmp, '.stamp'), `${stamp}\n`);
    rmSync(libDir, { recursive: true, force: true });
    renameSync(tmp, libDir);
    return true;
  });
  mavenQueue = job.catch(() => {});
  return job;
}

/** Version of an artifact as found in a lib dir, e.g. jarVersion(dir, 'kafka_2.13') -> '4.4.0'. */
export function jarVersion(libDir, artifact) {
  try {
    const re = new RegExp(`^${artifact.replace(/\./g, '\\.')}-(\\d[^/]*)\\.jar$`);
    for (const f of readdirSync(libDir)) {
      const m = re.exec(f);
      if (m) return m[1];
    }
  } catch {
    /* not downloaded yet */
  }
  return null;
}

/** A <properties> value from a pom, e.g. pomProperty(pom, 'kafka.version'). */
export function pomProperty(pom, name) {
  try {
    const m = new RegExp(`<${name.replace(/\./g, '\\.')}>([^<]+)</`).exec(readFileSync(pom, 'utf8'));
    return m ? m[1].trim() : null;
  } catch {
    return null;
  }
}
