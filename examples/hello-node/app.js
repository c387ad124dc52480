// A tiny Node.js app shipped FROM scratch with the very `node` binary that runs fromscratch.
const os = require('node:os');
const crypto = require('node:crypto');
const digest = crypto.createHash('sha256').update('fromscratch').digest('hex').slice(0, 12);
console.log(`hello from scratch: node ${process.version} on ${os.platform()}/${os.arch()}, sha256 works (${digest})`);
