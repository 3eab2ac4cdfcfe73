// Child process for the signal test: serves the fake predictor (slow, to hold a request in
// flight), prints its URL, and closes gracefully on SIGTERM/SIGINT.
import { createServer, closeOnSignals } from '../../src/serve/server.ts';
import { makeFakePredictor } from '../support/fake-predictor.ts';

const running = await createServer(makeFakePredictor({ delayMs: Number(process.argv[2] ?? 500) }), { port: 0 });
closeOnSignals(running, () => {
  console.log('closed');
  process.exit(0);
});
console.log(running.url);
