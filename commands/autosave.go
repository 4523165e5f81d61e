package commands

import (
	"log/slog"
	"time"

	"github.com/sessiond/sessiond/config"
)

// saveRetryDelay is how long after a failed automatic snapshot the rules
// may start another (Redis' CONFIG_BGSAVE_RETRY_DELAY).
const saveRetryDelay = 5 * time.Second

// AutoSave applies the save rules: when one is met (at least Changes writes
// and Seconds elapsed since the last snapshot) it starts a background
// snapshot to dbfilename in dir, as Redis' serverCron does. The server
// calls it about once a second.
func (d *Dispatcher) AutoSave(now time.Time) {
	rules, err := config.SaveRules(d.Config.Get("save"))
	if err != nil || len(rules) == 0 {
		return
	}
	st := d.Engine.Store()
	if st.Saving() {
		return
	}
	if !st.LastSaveOK() && now.Sub(d.lastAutoSave) < saveRetryDelay {
		return
	}
	changes, since := st.Changes(), now.Unix()-st.LastSave()
	for _, r := range rules {
		if changes < r.Changes || since < r.Seconds {
			continue
		}
		path, err := d.snapshotPath()
		if err != nil {
			slog.Warn("save rule met but dbfilename is not usable", "error", err)
			return
		}
		d.lastAutoSave = now
		slog.Info("background saving started by a save rule", "changes", changes, "seconds", since, "rule", r)
		_ = st.SnapshotInBackground(path, nil) // its outcome is logged by the store's OnEvent
		return
	}
}
