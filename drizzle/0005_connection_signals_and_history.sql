CREATE TABLE `connection_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`instance_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`display_status` text NOT NULL,
	FOREIGN KEY (`instance_id`) REFERENCES `instances`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `connection_history_instance_at` ON `connection_history` (`instance_id`,`at`);--> statement-breakpoint
ALTER TABLE `instance_status` ADD `synced` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `instance_status` ADD `history_sync` text;--> statement-breakpoint
ALTER TABLE `instance_status` ADD `close_detail` text;