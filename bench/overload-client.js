// Bench process: the overload load generator, apart from the driver so its own CPU use does not skew the
// health checks. IPC in: { url, connections, prefix, rampMs }, then { stop: true }; out: { ready }, { results }.
const { closedLoop } = require('./load');

let stopped = false;
const results = [];
process.on('message', (message) => {
  if (message.stop) {
    stopped = true;
    return;
  }
  const started = Date.now();
  closedLoop({ ...message, shouldStop: () => stopped, onResult: (result) => results.push(result) }).then(() => {
    process.send({ results, started });
  });
});
process.send({ ready: true });
