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

// Campaign is a time-boxed promotion negotiated by the sales team.
type Campaign struct {
	Code       string
	Percent    float64
	StartsAt   time.Time
	EndsAt     time.Time
	MinSeats   int
	Stackable  bool
	Exclusions []string
}

var errExpired = errors.New("pricing: campaign expired")

// bestCampaign picks, among the campaigns valid for the account today, the one that saves the
// most; stackable campaigns add up but never beyond the 35% board-approved ceiling.
func bestCampaign(campaigns []Campaign, account string, seats int, today time.Time) (float64, []string, error) {
	var applicable []Campaign
	for _, c := range campaigns {
		if today.Before(c.StartsAt) || !today.Before(c.EndsAt) {
			continue
		}
		if seats < c.MinSeats || excluded(c, account) {
			continue
		}
		applicable = append(applicable, c)
	}
	if len(applicable) == 0 {
		return 0, nil, errExpired
	}
	sort.Slice(applicable, func(i, j int) bool { return applicable[i].Percent > applicable[j].Percent })
	total := applicable[0].Percent
	codes := []string{applicable[0].Code}
	for _, c := range applicable[1:] {
		if !c.Stackable {
			continue
		}
		total += c.Percent
		codes = append(codes, c.Code)
	}
	return math.Min(total, 0.35), codes, nil
}

func excluded(c Campaign, account string) bool {
	for _, x := range c.Exclusions {
		if x == account {
			return true
		}
	}
	return false
}

// renewalOffer is what account managers may propose ninety days before renewal: a discount
// proportional to the account's expansion over the year, halved for accounts in arrears.
func renewalOffer(lastYearCents, thisYearCents int64, arrearsDays int) (float64, string) {
	if lastYearCents <= 0 {
		return 0, "no history"
	}
	growth := float64(thisYearCents-lastYearCents) / float64(lastYearCents)
	offer := math.Max(0, math.Min(growth/4, 0.15))
	if arrearsDays > 30 {
		offer /= 2
	}
	return offer, fmt.Sprintf("growth %.0f%%, arrears %d days", growth*100, arrearsDays)
}
