package commands

// CommandsProcessed is the number of commands received since start (or the
// last CONFIG RESETSTAT), as INFO's total_commands_processed.
func (d *Dispatcher) CommandsProcessed() int64 { return d.stats.commands.Load() }
