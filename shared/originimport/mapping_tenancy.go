package originimport

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/frostguard/functions/shared/domain"
)

// The organisation, its subscription and its people (mapping.go lists every table).

// ---------------------------------------------------------------------------
// organizations, subscriptions
// ---------------------------------------------------------------------------

var slugInvalid = regexp.MustCompile(`[^a-z0-9-]+`)

// slugFor is the origin's slug made valid for us (lower case, [a-z0-9-],
// 63 characters).
func slugFor(origin, id string) string {
	s := strings.Trim(slugInvalid.ReplaceAllString(strings.ToLower(strings.TrimSpace(origin)), "-"), "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		s = "org-" + id[:8]
	}
	return s
}

func (p *planner) organization() {
	r := p.org
	name := strings.TrimSpace(r.str("name"))
	if name == "" {
		name = "Organisation " + p.orgID[:8]
		p.problem(Changed, "name_missing", "organizations", p.orgID, "the organisation has no name: imported as "+strconv.Quote(name))
	}
	slug := slugFor(r.str("slug"), p.orgID)
	if slug != r.str("slug") {
		p.problem(Changed, "slug_changed", "organizations", p.orgID, fmt.Sprintf("slug %q is not valid in FrostGuard: imported as %q", r.str("slug"), slug))
	}
	if p.ours.slugTaken {
		taken := slug
		slug = strings.TrimRight(slug[:min(len(slug), 58)], "-") + "-" + p.orgID[:4]
		p.problem(Changed, "slug_taken", "organizations", p.orgID, fmt.Sprintf("slug %q belongs to another FrostGuard organisation: imported as %q", taken, slug))
	}
	tz := r.str("timezone")
	if !domain.IsIANAZone(tz) {
		p.problem(Changed, "timezone_invalid", "organizations", p.orgID, fmt.Sprintf("time zone %q is not an IANA zone: imported as UTC", tz))
		tz = "UTC"
	}
	mode := r.str("compliance_mode")
	if mode != "haccp" {
		mode = "standard"
	}
	sub := p.subscription()
	plan, limit := "starter", 5
	if sub != nil {
		plan = sub["plan"].(string)
	}
	if l, ok := domain.PlanSensorLimit(plan); ok && sub != nil {
		limit = l
	} else if v, ok := r.integer("sensor_limit"); ok && v >= 0 {
		// no subscription, or a hand-set enterprise plan: the origin's limit
		limit = v
	}
	if n := p.activeSensors(); n > limit {
		p.problem(Noted, "over_sensor_limit", "organizations", p.orgID,
			fmt.Sprintf("%d active sensors for a limit of %d (%s): they keep working; adding more is refused until the plan allows it", n, limit, plan))
	}
	customer := any(nil)
	if sub != nil {
		customer = sub["stripe_customer_id"]
		for _, k := range []string{"stripe_customer_id", "stripe_subscription_id"} {
			if c, ok := sub[k].(*string); ok && c != nil && p.ours.customerElsewhere[*c] != "" {
				p.problem(Changed, "stripe_taken", "subscriptions", "", fmt.Sprintf("Stripe id %s belongs to FrostGuard organisation %s: the Stripe ids are not carried", *c, p.ours.customerElsewhere[*c]))
				customer = nil
				sub["stripe_customer_id"], sub["stripe_subscription_id"] = nil, nil
				break
			}
		}
	}
	o := row{"id": p.orgID, "name": name, "slug": slug, "timezone": tz, "temp_unit": p.displayUnit(), "compliance_mode": mode,
		"plan": plan, "sensor_limit": limit, "created_at": r.time("created_at"), "import_state": "importing"}
	if sub != nil {
		o["stripe_customer_id"] = customer
		o["trial_ends_at"] = sub["trial_ends_at"]
	}
	if b := p.ours.billing; b != nil {
		// Stripe has spoken to FrostGuard: its entitlement wins (as for the
		// subscription row, see toSubscriptions)
		o["plan"], o["sensor_limit"], o["stripe_customer_id"], o["trial_ends_at"] = b.plan, b.limit, b.customer, b.trialEnds
	}
	p.add("organizations", toOrganizations, o)
}

// displayUnit is the organisation's display unit: the one most of its live
// units were configured in (the origin had none per organisation; F was its
// default).
func (p *planner) displayUnit() string {
	c, f := 0, 0
	for _, u := range p.units {
		if u.deleted(p.now) != nil {
			continue
		}
		if strings.EqualFold(u.str("temp_unit"), "C") {
			c++
		} else {
			f++
		}
	}
	if c > f {
		return "C"
	}
	return "F"
}

// subscription converts the origin's subscription of the organisation: the
// most recently updated row when there are several (one per organisation is
// only a convention there), a trial without end when there is none (how the
// origin treated such an organisation).
func (p *planner) subscription() row {
	t := p.rep.table("subscriptions", "subscriptions")
	if p.subRow != nil {
		return p.subRow
	}
	subs := append([]record(nil), p.subs...)
	var live []record
	for _, s := range subs {
		if s.time("deleted_at") == nil {
			live = append(live, s)
		}
	}
	t.diff(-int64(len(subs)-len(live)), "soft-deleted in the origin")
	sort.SliceStable(live, func(i, j int) bool {
		a, b := live[i].time("updated_at"), live[j].time("updated_at")
		return a != nil && (b == nil || a.After(*b))
	})
	if len(live) == 0 {
		p.subRow = row{"id": derivedID(p.orgID, "subscription"), "organization_id": p.orgID, "plan": "starter", "status": "trial"}
		t.diff(1, "created: the origin has none (a trial without an end date, as the origin treated it)")
		p.problem(Noted, "no_subscription", "subscriptions", "", "no subscription in the origin: imported as a trial without an end date on the starter plan")
		p.add("subscriptions", toSubscriptions, p.subRow)
		return nil
	}
	if len(live) > 1 {
		t.diff(-int64(len(live)-1), "older rows of the organisation (one per organisation is a convention only in the origin): the most recently updated is kept")
		p.problem(Changed, "subscription_duplicates", "subscriptions", live[0].id("id"),
			fmt.Sprintf("%d subscription rows: the most recently updated is imported", len(live)))
	}
	s := live[0]
	status := s.str("status")
	switch status {
	case "trial", "active", "past_due", "canceled", "paused":
	default:
		p.problem(Changed, "subscription_status", "subscriptions", s.id("id"), fmt.Sprintf("status %q is unknown: imported as incomplete (no access until Stripe says otherwise)", status))
		status = "incomplete"
	}
	plan := s.str("plan")
	switch plan {
	case "starter", "pro", "haccp", "enterprise":
	default:
		p.problem(Changed, "subscription_plan", "subscriptions", s.id("id"), fmt.Sprintf("plan %q is unknown: imported as starter", plan))
		plan = "starter"
	}
	p.subRow = row{"id": s.id("id"), "organization_id": p.orgID, "stripe_subscription_id": s.strp("stripe_subscription_id"),
		"stripe_customer_id": s.strp("stripe_customer_id"), "plan": plan, "status": status,
		"current_period_start": s.time("current_period_start"), "current_period_end": s.time("current_period_end"),
		"canceled_at": s.time("canceled_at"), "trial_ends_at": s.time("trial_ends_at"), "created_at": s.time("created_at")}
	p.add("subscriptions", toSubscriptions, p.subRow)
	return p.subRow
}

// ---------------------------------------------------------------------------
// profiles, user_roles -> users, memberships
// ---------------------------------------------------------------------------

// people converts the organisation's members (user_roles) and every profile
// they or the organisation's rows refer to. The Stack Auth user id is the
// same on both sides: users.subject, so people keep signing in.
func (p *planner) people() {
	tu := p.rep.table("profiles", "users")
	bySubject := map[string]record{}
	for _, pr := range p.profiles {
		subject := pr.id("user_id")
		p.profileUser[pr.id("id")] = subject
		if _, dup := bySubject[subject]; dup {
			tu.diff(-1, "a second profile of the same user")
			continue
		}
		bySubject[subject] = pr
	}
	add := func(subject string, pr record) {
		if _, done := p.userID[subject]; done {
			return
		}
		id := p.ours.users[subject]
		if id == "" {
			id = derivedID("user", subject)
		}
		p.userID[subject] = id
		u := row{"id": id, "subject": subject}
		if pr != nil {
			u["email"] = pr.strp("email")
			u["display_name"] = pr.strp("full_name")
			u["created_at"] = pr.time("created_at")
			if raw := pr.strp("phone"); raw != nil {
				if phone, ok := domain.NormalizePhone(*raw); ok {
					u["phone"] = phone
					if pr.boolean("phone_verified", false) {
						verified := firstTime(pr.time("updated_at"), pr.time("created_at"), &p.now)
						u["phone_verified_at"] = verified
						p.verifiedPhone[id] = verifiedPhone{phone, verified}
					}
				} else {
					p.problem(Changed, "phone_invalid", "profiles", pr.id("id"), fmt.Sprintf("phone %q is not an international number: not imported", *raw))
				}
			}
		} else {
			tu.diff(1, "created for a member the origin has no profile for (e-mail and name come at first sign-in)")
		}
		p.add("profiles", toUsers, u)
	}
	tm := p.rep.table("user_roles", "memberships")
	for _, r := range p.roles {
		subject := r.id("user_id")
		role := r.str("role")
		switch role {
		case "owner", "admin", "manager", "staff", "viewer", "inspector":
		default:
			tm.diff(-1, "role unknown to FrostGuard")
			p.problem(Changed, "role_unknown", "user_roles", r.id("id"), fmt.Sprintf("role %q is unknown: membership not imported", role))
			continue
		}
		add(subject, bySubject[subject])
		p.add("user_roles", toMemberships, row{"id": r.id("id"), "organization_id": p.orgID, "user_id": p.userID[subject], "role": role,
			"status": "active", "accepted_at": r.time("created_at"), "created_at": r.time("created_at")})
	}
	for _, subject := range sortedKeys(bySubject) {
		pr := bySubject[subject]
		if _, member := p.userID[subject]; !member && pr.id("organization_id") == p.orgID {
			p.problem(Noted, "profile_without_role", "profiles", pr.id("id"),
				"a profile without a role in the organisation: imported as a user (its manual logs and acknowledgements keep their author), with no membership")
		}
		if pr.id("organization_id") == p.orgID || p.userID[subject] != "" {
			add(subject, pr)
		} else {
			tu.diff(-1, "profile of another organisation's user, referred to by nobody here")
		}
	}
}

// actor is our user id for an origin profile id (nil when unknown).
func (p *planner) actor(profileID string) any {
	if subject := p.profileUser[profileID]; subject != "" && p.userID[subject] != "" {
		return p.userID[subject]
	}
	return nil
}
