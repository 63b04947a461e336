// Bench process: the overload load generator, apart from the driver so its own CPU use does not skew the
// health checks. IPC in: { url, connections, prefix, rampMs }, then { stop: true }; out: { ready }, { results, its loop delay }.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { closedLoop } = require('./load');

// The generator's own event-loop delay is part of every latency it measures: report it.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

let stopped = false;
const results = [];
process.on('message', (message) => {
  if (message.stop) {
    stopped = true;
    return;
  }
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  closedLoop({ ...message, shouldStop: () => stopped, onResult: (result) => results.push(result) }).then(() => {
    const c = process.cpuUsage(cpu0);
    process.send({
      results,
      started,
      cpuShare: (c.user + c.system) / 1000 / (Date.now() - started),
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
    });
  });
});
process.send({ ready: true });
