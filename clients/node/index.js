'use strict';
// sessiond for Node.js: the native session, token and JWT commands over your node-redis or
// ioredis connection, an express-session store on them, and middleware for rotating tokens.

const { Sessiond, Reasons } = require('./lib/client');
const { SessiondStore } = require('./lib/store');
const { rotatingSession, DEFAULT_ON_FAILURE } = require('./lib/rotating');
const { migrateFromConnectRedis } = require('./lib/migrate');

module.exports = { Sessiond, Reasons, SessiondStore, rotatingSession, DEFAULT_ON_FAILURE, migrateFromConnectRedis };
