//go:build race

package pii

func init() { raceFactor = 10 }
