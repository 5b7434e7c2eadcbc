ALTER TABLE `accounts` ADD `seq_reserved` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `accounts` ADD `epoch_seq` integer DEFAULT 0 NOT NULL;