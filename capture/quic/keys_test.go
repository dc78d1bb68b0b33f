package quic

import (
	"encoding/hex"
	"testing"
)

// TestInitialSecrets holds the key schedule against RFC 9001 Appendix A.1
// (version 1) and RFC 9369 Appendix A.1 (version 2).
func TestInitialSecrets(t *testing.T) {
	tests := []struct {
		name            string
		version         uint32
		side            side
		initial, secret string
		key, iv, hp     string
	}{
		{
			name: "RFC 9001 A.1 client", version: Version1, side: sideClient,
			initial: "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
			secret:  "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
			key:     "1f369613dd76d5467730efcbe3b1a22d",
			iv:      "fa044b2f42a3fd3b46fb255c",
			hp:      "9f50449e04a0e810283a1e9933adedd2",
		},
		{
			name: "RFC 9001 A.1 server", version: Version1, side: sideServer,
			initial: "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
			secret:  "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
			key:     "cf3a5331653c364c88f0f379b6067e37",
			iv:      "0ac1493ca1905853b0bba03e",
			hp:      "c206b8d9b9f0f37644430b490eeaa314",
		},
		{
			name: "RFC 9369 A.1 client", version: Version2, side: sideClient,
			initial: "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
			secret:  "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
			key:     "8b1a0bc121284290a29e0971b5cd045d",
			iv:      "91f73e2351d8fa91660e909f",
			hp:      "45b95e15235d6f45a6b19cbcb0294ba9",
		},
		{
			name: "RFC 9369 A.1 server", version: Version2, side: sideServer,
			initial: "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
			secret:  "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
			key:     "82db637861d55e1d011f19ea71d5d2a7",
			iv:      "dd13c276499c0249d3310652",
			hp:      "edf6d05c83121201b436e16877593c3a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := paramsFor(tt.version)
			if !ok {
				t.Fatalf("no params for %#x", tt.version)
			}
			got, err := deriveSecrets(p, rfcDCID, tt.side)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what string
				got  []byte
				want string
			}{
				{"initial_secret", got.initial, tt.initial},
				{"side secret", got.secret, tt.secret},
				{"key", got.key, tt.key},
				{"iv", got.iv, tt.iv},
				{"hp", got.hp, tt.hp},
			} {
				if h := hex.EncodeToString(c.got); h != c.want {
					t.Errorf("%s = %s, want %s", c.what, h, c.want)
				}
			}
		})
	}
}

func TestParamsForUnknownVersion(t *testing.T) {
	for _, v := range []uint32{0, 2, 0xff00001d, 0x709a50c4, 0x51303530 /* gQUIC Q050 */} {
		if _, ok := paramsFor(v); ok {
			t.Errorf("paramsFor(%#x) claims support", v)
		}
	}
}
