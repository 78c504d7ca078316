-- `delivery_unknown`: a send step resumed after a crash found its message handed to a provider
-- with no answer recorded. It may have been delivered; providers do not deduplicate on our key,
-- so it is not sent again (at most once) and a person decides.
ALTER TABLE "outbound_messages" DROP CONSTRAINT "outbound_messages__status__check",
  ADD CONSTRAINT "outbound_messages__status__check" CHECK ("outbound_messages"."status" IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'delivery_unknown'));
