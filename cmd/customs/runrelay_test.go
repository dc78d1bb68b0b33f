package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The JVM's relay adds the run's credentials to every request head on a connection — plain
// requests one after another on a kept-alive connection, and a CONNECT — and passes bodies and
// answers through as they are.
func TestTagRelay(t *testing.T) {
	var mu sync.Mutex
	var seen []string // method, target and Proxy-Authorization of each head customs got
	proxyAddr := fakeProxy(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			mu.Lock()
			seen = append(seen, req.Method+" "+req.RequestURI+" "+req.Header.Get("Proxy-Authorization"))
			mu.Unlock()
			if req.Method == http.MethodConnect {
				_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				_, _ = io.Copy(c, br) // an echo tunnel
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+string(body))
		}
	})
	r, err := startTagRelay(proxyAddr, "customs-run.0123456789abcdef.java", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("customs-run.0123456789abcdef.java:x"))

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: r.addr().String()})}}
	for _, body := range []string{"first", "second"} {
		resp, err := c.Post("http://api.example.test/v1/echo", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != body {
			t.Fatalf("answer %q, want %q", b, body)
		}
	}
	conn, err := net.Dial("tcp", r.addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\ntunnel bytes")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	got := make([]byte, len("tunnel bytes"))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "tunnel bytes" {
		t.Fatalf("tunnel echoed %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || !strings.HasPrefix(seen[0], "POST http://api.example.test/v1/echo ") || !strings.HasPrefix(seen[2], "CONNECT api.example.test:443 ") {
		t.Fatalf("customs saw %q", seen)
	}
	for _, s := range seen {
		if !strings.HasSuffix(s, " "+want) {
			t.Errorf("head without the run's credentials: %q", s)
		}
	}
}

// The relay holds the run's proxy credentials: another local user's connection is closed
// unanswered, and nothing of it reaches customs.
func TestTagRelayOtherUser(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if os.Geteuid() != 0 || err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root with setpriv (util-linux)")
		}
		t.Skip("needs root and setpriv to act as another user")
	}
	var got atomic.Int64
	proxyAddr := fakeProxy(t, func(net.Conn) { got.Add(1) })
	r, err := startTagRelay(proxyAddr, "customs-run.0123456789abcdef.java", "operator-password")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	out, err := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sS", "-m", "10",
		"-x", "http://"+r.addr().String(), "http://api.example.test/").CombinedOutput()
	if err == nil {
		t.Fatalf("a request from another user went through the relay: %s", out)
	}
	if got.Load() != 0 {
		t.Fatal("another user's connection reached customs through the relay")
	}
}

// fakeProxy serves each connection with handle on a loopback port until the test ends, and
// closes it afterwards.
func fakeProxy(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
