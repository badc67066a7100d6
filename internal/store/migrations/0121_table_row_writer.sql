-- The flow and execution that added each row of a table, so a table page
-- can say which run wrote a row. Rows from before this step have neither.
ALTER TABLE vigil_flow_table_row ADD COLUMN flow_id TEXT NOT NULL DEFAULT '';
ALTER TABLE vigil_flow_table_row ADD COLUMN execution_id TEXT NOT NULL DEFAULT '';
