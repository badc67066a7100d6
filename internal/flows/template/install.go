package template

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/flows"
)

// FlowsInstaller installs templates with the flows service: it creates the
// folder, then imports the rendered bundle into it, flows off.
type FlowsInstaller struct {
	Flows *flows.Service
	// By names who added the template, for the flows' version history.
	By string
}

var _ Installer = FlowsInstaller{}

// FolderExists tells whether a folder has that name.
func (i FlowsInstaller) FolderExists(ctx context.Context, name string) (bool, error) {
	_, err := i.Flows.Folder(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, flows.ErrNotFound):
		return false, nil
	}
	return false, err
}

// Install creates the folder and imports r's bundle into it. The import is
// one transaction; if it fails the new folder is removed again.
func (i FlowsInstaller) Install(ctx context.Context, folder string, r *Rendered) error {
	f, err := i.Flows.CreateFolder(ctx, folder, r.Bundle.Description)
	if errors.Is(err, flows.ErrExists) {
		return fmt.Errorf("%w: %s", ErrFolderTaken, folder)
	}
	if err != nil {
		return err
	}
	by := i.By
	if by == "" {
		by = "template " + r.Template.Name
	}
	if _, err := i.Flows.Import(ctx, flows.ImportParams{Folder: f.Name, Bundle: r.Bundle, By: by}); err != nil {
		if derr := i.Flows.DeleteFolder(context.WithoutCancel(ctx), f.ID); derr != nil {
			return errors.Join(err, fmt.Errorf("remove the folder %q again: %w", folder, derr))
		}
		return err
	}
	return nil
}
