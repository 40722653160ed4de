//go:build race

package bench

// raceEnabled: the race detector changes allocation counts (sync.Pool
// drops items at random), which TestAllocBudgets allows for.
const raceEnabled = true
