package catalog

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteCSV writes rows of t as CSV: a header of the column names then
// _id, _createdAt and _updatedAt, and one line per row. Text cells that
// a spreadsheet would take for a formula (starting with =, +, -, @, a tab
// or a carriage return) are prefixed with a single quote.
func WriteCSV(w io.Writer, t *Table, rows []*Row) error {
	cw := csv.NewWriter(w)
	header := make([]string, 0, len(t.Columns)+3)
	for _, c := range t.Columns {
		header = append(header, c.Name)
	}
	header = append(header, RowID, RowCreated, RowUpdated)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	for _, r := range rows {
		obj := r.Object(t)
		for i, c := range t.Columns {
			rec[i] = csvCell(c.Type, obj[c.Name])
		}
		n := len(t.Columns)
		rec[n], rec[n+1], rec[n+2] = r.ID, obj[RowCreated].(string), obj[RowUpdated].(string)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(typ ColumnType, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if typ == ColText && x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
