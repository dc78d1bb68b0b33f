package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// The JVM sends proxy credentials only when a proxy asks for them (a 407), and customs asks
// nobody on loopback: a Java program's CONNECTs would carry no run tag. So customs run gives the
// JVM a relay of its own on loopback, which adds the run's Proxy-Authorization to every request
// head it passes on to customs and then relays the bytes as they are (a CONNECT's tunnel, a
// plain request's body and every answer).
type tagRelay struct {
	ln    net.Listener
	proxy string // customs, host:port
	auth  string // the Proxy-Authorization value
	wg    sync.WaitGroup
}

// startTagRelay listens on 127.0.0.1 for the command's JVM; user and pass are the run's proxy
// credentials (the tag, after the operator's own user name).
func startTagRelay(proxyAddr, user, pass string) (*tagRelay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("customs run: the JVM's relay: %w", err)
	}
	r := &tagRelay{ln: ln, proxy: proxyAddr, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

func (r *tagRelay) addr() *net.TCPAddr { return r.ln.Addr().(*net.TCPAddr) }

func (r *tagRelay) close() {
	_ = r.ln.Close()
	r.wg.Wait()
}

func (r *tagRelay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.relay(c)
	}
}

// relay passes one client connection on to customs, a request head at a time. Only the user
// customs run runs as is served: the relay holds the run's proxy credentials (the operator's
// password too, when the proxy authenticates), which no other local user may borrow.
func (r *tagRelay) relay(client net.Conn) {
	defer client.Close()
	if uid, err := peerUID(client); err != nil || uid != os.Getuid() {
		return
	}
	up, err := net.DialTimeout("tcp", r.proxy, 10*time.Second)
	if err != nil {
		_, _ = io.WriteString(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	defer up.Close()
	// Answers go back as they come; requests are read here, head by head.
	answered := make(chan struct{})
	go func() {
		_, _ = io.Copy(client, up)
		close(answered)
		_ = client.Close()
	}()
	br := bufio.NewReader(client)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			break
		}
		req.Header.Set("Proxy-Authorization", r.auth)
		if req.Method == http.MethodConnect {
			// After the head, the tunnel: bytes as they are.
			if err := writeConnect(up, req); err != nil {
				break
			}
			_, _ = io.Copy(up, br)
			break
		}
		if err := req.WriteProxy(up); err != nil {
			break
		}
	}
	if cw, ok := up.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// The client is done sending; its last answer gets a minute to arrive.
	_ = up.SetReadDeadline(time.Now().Add(time.Minute))
	<-answered
}

func writeConnect(w io.Writer, req *http.Request) error {
	if req.Host == "" {
		return errors.New("CONNECT without an authority")
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", req.Host, req.Host)
	req.Header.Del("Host")
	if err := req.Header.Write(bw); err != nil {
		return err
	}
	_, _ = bw.WriteString("\r\n")
	return bw.Flush()
}
