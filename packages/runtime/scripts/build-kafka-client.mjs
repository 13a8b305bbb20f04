#!/usr/bin/env node
// Builds the native add-on of @confluentinc/kafka-javascript (librdkafka) once per version and
// Node ABI, and keeps it in ~/.cache/trapline/kafka-javascript so later `npm ci`s copy it back.
//
// Why here and not the package's own install script: npm 11 skips dependencies' install scripts
// unless approved, and the package's script would first download a prebuilt binary (no network
// but package registries here) and then build librdkafka statically, whose configure downloads
// zlib and OpenSSL sources. Linked dynamically against the system's libssl, zlib and zstd (Debian:
// libssl-dev zlib1g-dev libzstd-dev, build-essential, python3) the librdkafka source shipped in
// the npm tarball builds offline, against the running Node's headers.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let packageDir;
try {
  packageDir = dirname(require.resolve('@confluentinc/kafka-javascript/package.json'));
} catch {
  console.log('kafka-javascript: not installed, nothing to build');
  process.exit(0);
}
const version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
const addon = join(packageDir, 'build', 'Release', 'confluent-kafka-javascript.node');
const key = `${version}-node-abi${process.versions.modules}-${process.platform}-${process.arch}`;
const cacheRoot = process.env.TRAPLINE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trapline');
const cached = join(cacheRoot, 'kafka-javascript', key);

function loads() {
  try {
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(join(packageDir, 'librdkafka.js'))})`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Keeps the built add-on (and the librdkafka it links to, beside it) for the next install. */
function save() {
  if (existsSync(join(cached, 'Release', 'confluent-kafka-javascript.node'))) return;
  const partial = `${cached}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  cpSync(join(packageDir, 'build', 'Release', 'confluent-kafka-javascript.node'), join(partial, 'Release', 'confluent-kafka-javascript.node'));
  for (const file of readdirSync(join(packageDir, 'build', 'deps')).filter((name) => /\.so(\.\d+)?$/.test(name))) {
    cpSync(join(packageDir, 'build', 'deps', file), join(partial, 'deps', file), { verbatimSymlinks: true });
  }
  rmSync(cached, { recursive: true, force: true });
  renameSync(partial, cached);
}

if (existsSync(addon) && loads()) {
  save();
  process.exit(0);
}

if (existsSync(join(cached, 'Release', 'confluent-kafka-javascript.node'))) {
  for (const part of ['Release', 'deps']) cpSync(join(cached, part), join(packageDir, 'build', part), { recursive: true, verbatimSymlinks: true });
  if (loads()) {
    console.log(`kafka-javascript ${version}: native add-on from ${cached}`);
    process.exit(0);
  }
  console.log(`kafka-javascript ${version}: the cached add-on does not load; building again`);
}

// The toolchain and the libraries librdkafka links to. On Debian, as root, installed when missing
// (as the stack installs PostgreSQL and Redis); otherwise the message says what to install.
const DEBIAN_PACKAGES = { 'libssl-dev': null, 'zlib1g-dev': null, 'libzstd-dev': null, 'build-essential': 'g++', python3: 'python3' };
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const installed = (name) => spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout?.includes('install ok installed');
if (has('dpkg-query')) {
  const missing = Object.entries(DEBIAN_PACKAGES).filter(([name, command]) => (command ? !has(command) : !installed(name))).map(([name]) => name);
  if (missing.length > 0 && process.getuid?.() === 0 && has('apt-get')) {
    console.log(`kafka-javascript: apt-get install ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
  } else if (missing.length > 0) {
    console.error(`kafka-javascript: missing ${missing.join(', ')}: install them (sudo apt-get install -y ${missing.join(' ')}) and run npm ci again`);
    process.exit(1);
  }
}

// node-gyp: npm tells its scripts where its own copy is; otherwise the one beside npm.
const nodeGyp = [process.env.npm_config_node_gyp, process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]
  .find((candidate) => candidate && existsSync(candidate));
if (!nodeGyp) {
  console.error('kafka-javascript: node-gyp not found (run this through npm: npm rebuild or npm ci)');
  process.exit(1);
}
// The running Node's headers (an official build ships them in <prefix>/include/node), never a
// download; a configured nodedir only if its headers are this Node's (here ~/.npmrc may name older ones).
const headersOf = (dir) => {
  try {
    return Number(/#define NODE_MAJOR_VERSION (\d+)/.exec(readFileSync(join(dir, 'include', 'node', 'node_version.h'), 'utf8'))?.[1]) === Number(process.versions.node.split('.')[0]);
  } catch {
    return false;
  }
};
const nodedir = [dirname(dirname(process.execPath)), process.env.npm_config_nodedir].find((dir) => dir && headersOf(dir));
console.log(`kafka-javascript ${version}: building librdkafka and the add-on (a few minutes, once per version and Node ABI)`);
const started = Date.now();
try {
  execFileSync(process.execPath, [nodeGyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], {
    cwd: packageDir,
    stdio: ['ignore', process.env.TRAPLINE_BUILD_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
    // node-gyp takes npm's configured nodedir over its own flag: both name the headers chosen here.
    env: { ...process.env, CKJS_LINKING: 'dynamic', BUILD_LIBRDKAFKA: '1', ...(nodedir ? { npm_config_nodedir: nodedir } : {}) },
  });
} catch (error) {
  console.error(`kafka-javascript: the build failed (${error.message}).\n` +
    'It needs a C/C++ toolchain, python3, make and the development files of OpenSSL, zlib and zstd\n' +
    '(Debian/Ubuntu: apt-get install build-essential python3 libssl-dev zlib1g-dev libzstd-dev).');
  process.exit(1);
}
if (!loads()) {
  console.error('kafka-javascript: built, but the add-on does not load');
  process.exit(1);
}
save();
console.log(`kafka-javascript ${version}: built in ${Math.round((Date.now() - started) / 1000)} s, cached in ${cached}`);
