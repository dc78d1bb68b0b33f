package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/customs-dev/customs/proxy/ca"
)

func cmdCA(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "init" && args[0] != "export") {
		return usageError{fmt.Errorf("want \"ca init\" or \"ca export\"")}
	}
	fs := newFlagSet("ca "+args[0], stderr)
	data := fs.String("data", "./customs-data", "data directory holding ca.pem and ca-key.pem")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "init":
		authority, err := ca.Create(*data)
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(stdout, "created %s (key %s, mode 0600)\nsubject: %s\nvalid until: %s\n",
			filepath.Join(*data, ca.CertFile), filepath.Join(*data, ca.KeyFile),
			authority.Cert.Subject, authority.Cert.NotAfter.Format("2006-01-02"))
	case "export":
		authority, err := ca.Load(*data)
		if err != nil {
			return usageError{err}
		}
		_, err = stdout.Write(authority.CertPEM)
		return err
	}
	return nil
}
