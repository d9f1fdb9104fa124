-- Wait estimates learn from the queue's earlier days on the same weekday: what those
-- days said (service times, no-shows and idle time per local hour, as JSON) is worked
-- out once when a day opens and kept with it.
ALTER TABLE queue_days ADD COLUMN history TEXT;

-- Analytics reads a clinic's tokens by time (tokens_by_business_day) and the WhatsApp
-- messages patients sent, by time.
CREATE INDEX whatsapp_inbound_by_time ON whatsapp_inbound (business_id, received_at);
-- The latest written feedback, without reading every token of the range.
CREATE INDEX tokens_with_feedback ON tokens (business_id, created_at) WHERE feedback IS NOT NULL AND feedback <> '';
