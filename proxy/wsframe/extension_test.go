package wsframe

import "testing"

func TestParseExtensions(t *testing.T) {
	def := Extension{Deflate: true, ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}
	with := func(f func(*Extension)) Extension {
		x := def
		f(&x)
		return x
	}
	tests := []struct {
		name    string
		values  []string
		want    Extension
		wantErr bool
	}{
		{name: "none", values: nil, want: Extension{ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}},
		{name: "empty header", values: []string{""}, want: Extension{ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}},
		{name: "plain", values: []string{"permessage-deflate"}, want: def},
		{name: "letter case", values: []string{"PerMessage-Deflate; Client_No_Context_Takeover"}, want: with(func(x *Extension) { x.ClientNoContextTakeover = true })},
		{name: "all params", values: []string{"permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=10; server_max_window_bits=9"},
			want: Extension{Deflate: true, ClientNoContextTakeover: true, ServerNoContextTakeover: true, ClientMaxWindowBits: 10, ServerMaxWindowBits: 9}},
		{name: "no spaces", values: []string{"permessage-deflate;server_no_context_takeover;server_max_window_bits=8"},
			want: with(func(x *Extension) { x.ServerNoContextTakeover = true; x.ServerMaxWindowBits = 8 })},
		{name: "quoted value", values: []string{`permessage-deflate; client_max_window_bits="12"`}, want: with(func(x *Extension) { x.ClientMaxWindowBits = 12 })},
		{name: "quoted value with an escape", values: []string{`permessage-deflate; client_max_window_bits="1\2"`}, want: with(func(x *Extension) { x.ClientMaxWindowBits = 12 })},
		{name: "spaces around =", values: []string{"permessage-deflate; server_max_window_bits = 11"}, want: with(func(x *Extension) { x.ServerMaxWindowBits = 11 })},
		{name: "client_max_window_bits without a value", values: []string{"permessage-deflate; client_max_window_bits"}, want: def},
		{name: "empty list elements", values: []string{" , permessage-deflate ,, "}, want: def},
		{name: "two header lines, one empty", values: []string{"", "permessage-deflate"}, want: def},

		{name: "another extension", values: []string{"x-webkit-deflate-frame"}, wantErr: true},
		{name: "another extension after deflate", values: []string{"permessage-deflate, foo"}, wantErr: true},
		{name: "another extension on a second line", values: []string{"permessage-deflate", "foo; bar=1"}, wantErr: true},
		{name: "deflate twice", values: []string{"permessage-deflate, permessage-deflate"}, wantErr: true},
		{name: "unknown param", values: []string{"permessage-deflate; foo"}, wantErr: true},
		{name: "param twice", values: []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, wantErr: true},
		{name: "param twice in other case", values: []string{"permessage-deflate; server_max_window_bits=10; SERVER_MAX_WINDOW_BITS=10"}, wantErr: true},
		{name: "value on a flag", values: []string{"permessage-deflate; server_no_context_takeover=1"}, wantErr: true},
		{name: "server_max_window_bits without a value", values: []string{"permessage-deflate; server_max_window_bits"}, wantErr: true},
		{name: "window bits 7", values: []string{"permessage-deflate; server_max_window_bits=7"}, wantErr: true},
		{name: "window bits 16", values: []string{"permessage-deflate; client_max_window_bits=16"}, wantErr: true},
		{name: "window bits with a leading zero", values: []string{"permessage-deflate; client_max_window_bits=09"}, wantErr: true},
		{name: "window bits not a number", values: []string{"permessage-deflate; client_max_window_bits=ab"}, wantErr: true},
		{name: "window bits empty quoted", values: []string{`permessage-deflate; client_max_window_bits=""`}, wantErr: true},
		{name: "unterminated quote", values: []string{`permessage-deflate; client_max_window_bits="12`}, wantErr: true},
		{name: "value on the name", values: []string{"permessage-deflate=1"}, wantErr: true},
		{name: "missing param name", values: []string{"permessage-deflate; ; client_no_context_takeover"}, wantErr: true},
		{name: "junk", values: []string{"permessage-deflate client_no_context_takeover"}, wantErr: true},
		{name: "empty value", values: []string{"permessage-deflate; client_max_window_bits="}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(tt.values)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestTakeover(t *testing.T) {
	tests := []struct {
		ext            Extension
		client, server bool
	}{
		{Extension{}, false, false},
		{Extension{Deflate: true}, true, true},
		{Extension{Deflate: true, ClientNoContextTakeover: true}, false, true},
		{Extension{Deflate: true, ServerNoContextTakeover: true}, true, false},
	}
	for _, tt := range tests {
		if got := tt.ext.Takeover(Client); got != tt.client {
			t.Errorf("%+v Takeover(Client) = %t", tt.ext, got)
		}
		if got := tt.ext.Takeover(Server); got != tt.server {
			t.Errorf("%+v Takeover(Server) = %t", tt.ext, got)
		}
	}
}
