'use strict';
// ioredis 5 (RESP2, INFO ready check) and ioredis 6 (HELLO 3 by default) against sessiond.
const { clientBasics } = require('../lib/basics');
const { adapters } = require('../lib/clients');

clientBasics(adapters.ioredis5);
clientBasics(adapters.ioredis6);
