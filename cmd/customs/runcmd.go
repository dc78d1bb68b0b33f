package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/proxy/ca"
)

var runHelp = help{
	usage: `customs run [--proxy URL] [--isolate] [--config FILE] [--data DIR] -- COMMAND [ARGS...]`,
	about: `Start COMMAND with every convention set so that its traffic goes through a running customs and
trusts its CA: HTTPS_PROXY, HTTP_PROXY and NO_PROXY (both cases), NODE_USE_ENV_PROXY=1,
NODE_EXTRA_CA_CERTS, a NODE_OPTIONS preload that routes fetch and the http(s) agents where
Node ignores NODE_USE_ENV_PROXY (before 22.21), and a bundle of the system roots plus the customs CA (DIR/run-ca-bundle.pem)
for SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, GIT_SSL_CAINFO, AWS_CA_BUNDLE,
GRPC_DEFAULT_SSL_ROOTS_FILE_PATH and DENO_CERT; JAVA_TOOL_OPTIONS gets the proxy properties and
the same roots as a PKCS#12 trust store (DIR/run-truststore.p12, password changeit). The
flows of the process are tagged with a run ID and the command's name (customs flows --run ID);
the tag travels in the proxy user name, after the user's own when the proxy authenticates (the
JVM, which sends credentials only when asked, goes through a loopback relay that adds them). The
exit code is the command's. As root, --isolate runs the command in a network namespace of its own
whose TCP 80 and 443 the firewall sends to customs serve's transparent listener (transparent:
0.0.0.0:PORT, with 10.213.128.0/17 in allow_clients): even a program that ignores every variable
is seen; its flows carry the run's tag too (serve knows the run by the namespace's address).`,
	examples: `customs run -- python3 agent.py
customs run --proxy http://alice:s3cret@customs.corp.example:8080 -- npm test
customs flows --run 9f2c41d07ab3e655`,
}

// nodePreload routes Node's http, https and fetch through the proxy where Node ignores
// NODE_USE_ENV_PROXY (before 22.21 and 24.5).
//
//go:embed preload/customs-run.cjs
var nodePreload []byte

// exitCode carries a child's exit status up to main.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func cmdRun(args []string, stdout, stderr io.Writer) error {
	c := newCommand("run", runHelp, stdout)
	fs := c.fs
	proxyFlag := fs.String("proxy", "", "the proxy, `URL` (http://[user:pass@]host:port; default: the config's listen address)")
	configPath := fs.String("config", "", "config file (listen address, data directory)")
	data := fs.String("data", "", "data directory holding the CA (default ./customs-data)")
	isolated := fs.Bool("isolate", false, "run the command in a network namespace whose TCP 80 and 443 go to customs' transparent listener (root; see the README)")
	dash := -1
	for i, a := range args {
		if a == "--" {
			dash = i
			break
		}
	}
	if dash < 0 {
		if err := c.noArgs(args); err != nil {
			return err
		}
		return usageError{fmt.Errorf("name the command after --; %s", c.hint())}
	}
	if err := c.noArgs(args[:dash]); err != nil {
		return err
	}
	command := args[dash+1:]
	if len(command) == 0 {
		return usageError{fmt.Errorf("name the command after --; %s", c.hint())}
	}
	cfg, err := (&flowFlags{configPath: *configPath, data: *data}).config()
	if err != nil {
		return usageError{err}
	}
	raw := *proxyFlag
	if raw == "" {
		raw = "http://" + dialable(cfg.Listen, "127.0.0.1")
	}
	pu, err := url.Parse(raw)
	if err != nil || pu.Scheme != "http" || pu.Host == "" {
		return usageError{fmt.Errorf("--proxy %q: want http://[user:pass@]host:port", raw)}
	}
	caPath := filepath.Join(cfg.Data, ca.CertFile)
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		return fmt.Errorf("the customs CA %s: %w (customs serve creates it; or customs ca init)", caPath, unwrapPath(err))
	}
	bundle := filepath.Join(cfg.Data, "run-ca-bundle.pem")
	bundlePEM, err := writeBundle(bundle, caPEM)
	if err != nil {
		return err
	}
	trustStore := filepath.Join(cfg.Data, "run-truststore.p12")
	if err := writeTrustStore(trustStore, bundlePEM); err != nil {
		return err
	}

	var id [8]byte
	_, _ = rand.Read(id[:])
	runID := hex.EncodeToString(id[:])
	name := commandName(command[0])
	tag := proxy.RunTagPrefix + runID + "." + name
	user, pass := tag, "x"
	if pu.User != nil {
		p, _ := pu.User.Password()
		user, pass = pu.User.Username()+"+"+tag, p
	}
	pu.User = url.UserPassword(user, pass)
	proxyURL := pu.String()

	env := os.Environ()
	set := func(k, v string) { env = append(env, k+"="+v) }
	noProxy := "localhost,127.0.0.1,::1"
	var iso *isolation
	if *isolated {
		// Everything the command sends to TCP 80 and 443 reaches customs by the firewall:
		// no proxy variable (customs' listener is not reachable from the namespace anyway).
		if iso, err = isolate(cfg, runID); err != nil {
			return err
		}
		defer iso.close()
		if err := iso.tag(cfg.Data, runID, name); err != nil {
			return err
		}
		proxyURL = ""
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		set(k, proxyURL)
	}
	set("NO_PROXY", noProxy)
	set("no_proxy", noProxy)
	set("NODE_USE_ENV_PROXY", "1")
	set("NODE_EXTRA_CA_CERTS", caPath)
	for _, k := range []string{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "AWS_CA_BUNDLE",
		"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "DENO_CERT"} {
		set(k, bundle)
	}
	host, port, _ := net.SplitHostPort(pu.Host)
	if iso == nil && relaySupported {
		// The JVM goes through a relay that adds the run's credentials (see tagRelay).
		relay, err := startTagRelay(pu.Host, user, pass)
		if err != nil {
			return err
		}
		defer relay.close()
		host, port = "127.0.0.1", strconv.Itoa(relay.addr().Port)
	}
	java := fmt.Sprintf("-Dhttps.proxyHost=%s -Dhttps.proxyPort=%s -Dhttp.proxyHost=%s -Dhttp.proxyPort=%s -Dhttp.nonProxyHosts=localhost|127.0.0.1",
		host, port, host, port)
	if iso != nil {
		java = ""
	}
	// The JVM reads no PEM: its trust store is the same roots as a PKCS#12 file.
	java = strings.TrimSpace(java + " " + javaTrustOptions(trustStore))
	if prev := os.Getenv("JAVA_TOOL_OPTIONS"); prev != "" {
		java = prev + " " + java
	}
	set("JAVA_TOOL_OPTIONS", java)
	set("CUSTOMS_RUN", runID)
	preload := filepath.Join(cfg.Data, "run-preload.cjs")
	if err := writeFileAtomic(preload, nodePreload); err != nil {
		return err
	}
	nodeOpts := "--require " + preload
	if prev := os.Getenv("NODE_OPTIONS"); prev != "" {
		nodeOpts = prev + " " + nodeOpts
	}
	if iso == nil {
		set("NODE_OPTIONS", nodeOpts)
	}

	if iso != nil {
		fmt.Fprintf(stderr, "customs run %s: %s isolated, from %s through the transparent listener (customs flows --run %s)\n",
			runID, name, iso.ip, runID)
		command = iso.command(command)
	} else {
		fmt.Fprintf(stderr, "customs run %s: %s through %s (customs flows --run %s)\n", runID, name, pu.Redacted(), runID)
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", command[0], err)
	}
	// Interrupts go to the command, which decides; customs waits for it.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitCode(128 + int(ws.Signal()))
		}
		return exitCode(ee.ExitCode())
	}
	return err
}

// dialable turns a listen address into one a client can dial: a listener on every address
// (an empty or unspecified host) is reached at host.
func dialable(listen, host string) string {
	h, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if a, err := netip.ParseAddr(h); h != "" && (err != nil || !a.IsUnspecified()) {
		return listen
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// commandName is the command's base name as a run tag allows it: letters, digits, '-' and '_'.
func commandName(path string) string {
	var b strings.Builder
	for _, r := range filepath.Base(path) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return "command"
	}
	return b.String()
}

// systemBundles are where Linux distributions, macOS and the BSDs keep the system roots as PEM.
var systemBundles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem", "/usr/local/etc/ssl/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}

// writeBundle writes the system roots plus the customs CA: the variables it is given to replace
// a client's roots, and a client that trusts only customs would fail on every other host. It
// returns what it wrote.
func writeBundle(path string, caPEM []byte) ([]byte, error) {
	var buf bytes.Buffer
	for _, p := range systemBundles {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			buf.Write(b)
			if !bytes.HasSuffix(b, []byte("\n")) {
				buf.WriteByte('\n')
			}
			break
		}
	}
	buf.Write(caPEM)
	return buf.Bytes(), writeFileAtomic(path, buf.Bytes())
}

// writeTrustStore writes the certificates of a PEM bundle as a Java trust store (PKCS#12 with
// Java's trusted-certificate attribute, go-pkcs12). Its encoding is the legacy one (3DES, SHA-1
// MAC) under the well-known password "changeit": every JVM from Java 8 on reads it, and it holds
// public certificates only, so the password protects nothing and is no secret.
func writeTrustStore(path string, bundlePEM []byte) error {
	var entries []pkcs12.TrustStoreEntry
	for rest := bundlePEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if block.Type != "CERTIFICATE" || err != nil {
			continue // a root the Go parser refuses is one the JVM does without
		}
		// Aliases must be unique, or the JVM keeps one certificate per subject.
		entries = append(entries, pkcs12.TrustStoreEntry{Cert: cert, FriendlyName: fmt.Sprintf("%03d %s", len(entries), cert.Subject.CommonName)})
	}
	p12, err := pkcs12.LegacyDES.EncodeTrustStoreEntries(entries, pkcs12.DefaultPassword)
	if err != nil {
		return fmt.Errorf("customs run: the Java trust store: %w", err)
	}
	return writeFileAtomic(path, p12)
}

// javaTrustOptions points the JVM at the trust store. A path with a space cannot be given in
// JAVA_TOOL_OPTIONS, which splits on spaces.
func javaTrustOptions(path string) string {
	if strings.ContainsAny(path, " \t") {
		return ""
	}
	return "-Djavax.net.ssl.trustStore=" + path + " -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=" + pkcs12.DefaultPassword
}

// writeFileAtomic replaces path: a run starting meanwhile reads the old file or the new one.
func writeFileAtomic(path string, b []byte) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("customs run: %w", err)
	}
	return os.Rename(tmp, path)
}
