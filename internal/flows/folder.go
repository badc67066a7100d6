package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Folder groups flows and tables.
type Folder struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Flows       int       `json:"flows"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func folderOf(f *store.FlowFolder) *Folder {
	return &Folder{ID: f.ID, Name: f.Name, Description: f.Description, Flows: f.Flows, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

func checkFolderName(name string) error {
	if err := catalog.CheckName(name); err != nil {
		return invalid(fmt.Errorf("folder name: %w", err))
	}
	return nil
}

// Folders lists every folder by name.
func (s *Service) Folders(ctx context.Context) ([]*Folder, error) {
	fs, err := s.st.FlowFolders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	out := make([]*Folder, len(fs))
	for i, f := range fs {
		out[i] = folderOf(f)
	}
	return out, nil
}

// Folder returns a folder by id or, failing that, by name.
func (s *Service) Folder(ctx context.Context, idOrName string) (*Folder, error) {
	f, err := s.st.FlowFolder(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		f, err = s.st.FlowFolderByName(ctx, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, kindErrorf(ErrNotFound, "no folder is called %q", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("read folder %q: %w", idOrName, err)
	}
	return folderOf(f), nil
}

// CreateFolder adds a folder; ErrExists if the name is taken.
func (s *Service) CreateFolder(ctx context.Context, name, description string) (*Folder, error) {
	name = strings.TrimSpace(name)
	if err := checkFolderName(name); err != nil {
		return nil, err
	}
	now := s.now()
	f := &store.FlowFolder{ID: id.NewAt("fld", now), Name: name, Description: description, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateFlowFolder(ctx, f); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, kindErrorf(ErrExists, "a folder called %q exists already", name)
		}
		return nil, fmt.Errorf("create folder %q: %w", name, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "folder.create", Target: folderTarget(f)})
	return folderOf(f), nil
}

// folderTarget names a folder for the audit log.
func folderTarget(f *store.FlowFolder) audit.Target {
	return audit.Target{Kind: "folder", ID: f.ID, Name: f.Name}
}

// ensureFolder returns the folder called name, creating it in tx if needed.
func (s *Service) ensureFolder(ctx context.Context, tx *store.Tx, name string) (*store.FlowFolder, error) {
	f, err := tx.FlowFolderByName(ctx, name)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := checkFolderName(name); err != nil {
		return nil, err
	}
	now := s.now()
	f = &store.FlowFolder{ID: id.NewAt("fld", now), Name: name, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateFlowFolder(ctx, f); err != nil {
		return f, err
	}
	return f, s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: "folder.create", Target: folderTarget(f)})
}

// UpdateFolder renames a folder or changes its description.
func (s *Service) UpdateFolder(ctx context.Context, folderID, name, description string) (*Folder, error) {
	name = strings.TrimSpace(name)
	if err := checkFolderName(name); err != nil {
		return nil, err
	}
	f, err := s.st.FlowFolder(ctx, folderID)
	if err != nil {
		return nil, fmt.Errorf("read folder %s: %w", folderID, err)
	}
	f.Name, f.Description, f.UpdatedAt = name, description, s.now()
	if err := s.st.UpdateFlowFolder(ctx, f); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, kindErrorf(ErrExists, "a folder called %q exists already", name)
		}
		return nil, fmt.Errorf("update folder %s: %w", folderID, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "folder.update", Target: folderTarget(f)})
	return folderOf(f), nil
}

// DeleteFolder deletes an empty folder with its tables. A folder that
// still holds flows is refused.
func (s *Service) DeleteFolder(ctx context.Context, folderID string) error {
	f, err := s.st.FlowFolder(ctx, folderID)
	if err != nil {
		return fmt.Errorf("read folder %s: %w", folderID, err)
	}
	flows, err := s.st.Flows(ctx, store.FlowFilter{FolderID: folderID})
	if err != nil {
		return fmt.Errorf("list the flows of folder %q: %w", f.Name, err)
	}
	if len(flows) > 0 {
		return invalid(fmt.Errorf("folder %q still holds %d flows; delete or move them first", f.Name, len(flows)))
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		tables, err := tx.FlowTables(ctx, folderID)
		if err != nil {
			return err
		}
		for _, t := range tables {
			if err := tx.DeleteFlowTable(ctx, t.ID); err != nil {
				return err
			}
		}
		if err := tx.DeleteFlowFolder(ctx, folderID); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: "folder.delete", Target: folderTarget(f)})
	})
}
