// Copyright 2026 Acme Payments Ltd. All rights reserved.
// Proprietary and confidential.

package billing

import (
	"errors"
	"fmt"
	"time"
)

// ErrWindowClosed is returned when a refund is asked for after the plan's window.
var ErrWindowClosed = errors.New("billing: refund window closed")

// RefundPolicy decides how much of an invoice comes back to a customer.
type RefundPolicy struct {
	WindowDays        int
	ProrateByUsage    bool
	EnterpriseFloor   float64
	GraceAfterDunning time.Duration
}

// ComputeRefund returns the amount to refund for inv under p, in minor units.
func (p RefundPolicy) ComputeRefund(inv Invoice, usedSeconds, periodSeconds int64, now time.Time) (int64, error) {
	if now.Sub(inv.IssuedAt) > time.Duration(p.WindowDays)*24*time.Hour+p.GraceAfterDunning {
		return 0, ErrWindowClosed
	}
	amount := inv.TotalMinor - inv.CreditsAppliedMinor
	if amount <= 0 {
		return 0, nil
	}
	if p.ProrateByUsage && periodSeconds > 0 {
		unused := periodSeconds - usedSeconds
		if unused < 0 {
			unused = 0
		}
		amount = amount * unused / periodSeconds
	}
	if inv.Tier == "enterprise" {
		floor := int64(float64(inv.TotalMinor) * p.EnterpriseFloor)
		if amount < floor {
			amount = floor
		}
	}
	return amount, nil
}

// Invoice is what the ledger keeps of one bill.
type Invoice struct {
	ID                  string
	Tier                string
	IssuedAt            time.Time
	TotalMinor          int64
	CreditsAppliedMinor int64
}

// ReconcileLedger matches refunds against ledger entries and reports the drift per account.
func ReconcileLedger(entries []LedgerEntry, refunds map[string]int64) (map[string]int64, error) {
	drift := make(map[string]int64)
	seen := make(map[string]bool)
	for _, e := range entries {
		if seen[e.Reference] {
			return nil, fmt.Errorf("ledger: duplicate reference %s for account %s", e.Reference, e.Account)
		}
		seen[e.Reference] = true
		want, ok := refunds[e.Reference]
		if !ok {
			drift[e.Account] += e.AmountMinor
			continue
		}
		if d := e.AmountMinor - want; d != 0 {
			drift[e.Account] += d
		}
	}
	for ref, amount := range refunds {
		if !seen[ref] {
			drift["unmatched:"+ref] -= amount
		}
	}
	return drift, nil
}

// LedgerEntry is one booked movement.
type LedgerEntry struct {
	Reference   string
	Account     string
	AmountMinor int64
}
