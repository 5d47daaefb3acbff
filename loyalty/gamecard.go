package loyalty

import (
	"slices"

	"github.com/treue/treue/gamification"
)

// tierOf returns the ID and name of the tier of a member with state st in
// program p: the rules' tier, or the program's base tier without tiers.
func tierOf(p Program, st GameState) (string, Text) {
	if p.Rules == nil || len(p.Rules.Tiers) == 0 {
		return "", p.BaseTier
	}
	tiers := p.Rules.Tiers
	i := max(slices.IndexFunc(tiers, func(t gamification.Tier) bool { return t.ID == st.Tier.ID }), 0)
	return tiers[i].ID, gameText(tiers[i].Name)
}

// nextTierOf returns the tier after the member's in p's rules, and false
// at the top or without tiers.
func nextTierOf(p Program, st GameState) (gamification.Tier, bool) {
	if p.Rules == nil || len(p.Rules.Tiers) == 0 {
		return gamification.Tier{}, false
	}
	tiers := p.Rules.Tiers
	i := max(slices.IndexFunc(tiers, func(t gamification.Tier) bool { return t.ID == st.Tier.ID }), 0)
	if i+1 >= len(tiers) {
		return gamification.Tier{}, false
	}
	return tiers[i+1], true
}

// goalsOf returns the card's challenge and stamp card progress from the
// snapshot in st, named by p's rules; goals the rules no longer have are
// left out.
func goalsOf(p Program, st GameState) (challenges, stamps []GoalProgress) {
	if p.Rules == nil {
		return nil, nil
	}
	for _, pr := range st.Progress {
		i := slices.IndexFunc(p.Rules.Challenges, func(c gamification.Challenge) bool { return c.ID == pr.ID })
		if i < 0 {
			continue
		}
		c := p.Rules.Challenges[i]
		challenges = append(challenges, GoalProgress{
			ID: pr.ID, Name: gameText(c.Name), Current: pr.Current, Target: pr.Target,
			Text: gameText(pr.Text), Reward: c.Reward, EndsAt: c.End,
		})
	}
	for _, pr := range st.StampProgress {
		i := slices.IndexFunc(p.Rules.StampCards, func(c gamification.StampCard) bool { return c.ID == pr.ID })
		if i < 0 {
			continue
		}
		stamps = append(stamps, GoalProgress{
			ID: pr.ID, Name: gameText(p.Rules.StampCards[i].Name), Current: pr.Current, Target: pr.Target,
			Text: gameText(pr.Text),
		})
	}
	return challenges, stamps
}
