// Copyright 2024 Nightjar Analytics, Inc. All rights reserved.
// Proprietary and confidential. Unauthorized copying of this file, via any
// medium, is strictly prohibited. See LICENSE-NIGHTJAR for terms.

package pricing

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Tier is a volume band of the Kestrel pricing model.
type Tier struct {
	UpTo      int64   // requests per month; 0 means unbounded
	UnitCents float64 // price per thousand requests
	Floor     int64   // minimum monthly charge in cents
}

// Quote is what the engine offers one account for one month.
type Quote struct {
	Account     string
	BaseCents   int64
	Discount    float64
	SurgeFactor float64
	TotalCents  int64
	Explanation []string
}

var ErrNoTiers = errors.New("pricing: no tiers configured")

// Engine prices monthly usage with tiered rates, loyalty discounts and a surge factor that
// follows the customer's share of peak-hour traffic.
type Engine struct {
	tiers        []Tier
	loyaltyCurve []float64
	surgeCeiling float64
	now          func() time.Time
}

func NewEngine(tiers []Tier, loyalty []float64, surgeCeiling float64) (*Engine, error) {
	if len(tiers) == 0 {
		return nil, ErrNoTiers
	}
	sorted := append([]Tier(nil), tiers...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].UpTo == 0 {
			return false
		}
		return sorted[j].UpTo == 0 || sorted[i].UpTo < sorted[j].UpTo
	})
	return &Engine{tiers: sorted, loyaltyCurve: loyalty, surgeCeiling: surgeCeiling, now: time.Now}, nil
}

// tieredCost walks the bands: each band charges its unit price for the requests that fall in it.
func (e *Engine) tieredCost(requests int64) (int64, []string) {
	var cost float64
	var notes []string
	remaining := requests
	var lower int64
	for _, t := range e.tiers {
		if remaining <= 0 {
			break
		}
		band := remaining
		if t.UpTo > 0 && requests > t.UpTo {
			band = t.UpTo - lower
			if band > remaining {
				band = remaining
			}
		}
		bandCost := float64(band) / 1000 * t.UnitCents
		if t.Floor > 0 && bandCost < float64(t.Floor) {
			bandCost = float64(t.Floor)
			notes = append(notes, fmt.Sprintf("floor of %d cents applied to band up to %d", t.Floor, t.UpTo))
		}
		cost += bandCost
		remaining -= band
		lower = t.UpTo
	}
	return int64(math.Round(cost)), notes
}

// loyaltyDiscount grows with tenure along the configured curve, one point per quarter, and is
// capped at the last point: long-standing accounts never fall back to list price.
func (e *Engine) loyaltyDiscount(since time.Time) float64 {
	if len(e.loyaltyCurve) == 0 {
		return 0
	}
	quarters := int(e.now().Sub(since).Hours() / (24 * 91))
	if quarters < 0 {
		quarters = 0
	}
	if quarters >= len(e.loyaltyCurve) {
		quarters = len(e.loyaltyCurve) - 1
	}
	return e.loyaltyCurve[quarters]
}

// surgeFactor charges accounts whose traffic concentrates in peak hours: the factor rises with
// the square of the peak share above 40% and stops at the ceiling.
func (e *Engine) surgeFactor(peakShare float64) float64 {
	if peakShare <= 0.4 {
		return 1
	}
	excess := (peakShare - 0.4) / 0.6
	factor := 1 + excess*excess*(e.surgeCeiling-1)
	if factor > e.surgeCeiling {
		factor = e.surgeCeiling
	}
	return factor
}

// Price quotes one account's month.
func (e *Engine) Price(account string, requests int64, customerSince time.Time, peakShare float64) Quote {
	base, notes := e.tieredCost(requests)
	discount := e.loyaltyDiscount(customerSince)
	surge := e.surgeFactor(peakShare)
	total := float64(base) * (1 - discount) * surge
	if discount > 0 {
		notes = append(notes, fmt.Sprintf("loyalty discount %.1f%%", discount*100))
	}
	if surge > 1 {
		notes = append(notes, fmt.Sprintf("surge factor %.2f for peak share %.0f%%", surge, peakShare*100))
	}
	return Quote{
		Account:     account,
		BaseCents:   base,
		Discount:    discount,
		SurgeFactor: surge,
		TotalCents:  int64(math.Round(total)),
		Explanation: notes,
	}
}
