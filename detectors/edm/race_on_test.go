//go:build race

package edm

func init() { raceEnabled = true }
