package connector

import (
	"context"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/jira"
)

func jiraFunctions() []*Function {
	return []*Function{
		{
			Name: "jira.createIssue", Kind: connection.KindJira,
			Summary: "Creates a Jira Cloud issue (POST /rest/api/3/issue), the description written in the Atlassian Document Format.",
			Args: []Arg{connectionArg,
				{Name: "project", Type: "string", Required: true, Doc: "The project key, such as SEC."},
				{Name: "summary", Type: "string", Required: true, Doc: "The issue's one-line summary."},
				{Name: "description", Type: "string", Doc: "Plain text; blank lines separate paragraphs."},
				{Name: "issueType", Type: "string", Default: "Task", Doc: "The issue type's name. Default Task."},
				{Name: "labels", Type: "strings", Doc: "Labels to set, without spaces."}},
			Output: []Arg{{Name: "id", Type: "string", Doc: "The new issue's id."},
				{Name: "key", Type: "string", Doc: "The new issue's key, such as SEC-42."},
				{Name: "self", Type: "string", Doc: "The new issue's REST URL."},
				{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				in := jira.IssueInput{ProjectKey: x.str("project"), Summary: x.str("summary"),
					IssueType: x.str("issueType"), Description: x.str("description")}
				if l, ok := x.args["labels"].([]any); ok {
					for _, v := range l {
						in.Labels = append(in.Labels, v.(string))
					}
				}
				c, err := x.conn.Jira(x.opts)
				if err != nil {
					return nil, err
				}
				is, err := c.CreateIssue(ctx, in)
				if err != nil {
					return nil, err
				}
				return map[string]any{"id": is.ID, "key": is.Key, "self": is.Self}, nil
			},
		},
	}
}
