-- Hardening: data integrity (issue 9 items 18 and 19) and the WhatsApp send's short transactions (items 11 and 12).
-- Each section is owned by one change; keep them apart so they merge cleanly.

-- section: data integrity (items 18, 19)

-- end of section: data integrity



-- section: whatsapp send (items 11, 12)
--> statement-breakpoint
-- `sending`: the send step claimed the message in a short transaction and calls the provider
-- with none open; an opt-out that commits after the claim reports it in flight.
ALTER TABLE "outbound_messages" DROP CONSTRAINT "outbound_messages__status__check",
  ADD CONSTRAINT "outbound_messages__status__check" CHECK ("outbound_messages"."status" IN ('queued', 'sending', 'sent', 'failed', 'cancelled'));

-- end of section: whatsapp send
