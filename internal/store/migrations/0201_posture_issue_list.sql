-- The issue list's order (most severe first, then most recently detected,
-- then id, so that no two issues tie) as indexes: a page of the list, however
-- deep, and a page after or before a key read index entries in order instead
-- of sorting every matching row with its data. One index serves lists of one
-- status (the console lists open issues by default), the other any status.
-- After the order's columns each holds every column the list filters and
-- searches on, so that choosing a page, counting the issues a filter selects
-- and the dashboard's counts read the index alone; only the rows of the page
-- itself are read from the table.
CREATE INDEX vigil_posture_issue_list ON vigil_posture_issue(status, severity_rank DESC, detected_at DESC, id DESC,
    severity, category, product, title, source_id, entity_name, entity_login, tenant);
CREATE INDEX vigil_posture_issue_order ON vigil_posture_issue(severity_rank DESC, detected_at DESC, id DESC,
    status, severity, category, product, title, source_id, entity_name, entity_login, tenant);

-- vigil_posture_issue_list begins as this one did.
DROP INDEX vigil_posture_issue_status;
