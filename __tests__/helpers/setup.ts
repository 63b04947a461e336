// Runs before every test file: no real network, and no secret key in any response or log line.
import nock from 'nock';
import { assertNoSecretLeaked } from './app';

nock.disableNetConnect();
nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost'));

afterEach(() => {
  nock.cleanAll();
  assertNoSecretLeaked();
});

// Every test file loads its own copy of nock, but the http interception is process-wide: hand it
// back at the end of the file so the next file's copy (in the same jest worker) can take over.
afterAll(() => {
  nock.restore();
});
