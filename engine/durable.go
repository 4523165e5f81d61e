package engine

// NotifyDurable is the non-blocking form of WaitDurable (see
// persistence.Store.NotifyDurable): it reports true when the write with this
// ticket needs no wait, and otherwise calls fn once, from another goroutine,
// when it is on stable storage.
func (e *Engine) NotifyDurable(ticket uint64, fn func(error)) bool {
	return e.store.NotifyDurable(ticket, fn)
}
