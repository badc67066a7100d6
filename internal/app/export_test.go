package app

import (
	"context"
	"time"
)

// RetentionSetting exposes what the services ask at each retention run.
func (a *App) RetentionSetting(key string, given time.Duration) func(context.Context) time.Duration {
	return a.retentionSetting(key, given)
}
