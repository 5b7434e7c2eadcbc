/**
 * @module `npm run demo`: the embedded hub with a dozen flapping simulated numbers;
 * `npm run demo -- --cluster`: nats-server and three simulated cluster nodes on this machine.
 */
if (process.argv.includes('--cluster')) await import('./demo-cluster.js')
else await import('./demo-embedded.js')
