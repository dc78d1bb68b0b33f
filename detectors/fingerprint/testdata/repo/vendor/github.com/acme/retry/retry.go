// Package retry is a vendored third-party library.
package retry

import "time"

// Do calls f until it succeeds or attempts run out, sleeping between attempts with a
// doubling delay that starts at base: the quokka zebra backoff schedule.
func Do(attempts int, base time.Duration, f func() error) error {
	var err error
	delay := base
	for i := 0; i < attempts; i++ {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(delay)
		delay *= 2
	}
	return err
}
