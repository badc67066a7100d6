package source

import (
	"path/filepath"
	"strings"
)

// localFile returns the file p (absolute), with its symbolic links
// resolved, when it lies inside Config.FileDir, and an *InvalidError
// otherwise. It is checked when a source is saved and again each time the
// file is opened, so a link swapped in later cannot lead elsewhere. Its
// errors name the paths only, never anything read from the file.
func (s *Service) localFile(p string) (string, error) {
	if s.cfg.FileDir == "" {
		return "", invalid("file", "No snapshot directory is configured, so no file can be read; start Vigil with --snapshot-dir.")
	}
	dir, err := filepath.Abs(s.cfg.FileDir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return "", invalid("file", "The snapshot directory %s cannot be read; create it and put the file there.", s.cfg.FileDir)
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", invalid("file", "The path %s cannot be made absolute.", p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		// A file that is gone is judged by its directory: opening it then
		// fails as any missing file does.
		parent, perr := filepath.EvalSymlinks(filepath.Dir(p))
		if perr != nil {
			return "", invalid("file", "The file %s cannot be read; give the path of an existing file in %s.", p, dir)
		}
		real = filepath.Join(parent, filepath.Base(p))
	}
	rel, err := filepath.Rel(dir, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", invalid("file", "The file %s is outside the snapshot directory %s; put it there, or start Vigil with --snapshot-dir naming its directory.", p, dir)
	}
	return real, nil
}
