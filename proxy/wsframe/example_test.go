package wsframe_test

import (
	"fmt"

	"github.com/customs-dev/customs/proxy/wsframe"
)

// A Reader for what a server sent with permessage-deflate: RFC 7692's "Hello", compressed, then
// again referring back to the first, fed in two pieces that split a frame.
func ExampleReader() {
	ext, err := wsframe.ParseExtensions([]string{"permessage-deflate"})
	if err != nil {
		panic(err)
	}
	r := wsframe.NewReader(wsframe.Server, ext, wsframe.Limits{})
	stream := []byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00}
	for _, part := range [][]byte{stream[:12], stream[12:]} {
		if err := r.Feed(part); err != nil {
			panic(err)
		}
		for m, ok := r.Next(); ok; m, ok = r.Next() {
			fmt.Printf("op %d compressed %t %q (%d bytes on the wire)\n", m.Opcode, m.Compressed, m.Payload, len(m.Raw))
		}
		fmt.Println("at a frame boundary:", r.AtBoundary())
	}
	// Output:
	// op 1 compressed true "Hello" (9 bytes on the wire)
	// at a frame boundary: false
	// op 1 compressed true "Hello" (7 bytes on the wire)
	// at a frame boundary: true
}

// The proxy refuses a message by closing both sides with a close frame of its own.
func ExampleCloseFrame() {
	fmt.Printf("% x\n", wsframe.CloseFrame(wsframe.Server, 1008, "blocked by policy"))
	// Output:
	// 88 13 03 f0 62 6c 6f 63 6b 65 64 20 62 79 20 70 6f 6c 69 63 79
}
