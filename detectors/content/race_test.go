//go:build race

package content

func init() { raceFactor = 10 }
