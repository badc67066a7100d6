-- A deleted flow left its API endpoint (alias and sealed client tokens) and
-- idempotency keys behind; deleting a flow now removes them, and this
-- removes those left by earlier deletions.
DELETE FROM vigil_endpoint WHERE flow_id NOT IN (SELECT id FROM vigil_flow);
DELETE FROM vigil_invoke_key WHERE flow_id NOT IN (SELECT id FROM vigil_flow);
