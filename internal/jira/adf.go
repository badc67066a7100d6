package jira

import (
	"encoding/json"
	"strings"
)

// Node is a node of the Atlassian Document Format, the rich-text JSON that
// REST API v3 takes for descriptions and comments.
type Node struct {
	Type    string `json:"type"`
	Version int    `json:"version,omitempty"`
	Text    string `json:"text,omitempty"`
	Content []Node `json:"content,omitempty"`
}

// MarshalJSON writes n, keeping an empty content array on a doc node, which
// ADF requires, while leaving it off text and hard break nodes.
func (n Node) MarshalJSON() ([]byte, error) {
	type plain Node
	if n.Type == "doc" && len(n.Content) == 0 {
		return json.Marshal(struct {
			plain
			Content []Node `json:"content"`
		}{plain(n), []Node{}})
	}
	return json.Marshal(plain(n))
}

// Document turns plain text into an Atlassian document: each block of text
// separated by a blank line becomes a paragraph, and each single newline a
// hard break. ADF forbids empty text nodes, so blank text gives a document
// with no paragraphs.
func Document(text string) Node {
	doc := Node{Type: "doc", Version: 1, Content: []Node{}}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	for _, block := range strings.Split(text, "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		var para []Node
		for _, line := range lines {
			line = strings.TrimRight(line, " \t")
			if line == "" {
				continue
			}
			if len(para) > 0 {
				para = append(para, Node{Type: "hardBreak"})
			}
			para = append(para, Node{Type: "text", Text: line})
		}
		if len(para) > 0 {
			doc.Content = append(doc.Content, Node{Type: "paragraph", Content: para})
		}
	}
	return doc
}
