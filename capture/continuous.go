package capture

import "errors"

// ErrNotReady is what Next of a continuous source (live capture) returns
// when no frame is waiting: not an end, and nothing is lost. The consumer
// asks again later: when the source tells it that frames arrived, or at its
// next look at the clock.
var ErrNotReady = errors.New("capture: no frame ready yet")
