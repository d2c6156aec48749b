-- Webhooks that ask for their events in order: one delivery at a time, in the order the
-- changes committed; a delivery waiting for its retry holds back the ones after it.
ALTER TABLE webhooks ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE;
-- Copied onto each delivery when the event is fanned out, so the claim (which serves every kind
-- of subscriber) needs no join; changing the setting applies to events fanned out afterwards.
ALTER TABLE webhook_deliveries ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE;
-- The claim asks, for an ordered delivery: is an earlier one of the same subscriber unfinished?
-- Partial: only ordered deliveries still queued.
CREATE INDEX webhook_deliveries_ordered_open
    ON webhook_deliveries(subscriber_kind, subscriber_id, event_id)
    WHERE ordered AND state IN ('pending', 'sending');
