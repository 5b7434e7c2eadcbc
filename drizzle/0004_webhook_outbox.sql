CREATE TABLE `webhook_outbox` (
	`pos` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`instance_id` integer NOT NULL,
	`label` text NOT NULL,
	`event` text NOT NULL,
	`epoch` text NOT NULL,
	`seq` integer NOT NULL,
	`version` integer NOT NULL,
	`body` text,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`queued_at` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_attempt_at` integer,
	`last_error` text,
	FOREIGN KEY (`instance_id`) REFERENCES `instances`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_outbox_id` ON `webhook_outbox` (`id`);--> statement-breakpoint
CREATE INDEX `webhook_outbox_hook` ON `webhook_outbox` (`instance_id`,`label`,`status`,`pos`);--> statement-breakpoint
CREATE INDEX `webhook_outbox_instance` ON `webhook_outbox` (`instance_id`,`pos`);