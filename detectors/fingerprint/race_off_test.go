//go:build !race

package fingerprint

const raceFactor = 1
