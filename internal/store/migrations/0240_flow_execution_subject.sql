-- What an execution is about, read from its trigger event when it starts
-- (the issue id and title, the affected user's name and login), so that
-- Flow history can show it and search it. The input itself stays sealed;
-- these fields hold only what the issue list shows in clear already.
-- Helper flows inherit their caller's subject.
ALTER TABLE vigil_flow_execution ADD COLUMN subject_issue TEXT NOT NULL DEFAULT '';
ALTER TABLE vigil_flow_execution ADD COLUMN subject_title TEXT NOT NULL DEFAULT '';
ALTER TABLE vigil_flow_execution ADD COLUMN subject_user TEXT NOT NULL DEFAULT '';
CREATE INDEX vigil_flow_execution_subject_issue ON vigil_flow_execution(subject_issue);
