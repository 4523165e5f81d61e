'use strict';
// node-redis (npm package "redis") 4 and 5 (RESP2) and 6 (RESP3 by default: HELLO 3) against sessiond.
const { clientBasics } = require('../lib/basics');
const { adapters } = require('../lib/clients');

clientBasics(adapters.redis4);
clientBasics(adapters.redis5);
clientBasics(adapters.redis6);
