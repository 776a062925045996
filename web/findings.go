package web

import (
	"context"
	"encoding/json"
)

// findings answers the findings page. The service has no detections to
// show yet: the page says so rather than showing an empty list that could
// read as "nothing found".
func (c *Console) findings(context.Context, json.RawMessage) (any, error) {
	return map[string]any{"enabled": false, "findings": []any{}}, nil
}
