-- Rows written before change_log had kind and instance: read them once from the stored frame.
UPDATE `change_log` SET
  `kind` = json_extract(`frame`, '$.type'),
  `instance` = CASE json_extract(`frame`, '$.type')
    WHEN 'added' THEN json_extract(`frame`, '$.instance.name')
    ELSE json_extract(`frame`, '$.instance')
  END
WHERE `instance` = '';
