package main

import (
	"cmp"
	"fmt"
	"io"
	"net"

	"github.com/customs-dev/customs/proxy"
)

var pacHelp = help{
	usage: `customs pac [--config FILE] [--proxy HOST:PORT]`,
	about: `Print the proxy auto-config (PAC) file for the catalog and scope in force: the hosts customs
inspects go to the proxy (no DIRECT fallback: if customs is down, they fail rather than leave
unseen), everything else DIRECT. customs serve also serves it on its admin listener at
/proxy.pac. --proxy names the address clients reach the proxy at (default: the config's listen
address).`,
	examples: `customs pac > proxy.pac
customs pac --config /etc/customs/customs.yaml --proxy customs.corp.example:8080`,
}

func cmdPAC(args []string, stdout, stderr io.Writer) error {
	c := newCommand("pac", pacHelp, stdout)
	fs := c.fs
	configPath := fs.String("config", "", "config file (listen address, vendors, intercept_hosts, never_intercept, intercept mode)")
	addr := fs.String("proxy", "", "the proxy's address as clients reach it, `HOST:PORT` (default: the config's listen address)")
	if err := c.noArgs(args); err != nil {
		return err
	}
	cfg, err := (&flowFlags{configPath: *configPath}).config()
	if err != nil {
		return usageError{err}
	}
	pol, err := loadPolicy(cfg, cfg.Rules)
	if err != nil {
		return err
	}
	if *addr != "" {
		if _, _, err := net.SplitHostPort(*addr); err != nil {
			return usageError{fmt.Errorf("--proxy %q: want HOST:PORT", *addr)}
		}
	}
	scope, err := buildScope(cfg, nil)
	if err != nil {
		return usageError{err}
	}
	_, err = stdout.Write(proxy.PAC(scope, pol.catalog.Vendors(), cmp.Or(*addr, cfg.Listen)))
	return err
}
