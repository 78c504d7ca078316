-- Hardening: data integrity (issue 9 items 18 and 19) and the WhatsApp send's short transactions (items 11 and 12).
-- Each section is owned by one change; keep them apart so they merge cleanly.

-- section: data integrity (items 18, 19)

-- end of section: data integrity



-- section: whatsapp send (items 11, 12)

-- end of section: whatsapp send
