-- Retention: the prune job finds finished deliveries by state and age, and
-- events that no delivery refers to any more by age, without scanning the
-- whole tables. (Events without deliveries are found through the
-- (event_id, hook_id) unique index of vigil_hook_delivery.)
CREATE INDEX vigil_hook_delivery_prune ON vigil_hook_delivery(status, updated_at);
CREATE INDEX vigil_hook_event_created ON vigil_hook_event(created_at);
