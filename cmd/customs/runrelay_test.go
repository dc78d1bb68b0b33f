package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The JVM's relay adds the run's credentials to every request head on a connection — plain
// requests one after another on a kept-alive connection, and a CONNECT — and passes bodies and
// answers through as they are.
func TestTagRelay(t *testing.T) {
	var mu sync.Mutex
	var seen []string // method, target and Proxy-Authorization of each head customs got
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
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
			}()
		}
	}()
	r, err := startTagRelay(ln.Addr().String(), "customs-run.0123456789abcdef.java", "x")
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
