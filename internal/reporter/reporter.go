// Package reporter carries what a long-running component reports: its log
// lines and its Prometheus metrics, passed in as one dependency.
//
// It exists so every component of the service reports the same way and
// tests can give one a silent reporter, or one whose metrics they read,
// without globals.
package reporter

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Reporter is a logger and a metrics registry.
type Reporter struct {
	*slog.Logger
	metrics *prometheus.Registry
}

// New returns a reporter logging to logger (discarded when nil) with a
// fresh metrics registry.
func New(logger *slog.Logger) *Reporter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Reporter{Logger: logger, metrics: prometheus.NewRegistry()}
}

// Registerer is where components register their metrics.
func (r *Reporter) Registerer() prometheus.Registerer { return r.metrics }

// Gatherer is what /metrics serves.
func (r *Reporter) Gatherer() prometheus.Gatherer { return r.metrics }
