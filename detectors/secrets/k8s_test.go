package secrets

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestKubernetesSecret: which entries of a Secret manifest are reported, by the manifest's
// shape (documents, block scalars, stringData) and by the entry's name and value.
func TestKubernetesSecret(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	pw, tok := rnd("k8st", a62, 20), rnd("k8st2", a62, 32)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"data", "apiVersion: v1\nkind: Secret\ndata:\n  username: " + b64("admin") + "\n  password: " + b64(pw) + "\n", []string{b64(pw)}},
		{"quoted kind, tabs", "apiVersion: 'v1'\nkind: 'Secret'\ndata:\n\textra: '" + b64(pw) + "'\n", []string{b64(pw)}},
		{"kind after data", "data:\n  token: " + b64(tok) + "\nkind: Secret\n", []string{b64(tok)}},
		{"stringData", "kind: Secret\nstringData:\n  api-token: " + tok + "\n  db_host: db.internal\n", []string{tok}},
		{"block scalar", "kind: Secret\ndata:\n  .dockerconfigjson: |\n    " + b64(`{"auths":{"r.acme.io":{"auth":"`+b64("ci:"+pw)+`"}}}`) + "\nmetadata:\n  name: x\n",
			[]string{b64(`{"auths":{"r.acme.io":{"auth":"` + b64("ci:"+pw) + `"}}}`)}},
		{"second document", "kind: ConfigMap\ndata:\n  password: " + b64(pw) + "\n---\nkind: Secret\ndata:\n  key: " + b64(tok) + "\n", []string{b64(tok)}},
		{"json", `{"apiVersion": "v1", "kind": "Secret", "data": {"username": "` + b64("admin") + `", "password": "` + b64(pw) + `"}, "type": "Opaque"}`, []string{b64(pw)}},
		{"json stringData", `{"kind":"Secret","metadata":{"name":"x"},"stringData":{"extra":"` + tok + `","port":"5432"}}`, []string{tok}},
		// Review: CRLF with a blank line, a comment after data:, a comment after a value,
		// YAML with quoted keys (jsonnet's manifestYamlDoc), a JSON kind line inside YAML.
		{"crlf blank line", "kind: Secret\r\ndata:\r\n  a1: " + b64(pw) + "\r\n\r\n  extra: " + b64(tok) + "\r\n", []string{b64(pw), b64(tok)}},
		{"comment after data:", "kind: Secret\ndata: # base64\n  extra: " + b64(tok) + "\n", []string{b64(tok)}},
		{"comment after value", "kind: Secret\ndata:\n  extra: " + b64(tok) + " # prod\nstringData:\n  other: " + tok + " # prod\n", []string{b64(tok), tok}},
		{"quoted yaml keys", "\"apiVersion\": \"v1\"\n\"kind\": \"Secret\"\n\"data\":\n  \"extra\": \"" + b64(tok) + "\"\n", []string{b64(tok)}},
		{"json annotation first", "metadata:\n  annotations:\n    last: '{\"kind\":\"Secret\"}'\nkind: Secret\ndata:\n  extra: " + b64(tok) + "\n", []string{b64(tok)}},
		{"json escaped value first", `{"kind":"Secret","stringData":{"config.json":"{\"a\":1}","extra":"` + tok + `"}}`, []string{tok}},
		// kubectl sorts data before kind: a large entry first leaves the secret far from the kind line.
		{"large entry first", "apiVersion: v1\ndata:\n  app-config.json: " + b64(strings.Repeat("{\"a\": 1}\n", 1200)) + "\n  signing: " + b64(pw) + "\nkind: Secret\nmetadata:\n  name: x\n",
			[]string{b64(pw)}}, // (the config, prose-like JSON, is no secret by itself)
		// kubectl get cm,secret -o yaml: a List whose items are a ConfigMap and a Secret.
		{"mixed list", "apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    greeting: " + b64("hello world, the whole team") + "\n  kind: ConfigMap\n- apiVersion: v1\n  data:\n    token: " + b64(tok) + "\n  kind: Secret\nkind: List\n",
			[]string{b64(tok)}},
		{"secret then configmap, no separator", "kind: Secret\ndata:\n  token: " + b64(tok) + "\n\nkind: ConfigMap\ndata:\n  note: " + b64("a note for everyone") + "\n",
			[]string{b64(tok)}},
		// Not secrets: other kinds, public and personal entries, short and numeric values.
		{"configmap", "kind: ConfigMap\ndata:\n  password: " + b64(pw) + "\n", nil},
		{"secret store", "kind: SecretStore\ndata:\n  password: " + b64(pw) + "\n", nil},
		{"public names", "kind: Secret\ndata:\n  ca.crt: " + b64(tok) + "\n  db_host: " + b64("db-3.prod.internal") + "\n  card_number: " + b64("5522 1234 2431 4696") + "\n", nil},
		{"short and numbers", "kind: Secret\ndata:\n  pin: " + b64("1234") + "\n  phone: " + b64("+34692108552") + "\n", nil},
		{"inline", "kind: Secret\ndata: {}\n", nil},
		{"flow style", "kind: Secret\ndata: {username: " + b64("admin") + ", extra: \"" + b64(pw) + "\"}\n", []string{b64(pw)}},
		{"json configmap", `{"kind": "ConfigMap", "data": {"password": "` + b64(pw) + `"}}`, nil},
		{"json numbers", `{"kind": "Secret", "data": {"count": 3, "password": "` + b64(pw) + `"}}`, nil},
	}
	d := byID(t, "secret.kubernetes-secret")
	for _, tc := range tests {
		var got []string
		for _, m := range findAll(d, tc.text) {
			got = append(got, tc.text[m.Start:m.End])
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: got %q, want %q", tc.name, got[i], tc.want[i])
			}
		}
	}
}
