package dsl

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// EncodeYAML writes a YAML node in the layout of Vigil's flow documents:
// two-space indents, as the examples and the templates are written.
func EncodeYAML(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
