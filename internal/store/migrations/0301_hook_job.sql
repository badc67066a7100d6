-- The River job currently in charge of a delivery, so that maintenance can
-- tell a delivery whose job was lost from one whose job is only waiting in
-- a long queue.
ALTER TABLE vigil_hook_delivery ADD COLUMN job_id BIGINT NOT NULL DEFAULT 0;
