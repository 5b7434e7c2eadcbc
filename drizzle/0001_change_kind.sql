ALTER TABLE `change_log` ADD `kind` text DEFAULT 'diff' NOT NULL;--> statement-breakpoint
ALTER TABLE `change_log` ADD `instance` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `instance_status` ADD `event` text;