package rules

import (
	_ "embed"
	"fmt"
	"sync"
)

//go:embed default.yaml
var defaultPack []byte

// DefaultFile is the name the embedded pack goes by in errors and test reports.
const DefaultFile = "default.yaml"

var defaultSet = sync.OnceValue(func() *Set {
	s, err := Parse(DefaultFile, defaultPack)
	if err != nil {
		// The pack is part of the binary and a test loads it: this cannot happen in a build
		// that passed its tests.
		panic(fmt.Sprintf("rules: embedded default pack: %v", err))
	}
	return s
})

// Default returns the embedded default pack: the policies customs applies when the operator
// gives no rule files. It is compiled once.
func Default() *Set {
	return defaultSet()
}

// DefaultSource returns the text of the embedded pack, for `customs rules` to print or to
// start a rule file from.
func DefaultSource() []byte {
	return append([]byte(nil), defaultPack...)
}
