package commands

import "fmt"

// Redis' own error words, copied to the letter. Every reply error of the
// server comes from here or from fmt with one of these shapes.
const (
	msgSyntax         = "ERR syntax error"
	msgNotInt         = "ERR value is not an integer or out of range"
	msgNotFloat       = "ERR value is not a valid float"
	msgWrongType      = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNoSuchKey      = "ERR no such key"
	msgNoAuth         = "NOAUTH Authentication required."
	msgWrongPass      = "WRONGPASS invalid username-password pair or user is disabled."
	msgNoPassSet      = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	msgDBIndex        = "ERR DB index is out of range"
	msgInvalidExpire  = "ERR invalid expire time in '%s' command"
	msgOverflow       = "ERR increment or decrement would overflow"
	msgNaN            = "ERR increment would produce NaN or Infinity"
	msgTooLarge       = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	msgOffsetRange    = "ERR offset is out of range"
	msgNested         = "ERR MULTI calls can not be nested"
	msgExecNoMulti    = "ERR EXEC without MULTI"
	msgDiscardNoMulti = "ERR DISCARD without MULTI"
	msgExecAbort      = "EXECABORT Transaction discarded because of previous errors."
	msgWatchInMulti   = "ERR WATCH inside MULTI is not allowed"
	msgMaxClients     = "ERR max number of clients reached"
	msgInternal       = "ERR internal error"
	msgSameObject     = "ERR source and destination objects are the same"
	msgNoProto        = "NOPROTO unsupported protocol version"
	msgCountPositive  = "ERR COUNT must be > 0"
	msgLoading        = "LOADING Redis is loading the dataset in memory"
	msgOnlyOneOf      = "ERR %s and %s options at the same time are not compatible"
	msgSessTokenLen   = "ERR TOKEN must be 22 to 1024 characters"
	msgTokEmpty       = "ERR the token must not be empty"
	msgTokAmount      = "ERR amount is not a valid decimal number"
)

func errWrongArgs(name string) string {
	return fmt.Sprintf("ERR wrong number of arguments for '%s' command", name)
}

func errUnknownSubcommand(sub, parent string) string {
	return fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", sub, parent)
}
