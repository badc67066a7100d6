-- No query looks identities up by entity_key: the identity lists page by
-- name or id, filter through vigil_identity_account_filter and find a
-- person's accounts through vigil_identity_account_person, and the open
-- issues of an identity are found from the issue side, through
-- vigil_posture_issue_entity. The two indexes only cost each scan an index
-- entry for every person and account it writes.
DROP INDEX vigil_identity_person_key;
DROP INDEX vigil_identity_account_key;
