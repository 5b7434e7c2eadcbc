CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`instance_limit` integer NOT NULL,
	`token_hash` text NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_name` ON `accounts` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_token` ON `accounts` (`token_hash`);--> statement-breakpoint
CREATE TABLE `change_log` (
	`account_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`instance_id` integer NOT NULL,
	`at` integer NOT NULL,
	`frame` text NOT NULL,
	PRIMARY KEY(`account_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `change_log_at` ON `change_log` (`at`);--> statement-breakpoint
CREATE TABLE `instance_status` (
	`instance_id` integer PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`since` text NOT NULL,
	`reason` text,
	`display_status` text NOT NULL,
	`retry_at` text,
	`number_jid` text,
	`presence_status` text NOT NULL,
	`profile` text NOT NULL,
	`version` integer NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`instance_id`) REFERENCES `instances`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `instances` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	`api_instance_name` text NOT NULL,
	`token_hash` text NOT NULL,
	`config` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `instances_account_name` ON `instances` (`account_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `instances_api_name` ON `instances` (`api_instance_name`);--> statement-breakpoint
CREATE UNIQUE INDEX `instances_token` ON `instances` (`token_hash`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `wa_creds` (
	`instance_id` integer PRIMARY KEY NOT NULL,
	`creds` text NOT NULL,
	`paired` integer DEFAULT false NOT NULL,
	`auto_start` integer DEFAULT true NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`instance_id`) REFERENCES `instances`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `wa_keys` (
	`instance_id` integer NOT NULL,
	`type` text NOT NULL,
	`id` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`instance_id`, `type`, `id`),
	FOREIGN KEY (`instance_id`) REFERENCES `instances`(`id`) ON UPDATE no action ON DELETE cascade
);
