package web

import (
	"context"
	"encoding/json"

	"github.com/vpcflow/vpcflow/region"
)

// maxFindings caps the findings a page lists (newest activity first).
const maxFindings = 500

// findingView is a finding as the list shows it.
type findingView struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	Severity    float64 `json:"severity"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Interface   string  `json:"interface"`
	FirstSeen   string  `json:"firstSeen"`
	LastSeen    string  `json:"lastSeen"`
	Count       int     `json:"count"`
	Archived    bool    `json:"archived"`
}

// findings lists the service's findings (the GuardDuty API's), current
// ones unless archived is asked for.
func (c *Console) findings(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		Archived bool `json:"archived"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	det := c.deps.Region.Detector()
	out := []findingView{}
	if det.Enabled {
		fs := c.deps.Region.Findings(region.FindingFilter{Archived: &in.Archived})
		// Findings come oldest first: the page wants the newest.
		for i := len(fs) - 1; i >= 0 && len(out) < maxFindings; i-- {
			f := fs[i]
			v := findingView{ID: f.ID, Type: f.Type, Severity: f.Severity, Title: f.Title, Description: f.Description,
				FirstSeen: f.Service.EventFirstSeen, LastSeen: f.Service.EventLastSeen, Count: f.Service.Count,
				Archived: f.Service.Archived}
			if nis := f.Resource.InstanceDetails.NetworkInterfaces; len(nis) > 0 {
				v.Interface = nis[0].NetworkInterfaceID
			}
			out = append(out, v)
		}
	}
	return map[string]any{"enabled": det.Enabled, "detectorId": det.ID, "findings": out}, nil
}

// archiveFindings archives or unarchives findings, as GuardDuty's
// ArchiveFindings and UnarchiveFindings.
func (c *Console) archiveFindings(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		IDs      []string `json:"ids"`
		Archived bool     `json:"archived"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.IDs) == 0 {
		return nil, badRequest("ids: name at least one finding")
	}
	unknown, err := c.deps.Region.ArchiveFindings(in.IDs, in.Archived)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, badRequest("no finding %v: nothing changed", unknown)
	}
	return map[string]any{}, nil
}
