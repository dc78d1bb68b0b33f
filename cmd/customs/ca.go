package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/customs-dev/customs/proxy/ca"
)

func cmdCA(args []string, stdout, stderr io.Writer) error {
	return subcommands("ca", caHelp, args, stdout, map[string]func([]string) error{
		"init":   func(args []string) error { return caInit(args, stdout) },
		"export": func(args []string) error { return caExport(args, stdout) },
	})
}

// caData registers the flags ca's subcommands share and returns the data directory they name.
func caData(c *command) func() (string, error) {
	ff := flowFlags{}
	c.fs.StringVar(&ff.configPath, "config", "", "config file (its data directory)")
	c.fs.StringVar(&ff.data, "data", "", "data directory holding ca.pem and ca-key.pem (default ./customs-data)")
	return func() (string, error) {
		cfg, err := ff.config()
		if err != nil {
			return "", usageError{err}
		}
		return cfg.Data, nil
	}
}

func caInit(args []string, stdout io.Writer) error {
	c := newCommand("ca init", caInitHelp, stdout)
	dataDir := caData(c)
	if err := c.noArgs(args); err != nil {
		return err
	}
	dir, err := dataDir()
	if err != nil {
		return err
	}
	authority, err := ca.Create(dir)
	if err != nil {
		if exists(filepath.Join(dir, ca.CertFile)) || exists(filepath.Join(dir, ca.KeyFile)) {
			// The CA clients already trust is never replaced by accident.
			return usageError{fmt.Errorf("a CA already exists in %s (%s, %s): customs serve uses it and \"customs ca export\" prints it; "+
				"to make a new one, remove both files first (every client must then trust the new %s)", dir, ca.CertFile, ca.KeyFile, ca.CertFile)}
		}
		return usageError{err}
	}
	fmt.Fprintf(stdout, "created %s (key %s, mode 0600)\nsubject: %s\nvalid until: %s\n",
		filepath.Join(dir, ca.CertFile), filepath.Join(dir, ca.KeyFile),
		authority.Cert.Subject, authority.Cert.NotAfter.Format("2006-01-02"))
	return nil
}

func caExport(args []string, stdout io.Writer) error {
	c := newCommand("ca export", caExportHelp, stdout)
	dataDir := caData(c)
	if err := c.noArgs(args); err != nil {
		return err
	}
	dir, err := dataDir()
	if err != nil {
		return err
	}
	authority, err := ca.Load(dir)
	if err != nil {
		if !exists(filepath.Join(dir, ca.CertFile)) {
			return usageError{fmt.Errorf("no CA in %s: \"customs ca init\" (or the first customs serve) creates it", dir)}
		}
		return usageError{err}
	}
	_, err = stdout.Write(authority.CertPEM)
	return err
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}
