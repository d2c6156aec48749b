-- Webhooks that ask for their events in order: one delivery at a time, in the order the
-- changes committed; a delivery waiting for its retry holds back the ones after it.
ALTER TABLE webhooks ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE;
-- Copied onto each delivery when the event is fanned out, so the claim (which serves every kind
-- of subscriber) needs no join; changing the setting applies to events fanned out afterwards.
-- An ordered subscriber's deliveries behind its earliest open one are in state 'waiting': only
-- that one is 'pending' (or 'sending'), so the claim never looks at the rest, however many.
ALTER TABLE webhook_deliveries ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE;
-- The earliest open delivery of an ordered subscriber (the one whose turn it is).
CREATE INDEX webhook_deliveries_ordered_open
    ON webhook_deliveries(subscriber_kind, subscriber_id, event_id)
    WHERE ordered AND state IN ('waiting', 'pending', 'sending');
-- The one it has pending or in flight.
CREATE INDEX webhook_deliveries_ordered_turn
    ON webhook_deliveries(subscriber_kind, subscriber_id)
    WHERE ordered AND state IN ('pending', 'sending');
