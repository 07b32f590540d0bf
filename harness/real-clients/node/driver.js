// Drive eureka-js-client (4.5.0) against a Eureka server.  Our own harness code.
//
// usage: node driver.js HOST PORT SERVICE_PATH TARGET_APP OWN_PORT SECONDS [delta]
//   SERVICE_PATH  e.g. /eureka/apps/  (must end with '/')
//   TARGET_APP    app looked up with client.getInstancesByAppId (no HTTP call to it is made)
//   OWN_PORT      port we register with; the instance id is node-harness:OWN_PORT
//   SECONDS       length of the watch phase
//   delta         optional literal word: set the top-level option shouldUseDelta: true
//
// stdout: one event per line, starting with a keyword (client logging goes to stderr):
//   REGISTERED NODE-HARNESS node-harness:<port>   client.start() called back without error
//   DISCOVERED <APP> <ID> <IP> <PORT> <STATUS>    each cached TARGET_APP instance (UP only: the
//                                                 client caches only UP instances by default)
//   NOT_DISCOVERED <APP>                          no cached TARGET_APP instance
//   SELF UP|ABSENT                                own instance in the client's cache
//   SHUTDOWN                                      client.stop() called back without error
//   SHUTDOWN_FAILED <message>                     client.stop() failed (e.g. DELETE was not 200)
//   START_FAILED <message>                        client.start() failed (e.g. POST was not 204)
// The DISCOVERED/SELF block is printed once a second during the watch phase.
// eureka-js-client has no status-change API, so there are no STATUS_CHANGE lines.
const { Eureka } = require('eureka-js-client');

const args = process.argv.slice(2);
if (args.length < 6) {
  process.stderr.write('usage: node driver.js HOST PORT SERVICE_PATH TARGET_APP OWN_PORT SECONDS [delta]\n');
  process.exit(2);
}
const [host, port, servicePath, targetApp] = args;
const ownPort = Number(args[4]);
const seconds = Number(args[5]);
const useDelta = args[6] === 'delta';
const APP = 'NODE-HARNESS';
const ownId = `node-harness:${ownPort}`;

const out = (...parts) => process.stdout.write(`${parts.join(' ')}\n`);

// the library's default logger writes info/debug to stdout via console.info/console.log
const toStderr = (level) => (...a) => process.stderr.write(
  `[${new Date().toISOString()}] ${level} ${a.map((x) => (x instanceof Error ? x.stack : typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}\n`);
const logger = {
  level: () => 30, debug: () => {}, info: toStderr('INFO'), warn: toStderr('WARN'), error: toStderr('ERROR'),
};
if (process.env.HARNESS_DEBUG) logger.debug = toStderr('DEBUG');

const client = new Eureka({
  logger,
  cwd: __dirname,                      // never pick up a stray eureka-client.yml from the caller's cwd
  shouldUseDelta: useDelta,            // top-level key, NOT under "eureka"
  instance: {
    instanceId: ownId,
    app: APP,
    hostName: '127.0.0.1',
    ipAddr: '127.0.0.1',
    port: { $: ownPort, '@enabled': true },
    vipAddress: 'node-harness',
    statusPageUrl: `http://127.0.0.1:${ownPort}/info`,
    healthCheckUrl: `http://127.0.0.1:${ownPort}/health`,
    homePageUrl: `http://127.0.0.1:${ownPort}/`,
    dataCenterInfo: {
      '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo',
      name: 'MyOwn',
    },
    metadata: { harness: 'node' },
  },
  eureka: {
    host,
    port: Number(port),
    servicePath,                        // e.g. '/eureka/apps/' (must end with '/')
    heartbeatInterval: 1000,
    registryFetchInterval: 1000,
    maxRetries: 1,
    requestRetryDelay: 200,
  },
});

function show() {
  const instances = client.getInstancesByAppId(targetApp);
  if (instances.length === 0) out('NOT_DISCOVERED', targetApp.toUpperCase());
  instances.forEach((i) => out('DISCOVERED', i.app, i.instanceId, i.ipAddr, i.port.$, i.status));
  const mine = (client.cache.app[APP] || []).find((i) => i.instanceId === ownId);
  out('SELF', mine ? mine.status : 'ABSENT');
}

client.start((err) => {
  if (err) {
    out('START_FAILED', String(err.message || err).replace(/\s+/g, ' '));
    process.exit(1);
  }
  out('REGISTERED', APP, ownId);
  let n = 0;
  const timer = setInterval(() => {
    show();
    n += 1;
    if (n < seconds) return;
    clearInterval(timer);
    client.stop((e) => {
      if (e) {
        out('SHUTDOWN_FAILED', String(e.message || e).replace(/\s+/g, ' '));
        process.exit(1);
      }
      out('SHUTDOWN');
      process.exit(0);
    });
  }, 1000);
});
