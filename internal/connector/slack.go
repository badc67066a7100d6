package connector

import (
	"context"
	"encoding/json"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/slack"
)

func slackFunctions() []*Function {
	return []*Function{
		{
			Name: "slack.postMessage", Kind: connection.KindSlack,
			Summary: "Posts a message to a Slack channel: chat.postMessage with the connection's bot token, or its incoming webhook, which decides the channel itself.",
			Args: []Arg{connectionArg,
				{Name: "channel", Type: "string", Doc: "Channel id or name (#security); required with a bot token, ignored by a webhook."},
				{Name: "text", Type: "string", Required: true, Doc: "The message text (Slack mrkdwn); also the notification text when blocks are given."},
				{Name: "blocks", Type: "array", Doc: "Block Kit blocks laying out the message."}},
			Output: []Arg{{Name: "channel", Type: "string", Doc: "The channel id Slack posted to; empty for a webhook."},
				{Name: "ts", Type: "string", Doc: "The message's timestamp, its id in the channel; empty for a webhook."},
				{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				m := slack.Message{Channel: x.str("channel"), Text: x.str("text")}
				if b, ok := x.args["blocks"]; ok && b != nil {
					raw, err := json.Marshal(b)
					if err != nil {
						return nil, argFault(x.fn, argProblem("blocks", "cannot be encoded as JSON"))
					}
					m.Blocks = raw
				}
				if x.conn.SlackWebhook() {
					w, err := x.conn.Webhook(x.opts)
					if err != nil {
						return nil, err
					}
					m.Channel = ""
					if err := w.Post(ctx, m); err != nil {
						return nil, err
					}
					return map[string]any{"channel": "", "ts": ""}, nil
				}
				if m.Channel == "" {
					return nil, argFault(x.fn, argProblem("channel", "required: a connection with a bot token posts to the channel named here"))
				}
				c, err := x.conn.Slack(x.opts)
				if err != nil {
					return nil, err
				}
				p, err := c.PostMessage(ctx, m)
				if err != nil {
					return nil, err
				}
				return map[string]any{"channel": p.Channel, "ts": p.TS}, nil
			},
		},
	}
}
