package dsl

import (
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// noLoader refuses every $ref outside the schema itself: validating data
// must never reach the network or the file system.
type noLoader struct{}

// Load refuses every reference: a schema may only point inside its document.
func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema reference %s is outside the document", url)
}

func compileSchema(s *Schema) error {
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	const loc = "vigil:///inline-schema.json"
	if err := c.AddResource(loc, s.Document); err != nil {
		return err
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return err
	}
	s.compiled = sch
	return nil
}

// Validate checks v against the schema. The error lists what is wrong in
// one sentence per failing keyword.
func (s *Schema) Validate(v any) error {
	if s == nil || s.compiled == nil {
		return nil
	}
	err := s.compiled.Validate(v)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("%s", ve.Error())
	}
	return err
}
