package commands

// sinceNative is the sessiond version that introduced the native command
// families (SESS.*, TOK.*, the JWT commands): their "since" in COMMAND DOCS
// and docs/commands.md. Redis' own commands keep the Redis version that
// introduced them, as Redis reports it.
const sinceNative = "0.1.0"
