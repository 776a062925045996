package logsvc

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A flow-log delivery holds the alarms back (Complete) until every capture
// window that can hold a period's records is delivered. The hold used to
// live only in the delivering process, so when that process was killed,
// the next open caught the metric filters up with the events it had stored
// and judged the periods whose late windows were still missing: after a
// rerun delivered them, the alarm's verdict and history differed from a
// clean run's (a minute judged on half its REJECTs).
//
// So metrics.db keeps the hold while a delivery runs: written with the
// first Complete of a process, then with every save of metric data (the
// value it holds may lag the process's latest Complete, which only holds
// back more), and removed when the process closes the data dir. A hold
// found at open was left by a delivery that did not finish: the open
// restores it before catching up, so nothing past it is judged, and says
// so in Warnings. The rerun that delivers the missing windows takes the
// hold over and lifts it when it ends, as a clean run would.

// restoreHold puts a hold left in metrics.db back on the engine. Called by
// restore before the alarms are loaded: nothing is judged here.
func (s *Service) restoreHold(t int64) {
	s.eng.Complete(t)
	what := "no new period"
	if t > 0 {
		what = "no period ending after " + time.UnixMilli(t).UTC().Format(time.RFC3339)
	}
	s.warnings = append(s.warnings, fmt.Sprintf("alarms judge %s: a flow-log delivery into this data dir was interrupted; "+
		"run it again (the same vpcflow pcap or serve) to deliver the missing windows, which lifts this hold", what))
}

// putHold writes the hold this process set, in a save's transaction.
func (s *Service) putHold(tx *bolt.Tx) error {
	if !s.holding {
		return nil
	}
	return tx.Bucket(bState).Put(kHold, binary.BigEndian.AppendUint64(nil, uint64(s.hold)))
}

// releaseHold removes the hold this process set, at Close: it delivered
// all it was going to.
func (s *Service) releaseHold() error {
	if !s.holding { // never set by a read-only Service: Complete refuses it
		return nil
	}
	s.holding = false
	if err := s.flush(func(tx *bolt.Tx) error { return tx.Bucket(bState).Delete(kHold) }); err != nil {
		return fmt.Errorf("logsvc: lift the alarms' hold: %w", err)
	}
	return nil
}
