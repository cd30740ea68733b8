package packet

// NewTrackerNoFold returns a Tracker that keeps every connection with its
// full state (never folded into a summary): the reference the folding is
// compared with.
func NewTrackerNoFold() *Tracker {
	t := NewTracker()
	t.noFold = true
	return t
}

// Folded returns how many connections t holds as summaries.
func Folded(t *Tracker) int { return t.sums.n - len(t.live) }

// NewTrackerColliding returns a Tracker whose connection keys all hash
// alike: every lookup after the first goes through the overflow table.
func NewTrackerColliding() *Tracker {
	t := NewTracker()
	t.collide = true
	return t
}
